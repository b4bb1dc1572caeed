// AVX2+FMA SGEMM micro-kernels: an MR x NR = 6 x 16 register tile (12 ymm accumulators, two for the B row, one
// broadcast of A), plus every smaller tile for the edges (fewer rows; one vector when at most 8 columns remain;
// masked loads and stores for a partial last vector).
#include "backend/cpu/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <array>
#include <utility>

#include "backend/cpu/gemm_pack.h"

#define EDGEAI_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace edgeai::cpu::gemm_internal {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;
constexpr int kVectors = kNr / 8;
static_assert(kMr * kNr <= kMaxTileFloats);

template <int R, int V, bool kMaskB>
EDGEAI_TARGET_AVX2 void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                             int cols, const TileStore& st) {
  const int tail = cols - 8 * (V - 1);  // 1..8 columns in the last vector
  const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 acc[R][V];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kb; ++k, a += kMr, b += ldb) {
    __m256 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      bv[v] = kMaskB && v == V - 1 ? _mm256_maskload_ps(b + 8 * v, last) : _mm256_loadu_ps(b + 8 * v);
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  const __m256 va = _mm256_set1_ps(st.alpha);
  const __m256 vb = _mm256_set1_ps(st.beta);
  const __m256 lo = _mm256_set1_ps(st.lo);
  const __m256 hi = _mm256_set1_ps(st.hi);
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m256 r = _mm256_mul_ps(acc[i][v], va);
      if (st.bias != nullptr) r = _mm256_add_ps(r, _mm256_set1_ps(st.bias[i]));
      const bool whole = v < V - 1 || tail == 8;
      if (st.col_bias != nullptr) {
        r = _mm256_add_ps(r, whole ? _mm256_loadu_ps(st.col_bias + 8 * v) : _mm256_maskload_ps(st.col_bias + 8 * v, last));
      }
      if (st.beta != 0.0f) {
        const __m256 old = whole ? _mm256_loadu_ps(cr + 8 * v) : _mm256_maskload_ps(cr + 8 * v, last);
        r = _mm256_fmadd_ps(old, vb, r);
      }
      // max/min return their second operand when either is NaN: a NaN result stays NaN.
      if (st.clamp) r = _mm256_min_ps(hi, _mm256_max_ps(lo, r));
      if (whole) {
        _mm256_storeu_ps(cr + 8 * v, r);
      } else {
        _mm256_maskstore_ps(cr + 8 * v, last, r);
      }
    }
  }
}

EDGEAI_TARGET_AVX2 void PackA(bool trans, const float* src, int64_t ld, int64_t mb, int64_t kb, float* dst) {
  PackAPanels<kMr>(trans, src, ld, mb, kb, dst);
}
EDGEAI_TARGET_AVX2 void PackB(bool trans, const float* src, int64_t ld, int64_t kb, int64_t nb, float* dst) {
  PackBPanels<kNr>(trans, src, ld, kb, nb, dst);
}

EDGEAI_TARGET_AVX2 float SumLanes(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Rows j..j+R-1 of B against each row of A, R dot products at a time (A's row is loaded once for all R).
template <int R>
EDGEAI_TARGET_AVX2 void DotGroup(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                                 float* c, int64_t ldc, float alpha, float beta) {
  const int64_t kv = k / 8 * 8;
  const __m256i tail =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k - kv)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int64_t i = 0; i < m; ++i, a += lda, c += ldc) {
    __m256 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < kv; kk += 8) {
      const __m256 av = _mm256_loadu_ps(a + kk);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + r * ldb + kk), acc[r]);
    }
    if (kv < k) {
      const __m256 av = _mm256_maskload_ps(a + kv, tail);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(av, _mm256_maskload_ps(b + r * ldb + kv, tail), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) StoreScaled(SumLanes(acc[r]), alpha, beta, c + r);
  }
}

void DotRows(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, float alpha, float beta) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) DotGroup<4>(m, k, a, lda, b + j * ldb, ldb, c + j, ldc, alpha, beta);
  for (; j < n; ++j) DotGroup<1>(m, k, a, lda, b + j * ldb, ldb, c + j, ldc, alpha, beta);
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, const TileStore&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> MakeTiles(std::index_sequence<I...>) {
  return {&Tile<static_cast<int>(I / (2 * kVectors)) + 1, static_cast<int>(I / 2 % kVectors) + 1, (I % 2) == 1>...};
}
constexpr std::array<TileFn, kMr * kVectors * 2> kTiles = MakeTiles(std::make_index_sequence<kMr * kVectors * 2>());

void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int rows,
            int cols, const TileStore& st) {
  const int masked = !padded && cols % 8 != 0;
  kTiles[((rows - 1) * kVectors + (cols + 7) / 8 - 1) * 2 + masked](kb, a, b, ldb, c, ldc, cols, st);
}

}  // namespace

const KernelSet* Avx2KernelSet() {
  static const KernelSet set{"avx2", kMr, kNr, /*vec=*/8, /*kc=*/256, /*mc=*/kMr * 16, /*nc=*/kNr * 32,
                             Kernel, PackA, PackB, DotRows, /*packed_rows=*/nullptr,
                             /*store_transposed=*/nullptr};
  return &set;
}

}  // namespace edgeai::cpu::gemm_internal

#else

namespace edgeai::cpu::gemm_internal {
const KernelSet* Avx2KernelSet() { return nullptr; }
}  // namespace edgeai::cpu::gemm_internal

#endif
