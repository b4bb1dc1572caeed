// AVX-512 SGEMM micro-kernels: an MR x NR register tile of zmm accumulators, plus every smaller tile for the
// edges (fewer rows; fewer vectors when fewer columns remain; masked loads and stores for a partial last vector).
#include "backend/cpu/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "backend/cpu/gemm_pack.h"

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace edgeai::cpu::gemm_internal {
namespace {

template <int MR, int NR, int R, int V, bool kMaskB>
EDGEAI_TARGET_AVX512 void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                               int cols, float alpha, float beta) {
  const int tail = cols - 16 * (V - 1);  // 1..16 columns in the last vector
  const __mmask16 last = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kb; ++k, a += MR, b += ldb) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      bv[v] = kMaskB && v == V - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 mask = v == V - 1 ? last : static_cast<__mmask16>(0xFFFF);
      __m512 r = _mm512_mul_ps(acc[i][v], va);
      if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, cr + 16 * v), vb, r);
      _mm512_mask_storeu_ps(cr + 16 * v, mask, r);
    }
  }
}

template <int MR, int NV>
struct Tiles {
  using Fn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, float, float);
  template <size_t... I>
  static constexpr std::array<Fn, sizeof...(I)> Make(std::index_sequence<I...>) {
    return {&Tile<MR, NV * 16, static_cast<int>(I / (2 * NV)) + 1, static_cast<int>(I / 2 % NV) + 1,
                  (I % 2) == 1>...};
  }
  static constexpr std::array<Fn, MR * NV * 2> kTable = Make(std::make_index_sequence<MR * NV * 2>());

  static void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc,
                     int rows, int cols, float alpha, float beta) {
    const int masked = !padded && cols % 16 != 0;
    kTable[((rows - 1) * NV + (cols + 15) / 16 - 1) * 2 + masked](kb, a, b, ldb, c, ldc, cols, alpha, beta);
  }

  static const KernelSet* Set(int64_t kc, int64_t mc_panels, int64_t nc_panels) {
    static const KernelSet set{"avx512", MR, NV * 16, kc, MR * mc_panels, NV * 16 * nc_panels,
                               Kernel, PackAPanels<MR>, PackBPanels<NV * 16>,
                               PackBRow<NV * 16>};
    return &set;
  }
};

}  // namespace

const KernelSet* Avx512KernelSet() {
  static const KernelSet* set = [] {
    const char* tile = std::getenv("EDGEAI_GEMM_TILE");  // TEMP: tuning experiments
    const char* t = tile ? tile : "14x32";
    if (!std::strcmp(t, "16x16")) return Tiles<16, 1>::Set(256, 8, 32);
    if (!std::strcmp(t, "8x48")) return Tiles<8, 3>::Set(256, 16, 11);
    if (!std::strcmp(t, "12x32")) return Tiles<12, 2>::Set(256, 12, 16);
    if (!std::strcmp(t, "8x32")) return Tiles<8, 2>::Set(256, 16, 16);
    if (!std::strcmp(t, "24x16")) return Tiles<24, 1>::Set(256, 6, 32);
    return Tiles<14, 2>::Set(256, 12, 16);
  }();
  return set;
}

}  // namespace edgeai::cpu::gemm_internal

#else

namespace edgeai::cpu::gemm_internal {
const KernelSet* Avx512KernelSet() { return nullptr; }
}  // namespace edgeai::cpu::gemm_internal

#endif
