// Portable SGEMM micro-kernel (any CPU, any compiler): a 4 x 16 tile of plain C++ whose inner loops have
// constant trip counts, so that the baseline vector unit (SSE2 on x86-64, NEON on AArch64) gets used.
#include <array>
#include <utility>

#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/gemm_pack.h"

namespace edgeai::cpu::gemm_internal {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 16;

template <int R>
void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int cols,
          float alpha, float beta) {
  float acc[R][kNr] = {};
  if (padded || cols == kNr) {
    for (int64_t k = 0; k < kb; ++k, a += kMr, b += ldb) {
      for (int i = 0; i < R; ++i) {
        const float av = a[i];
        for (int j = 0; j < kNr; ++j) acc[i][j] += av * b[j];
      }
    }
  } else {
    for (int64_t k = 0; k < kb; ++k, a += kMr, b += ldb) {
      for (int i = 0; i < R; ++i) {
        for (int j = 0; j < cols; ++j) acc[i][j] += a[i] * b[j];
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < cols; ++j) cr[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < cols; ++j) cr[j] = alpha * acc[i][j] + beta * cr[j];
    }
  }
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, bool, float*, int64_t, int, float, float);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> MakeTiles(std::index_sequence<I...>) {
  return {&Tile<static_cast<int>(I) + 1>...};
}
constexpr std::array<TileFn, kMr> kTiles = MakeTiles(std::make_index_sequence<kMr>());

void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int rows,
            int cols, float alpha, float beta) {
  kTiles[rows - 1](kb, a, b, ldb, padded, c, ldc, cols, alpha, beta);
}

}  // namespace

const KernelSet* PortableKernelSet() {
  static const KernelSet set{"portable", kMr, kNr, /*kc=*/256, /*mc=*/kMr * 32, /*nc=*/kNr * 32,
                             Kernel, PackAPanels<kMr>, PackBPanels<kNr>,
                               PackBRow<kNr>};
  return &set;
}

}  // namespace edgeai::cpu::gemm_internal
