// Internal to the SGEMM: the panel packers of gemm_kernels.h's layouts, for a compile-time register tile.
// Plain C++ loops with constant inner trip counts, always inlined: each level's file wraps them in functions
// with its target attribute, so that they are vectorised for that instruction set.
#pragma once

#include <algorithm>
#include <cstdint>

namespace edgeai::cpu::gemm_internal {

#define EDGEAI_GEMM_INLINE inline __attribute__((always_inline))

template <int MR>
EDGEAI_GEMM_INLINE void PackAPanels(bool trans, const float* src, int64_t ld, int64_t mb, int64_t kb, float* dst) {
  for (int64_t i0 = 0; i0 < mb; i0 += MR, dst += MR * kb) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, mb - i0));
    if (trans) {
      // A stored K x M: each k reads `rows` consecutive floats.
      for (int64_t k = 0; k < kb; ++k) {
        const float* s = src + k * ld + i0;
        float* d = dst + k * MR;
        for (int i = 0; i < rows; ++i) d[i] = s[i];
        for (int i = rows; i < MR; ++i) d[i] = 0.0f;
      }
      continue;
    }
    // A stored M x K: rows are read contiguously, in chunks of 8 k so the writes stay within a few lines.
    const float* s = src + i0 * ld;
    int64_t k0 = 0;
    if (rows == MR) {
      for (; k0 + 8 <= kb; k0 += 8) {
        for (int i = 0; i < MR; ++i) {
          for (int k = 0; k < 8; ++k) dst[(k0 + k) * MR + i] = s[i * ld + k0 + k];
        }
      }
    }
    for (int i = 0; i < MR; ++i) {
      for (int64_t k = k0; k < kb; ++k) dst[k * MR + i] = i < rows ? s[i * ld + k] : 0.0f;
    }
  }
}

template <int NR>
EDGEAI_GEMM_INLINE void PackBPanels(bool trans, const float* src, int64_t ld, int64_t kb, int64_t nb, float* dst) {
  const int64_t full = nb / NR;  // whole panels
  const int tail = static_cast<int>(nb - full * NR);
  if (!trans) {
    // Row by row, so that B is read sequentially (a panel at a time would touch one page per row).
    for (int64_t k = 0; k < kb; ++k) {
      const float* s = src + k * ld;
      float* d = dst + k * NR;
      for (int64_t p = 0; p < full; ++p, s += NR, d += NR * kb) {
        for (int j = 0; j < NR; ++j) d[j] = s[j];
      }
      if (tail > 0) {
        for (int j = 0; j < NR; ++j) d[j] = j < tail ? s[j] : 0.0f;
      }
    }
    return;
  }
  // B stored N x K: column j of a panel is row j of B.
  for (int64_t j0 = 0; j0 < nb; j0 += NR, dst += NR * kb) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nb - j0));
    for (int j = 0; j < cols; ++j) {
      const float* s = src + (j0 + j) * ld;
      for (int64_t k = 0; k < kb; ++k) dst[k * NR + j] = s[k];
    }
    for (int j = cols; j < NR; ++j) {
      for (int64_t k = 0; k < kb; ++k) dst[k * NR + j] = 0.0f;
    }
  }
}

// c[0, n) clamped to [lo, hi]; NaN stays NaN.
EDGEAI_GEMM_INLINE void ClampRow(float* c, int64_t n, float lo, float hi) {
  for (int64_t j = 0; j < n; ++j) {
    const float v = c[j];
    c[j] = v < lo ? lo : (v > hi ? hi : v);
  }
}

// C = alpha * value + beta * C, where beta == 0 ignores C.
EDGEAI_GEMM_INLINE void StoreScaled(float value, float alpha, float beta, float* c) {
  *c = beta == 0.0f ? alpha * value : alpha * value + beta * *c;
}

}  // namespace edgeai::cpu::gemm_internal
