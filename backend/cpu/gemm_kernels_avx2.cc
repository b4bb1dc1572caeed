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

template <int R, int V, bool kMaskB>
EDGEAI_TARGET_AVX2 void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                             int cols, float alpha, float beta) {
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
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m256 r = _mm256_mul_ps(acc[i][v], va);
      if (v < V - 1 || tail == 8) {
        if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_loadu_ps(cr + 8 * v), vb, r);
        _mm256_storeu_ps(cr + 8 * v, r);
      } else {
        if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_maskload_ps(cr + 8 * v, last), vb, r);
        _mm256_maskstore_ps(cr + 8 * v, last, r);
      }
    }
  }
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, float, float);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> MakeTiles(std::index_sequence<I...>) {
  return {&Tile<static_cast<int>(I / (2 * kVectors)) + 1, static_cast<int>(I / 2 % kVectors) + 1, (I % 2) == 1>...};
}
constexpr std::array<TileFn, kMr * kVectors * 2> kTiles = MakeTiles(std::make_index_sequence<kMr * kVectors * 2>());

void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int rows,
            int cols, float alpha, float beta) {
  const int masked = !padded && cols % 8 != 0;
  kTiles[((rows - 1) * kVectors + (cols + 7) / 8 - 1) * 2 + masked](kb, a, b, ldb, c, ldc, cols, alpha, beta);
}

}  // namespace

const KernelSet* Avx2KernelSet() {
  static const KernelSet set{"avx2", kMr, kNr, /*kc=*/256, /*mc=*/kMr * 16, /*nc=*/kNr * 32,
                             Kernel, PackAPanels<kMr>, PackBPanels<kNr>,
                               PackBRow<kNr>};
  return &set;
}

}  // namespace edgeai::cpu::gemm_internal

#else

namespace edgeai::cpu::gemm_internal {
const KernelSet* Avx2KernelSet() { return nullptr; }
}  // namespace edgeai::cpu::gemm_internal

#endif
