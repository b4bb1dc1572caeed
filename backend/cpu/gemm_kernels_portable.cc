// Portable SGEMM micro-kernel (any CPU, any compiler): a 4 x 8 tile of plain C++ whose loops have constant trip
// counts, so that the compiler keeps the accumulators in registers and uses the baseline vector unit (SSE2 on
// x86-64: 8 of its 16 registers; NEON on AArch64).
#include <array>
#include <utility>

#include "backend/cpu/gemm_kernels.h"
#include "backend/cpu/gemm_pack.h"

namespace edgeai::cpu::gemm_internal {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;
static_assert(kMr * kNr <= kMaxTileFloats);

template <int R>
void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int cols,
          const TileStore& st) {
  // Only constant indices into acc, so that it can live in registers; a B row read in place with fewer
  // columns goes through a zero-padded copy.
  float acc[R][kNr] = {};
  const bool whole = padded || cols == kNr;
  for (int64_t k = 0; k < kb; ++k, a += kMr, b += ldb) {
    float padded_row[kNr];
    const float* row = b;
    if (!whole) {
      for (int j = 0; j < kNr; ++j) padded_row[j] = j < cols ? b[j] : 0.0f;
      row = padded_row;
    }
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * row[j];
    }
  }
  float out[R][kNr];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < kNr; ++j) out[i][j] = st.alpha * acc[i][j];
  }
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
    const float add = st.bias != nullptr ? st.bias[i] : 0.0f;
    if (st.beta == 0.0f) {
      for (int j = 0; j < cols; ++j) cr[j] = out[i][j] + add;
    } else {
      for (int j = 0; j < cols; ++j) cr[j] = out[i][j] + st.beta * cr[j] + add;
    }
    if (st.col_bias != nullptr) {
      for (int j = 0; j < cols; ++j) cr[j] += st.col_bias[j];
    }
    if (st.clamp) ClampRow(cr, cols, st.lo, st.hi);
  }
}

void PackA(bool trans, const float* src, int64_t ld, int64_t mb, int64_t kb, float* dst) {
  PackAPanels<kMr>(trans, src, ld, mb, kb, dst);
}
void PackB(bool trans, const float* src, int64_t ld, int64_t kb, int64_t nb, float* dst) {
  PackBPanels<kNr>(trans, src, ld, kb, nb, dst);
}

// Eight partial sums per dot product, so that the baseline vector unit can run them side by side.
void DotRows(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, float alpha, float beta) {
  constexpr int kLanes = 8;
  const int64_t kv = k / kLanes * kLanes;
  for (int64_t i = 0; i < m; ++i) {
    const float* ar = a + i * lda;
    for (int64_t j = 0; j < n; ++j) {
      const float* br = b + j * ldb;
      float lanes[kLanes] = {};
      for (int64_t kk = 0; kk < kv; kk += kLanes) {
        for (int l = 0; l < kLanes; ++l) lanes[l] += ar[kk + l] * br[kk + l];
      }
      float sum = 0.0f;
      for (int l = 0; l < kLanes; ++l) sum += lanes[l];
      for (int64_t kk = kv; kk < k; ++kk) sum += ar[kk] * br[kk];
      StoreScaled(sum, alpha, beta, c + i * ldc + j);
    }
  }
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, bool, float*, int64_t, int, const TileStore&);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> MakeTiles(std::index_sequence<I...>) {
  return {&Tile<static_cast<int>(I) + 1>...};
}
constexpr std::array<TileFn, kMr> kTiles = MakeTiles(std::make_index_sequence<kMr>());

void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc, int rows,
            int cols, const TileStore& st) {
  kTiles[rows - 1](kb, a, b, ldb, padded, c, ldc, cols, st);
}

}  // namespace

const KernelSet* PortableKernelSet() {
  static const KernelSet set{"portable", kMr, kNr, /*vec=*/kNr, /*kc=*/256, /*mc=*/kMr * 32, /*nc=*/kNr * 32,
                             Kernel, PackA, PackB, DotRows, /*packed_rows=*/nullptr,
                             /*store_transposed=*/nullptr};
  return &set;
}

}  // namespace edgeai::cpu::gemm_internal
