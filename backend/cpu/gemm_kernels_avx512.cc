// AVX-512 SGEMM micro-kernels: an MR x NR register tile of zmm accumulators, plus every smaller tile for the
// edges (fewer rows; fewer vectors when fewer columns remain; masked loads and stores for a partial last vector).
#include "backend/cpu/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps/_mm512_min_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <utility>

#include "backend/cpu/avx512_util.h"
#include "backend/cpu/gemm_pack.h"

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace edgeai::cpu::gemm_internal {
namespace {

template <int MR, int NR, int R, int V, bool kMaskB>
EDGEAI_TARGET_AVX512 void Tile(int64_t kb, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                               int cols, const TileStore& st) {
  const int tail = cols - 16 * (V - 1);  // 1..16 columns in the last vector
  const __mmask16 last = static_cast<__mmask16>(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
  // With alpha 1 the row bias starts in the accumulators: short K blocks (1x1 convolutions over 16..32
  // channels) would otherwise spend a sizeable share of their time in the store's extra adds.
  const bool bias_in_acc = st.bias != nullptr && st.alpha == 1.0f;
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
    const __m512 start = bias_in_acc ? _mm512_set1_ps(st.bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = start;
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
  const __m512 va = _mm512_set1_ps(st.alpha);
  const __m512 vb = _mm512_set1_ps(st.beta);
  const __m512 lo = _mm512_set1_ps(st.lo);
  const __m512 hi = _mm512_set1_ps(st.hi);
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 mask = v == V - 1 ? last : static_cast<__mmask16>(0xFFFF);
      __m512 r = st.alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(acc[i][v], va);
      if (st.beta != 0.0f) r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, cr + 16 * v), vb, r);
      if (st.bias != nullptr && !bias_in_acc) r = _mm512_add_ps(r, _mm512_set1_ps(st.bias[i]));
      if (st.col_bias != nullptr) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask, st.col_bias + 16 * v));
      // max/min return their second operand when either is NaN: a NaN result stays NaN.
      if (st.clamp) r = _mm512_min_ps(hi, _mm512_max_ps(lo, r));
      _mm512_mask_storeu_ps(cr + 16 * v, mask, r);
    }
  }
}

// Row-major A: each whole panel goes 16 k at a time through an in-register 16 x 16 transpose (MR <= 16 rows
// loaded, zero rows beyond), storing MR floats per k; the element-wise copy costs a load and a store per float,
// which for the transformer's activations (A is not a weight there) was about 4% of a run.
template <int MR>
EDGEAI_TARGET_AVX512 void PackA(bool trans, const float* src, int64_t ld, int64_t mb, int64_t kb, float* dst) {
  if (trans || MR > 16) {
    PackAPanels<MR>(trans, src, ld, mb, kb, dst);
    return;
  }
  const __mmask16 keep = static_cast<__mmask16>((1u << MR) - 1);
  int64_t i0 = 0;
  for (; i0 + MR <= mb; i0 += MR, dst += MR * kb) {
    const float* s = src + i0 * ld;
    int64_t k0 = 0;
    for (; k0 + 16 <= kb; k0 += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) r[i] = i < MR ? _mm512_loadu_ps(s + i * ld + k0) : _mm512_setzero_ps();
      Transpose16x16(r);
#pragma GCC unroll 16
      for (int k = 0; k < 16; ++k) _mm512_mask_storeu_ps(dst + (k0 + k) * MR, keep, r[k]);
    }
    for (int64_t k = k0; k < kb; ++k) {
      for (int i = 0; i < MR; ++i) dst[k * MR + i] = s[i * ld + k];
    }
  }
  if (i0 < mb) PackAPanels<MR>(false, src + i0 * ld, ld, mb - i0, kb, dst);
}
// B stored N x K (a transposed operand: attention's K read in place): 16 rows of B at a time go through an
// in-register 16 x 16 transpose into 16 k rows of the panel; missing rows are zeros.
template <int NR>
EDGEAI_TARGET_AVX512 void PackB(bool trans, const float* src, int64_t ld, int64_t kb, int64_t nb, float* dst) {
  if (!trans || NR % 16 != 0) {
    PackBPanels<NR>(trans, src, ld, kb, nb, dst);
    return;
  }
  for (int64_t j0 = 0; j0 < nb; j0 += NR, dst += NR * kb) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nb - j0));
    for (int v = 0; v < NR / 16; ++v) {
      const int first = 16 * v, count = std::max(0, std::min(16, cols - first));
      const float* s = src + (j0 + first) * ld;
      int64_t k0 = 0;
      for (; k0 + 16 <= kb; k0 += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j) r[j] = j < count ? _mm512_loadu_ps(s + j * ld + k0) : _mm512_setzero_ps();
        Transpose16x16(r);
#pragma GCC unroll 16
        for (int k = 0; k < 16; ++k) _mm512_storeu_ps(dst + (k0 + k) * NR + first, r[k]);
      }
      for (int64_t k = k0; k < kb; ++k) {
        for (int j = 0; j < 16; ++j) dst[k * NR + first + j] = j < count ? s[j * ld + k] : 0.0f;
      }
    }
  }
}

EDGEAI_TARGET_AVX512 float SumLanes(__m512 v) {
  // Through memory: the shuffle intrinsics trip GCC 12's -Wmaybe-uninitialized inside its own header.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  const __m256 h = _mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Rows j..j+R-1 of B against each row of A, R dot products at a time (A's row is loaded once for all R).
template <int R>
EDGEAI_TARGET_AVX512 void DotGroup(int64_t m, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                                   float* c, int64_t ldc, float alpha, float beta) {
  const int64_t kv = k / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - kv)) - 1);
  for (int64_t i = 0; i < m; ++i, a += lda, c += ldc) {
    __m512 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < kv; kk += 16) {
      const __m512 av = _mm512_loadu_ps(a + kk);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + r * ldb + kk), acc[r]);
    }
    if (kv < k) {
      const __m512 av = _mm512_maskz_loadu_ps(tail, a + kv);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        acc[r] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(tail, b + r * ldb + kv), acc[r]);
      }
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

// One 32-column panel of C[R x n] = A * B over all of K (see PackedRowsFn). With one row, two k steps run on
// separate accumulators so that the FMA latency does not bound the stream of B.
template <int R>
EDGEAI_TARGET_AVX512 void PackedRowsPanel(int64_t k, const float* a, int64_t a_row, int64_t a_k, const float* b,
                                          int64_t n_pad, int64_t kblock, int64_t j, int cols, float* c,
                                          int64_t ldc, const TileStore& st) {
  constexpr int U = R == 1 ? 2 : 1;
  __m512 acc[U][R][2];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
    for (int i = 0; i < R; ++i) acc[u][i][0] = acc[u][i][1] = _mm512_setzero_ps();
  }
  for (int64_t k0 = 0; k0 < k; k0 += kblock) {
    const int64_t kb = std::min(kblock, k - k0);
    const float* bp = b + n_pad * k0 + j * kb;  // this panel's K block: kb rows of 32 floats
    const float* ak = a + k0 * a_k;
    int64_t kk = 0;
    for (; kk + U <= kb; kk += U) {
#pragma GCC unroll 2
      for (int u = 0; u < U; ++u) {
        const __m512 b0 = _mm512_load_ps(bp + (kk + u) * 32);
        const __m512 b1 = _mm512_load_ps(bp + (kk + u) * 32 + 16);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
          const __m512 av = _mm512_set1_ps(ak[i * a_row + (kk + u) * a_k]);
          acc[u][i][0] = _mm512_fmadd_ps(av, b0, acc[u][i][0]);
          acc[u][i][1] = _mm512_fmadd_ps(av, b1, acc[u][i][1]);
        }
      }
    }
    for (; kk < kb; ++kk) {
      const __m512 b0 = _mm512_load_ps(bp + kk * 32);
      const __m512 b1 = _mm512_load_ps(bp + kk * 32 + 16);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m512 av = _mm512_set1_ps(ak[i * a_row + kk * a_k]);
        acc[0][i][0] = _mm512_fmadd_ps(av, b0, acc[0][i][0]);
        acc[0][i][1] = _mm512_fmadd_ps(av, b1, acc[0][i][1]);
      }
    }
  }
  const __mmask16 masks[2] = {static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1),
                              static_cast<__mmask16>(cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (1u << (cols - 16)) - 1)};
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    float* cr = c + i * ldc + j;
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      const __mmask16 mask = masks[v];
      if (mask == 0) continue;
      __m512 r = U == 2 ? _mm512_add_ps(acc[0][i][v], acc[U - 1][i][v]) : acc[0][i][v];
      if (st.alpha != 1.0f) r = _mm512_mul_ps(r, _mm512_set1_ps(st.alpha));
      if (st.beta != 0.0f) {
        r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, cr + 16 * v), _mm512_set1_ps(st.beta), r);
      }
      if (st.bias != nullptr) r = _mm512_add_ps(r, _mm512_set1_ps(st.bias[i]));
      if (st.col_bias != nullptr) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask, st.col_bias + j + 16 * v));
      if (st.clamp) r = _mm512_min_ps(_mm512_set1_ps(st.hi), _mm512_max_ps(_mm512_set1_ps(st.lo), r));
      _mm512_mask_storeu_ps(cr + 16 * v, mask, r);
    }
  }
}

template <int R>
EDGEAI_TARGET_AVX512 void PackedRowsOf(int64_t k, const float* a, int64_t a_row, int64_t a_k, const float* b,
                                       int64_t kblock, int64_t n, int64_t p0, int64_t p1, float* c, int64_t ldc,
                                       const TileStore& st) {
  const int64_t n_pad = (n + 31) / 32 * 32;
  for (int64_t p = p0; p < p1; ++p) {
    const int cols = static_cast<int>(std::min<int64_t>(32, n - p * 32));
    PackedRowsPanel<R>(k, a, a_row, a_k, b, n_pad, kblock, p * 32, cols, c, ldc, st);
  }
}

void PackedRows(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_k, const float* packed_b,
                int64_t kblock, int64_t n, int64_t p0, int64_t p1, float* c, int64_t ldc, const TileStore& st) {
  using Fn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t, int64_t,
                      float*, int64_t, const TileStore&);
  static constexpr Fn kByRows[kPackedRowsMax] = {PackedRowsOf<1>, PackedRowsOf<2>, PackedRowsOf<3>,
                                                 PackedRowsOf<4>, PackedRowsOf<5>, PackedRowsOf<6>,
                                                 PackedRowsOf<7>, PackedRowsOf<8>};
  kByRows[m - 1](k, a, a_row, a_k, packed_b, kblock, n, p0, p1, c, ldc, st);
}

// StoreTransposedFn for tiles of at most 16 rows: each 16 x 16 block is transposed in registers, so that every
// row of C is stored as one masked vector.
EDGEAI_TARGET_AVX512 void StoreTransposed(const float* t, int64_t ldt, int rows, int cols, float* c, int64_t ldc,
                                          const TileStore& st) {
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
  const __m512 col_bias = st.col_bias != nullptr ? _mm512_maskz_loadu_ps(mask, st.col_bias) : _mm512_setzero_ps();
  for (int j0 = 0; j0 < cols; j0 += 16) {
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(t + i * ldt + j0) : _mm512_setzero_ps();
    Transpose16x16(r);
    const int n = std::min(16, cols - j0);
    for (int j = 0; j < n; ++j) {
      float* cr = c + (j0 + j) * ldc;
      __m512 v = st.alpha == 1.0f ? r[j] : _mm512_mul_ps(r[j], _mm512_set1_ps(st.alpha));
      if (st.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, cr), _mm512_set1_ps(st.beta), v);
      if (st.bias != nullptr) v = _mm512_add_ps(v, _mm512_set1_ps(st.bias[j0 + j]));
      if (st.col_bias != nullptr) v = _mm512_add_ps(v, col_bias);
      if (st.clamp) v = _mm512_min_ps(_mm512_set1_ps(st.hi), _mm512_max_ps(_mm512_set1_ps(st.lo), v));
      _mm512_mask_storeu_ps(cr, mask, v);
    }
  }
}

template <int MR, int NV>
struct Tiles {
  static_assert(MR * NV * 16 <= kMaxTileFloats);
  using Fn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, const TileStore&);
  template <size_t... I>
  static constexpr std::array<Fn, sizeof...(I)> Make(std::index_sequence<I...>) {
    return {&Tile<MR, NV * 16, static_cast<int>(I / (2 * NV)) + 1, static_cast<int>(I / 2 % NV) + 1,
                  (I % 2) == 1>...};
  }
  static constexpr std::array<Fn, MR * NV * 2> kTable = Make(std::make_index_sequence<MR * NV * 2>());

  static void Kernel(int64_t kb, const float* a, const float* b, int64_t ldb, bool padded, float* c, int64_t ldc,
                     int rows, int cols, const TileStore& st) {
    const int masked = !padded && cols % 16 != 0;
    kTable[((rows - 1) * NV + (cols + 15) / 16 - 1) * 2 + masked](kb, a, b, ldb, c, ldc, cols, st);
  }

  static const KernelSet* Set(const char* name, int64_t kc, int64_t mc_panels, int64_t nc_panels) {
    static const KernelSet set{name, MR, NV * 16, 16, kc, MR * mc_panels, NV * 16 * nc_panels,
                               Kernel, PackA<MR>, PackB<NV * 16>, DotRows, NV == 2 ? PackedRows : nullptr,
                               MR <= 16 ? StoreTransposed : nullptr};
    return &set;
  }
};

}  // namespace

// 14 x 32: 28 accumulators, two B vectors and the A broadcast fill 31 of the 32 zmm registers; each k step
// loads 2 vectors and 14 scalars for 28 FMAs. (8 x 32 and 16 x 16 measured no faster even where M = 64 makes
// 14 rows pad.)
const KernelSet* Avx512KernelSet() {
  return Tiles<14, 2>::Set("avx512", /*kc=*/256, /*mc_panels=*/12, /*nc_panels=*/16);
}

// 16 x 16: for products of 15 or 16 rows (SqueezeNet's squeeze and MobileNet's 16-channel 1x1 convolutions),
// which 14 x 32 tiles cover as 14 + 2 rows, the 2-row pass streaming B again for little arithmetic:
// 16x3025x64 68 -> 98 GFLOP/s, 16x12544x32 81 -> 94. From 32 rows on 14 x 32 is ahead again (84 vs 80).
// Its blocks are no larger than the 14 x 32 set's, so the packing buffers sized for that one serve it too.
const KernelSet* Avx512NarrowKernelSet() {
  return Tiles<16, 1>::Set("avx512-16x16", /*kc=*/256, /*mc_panels=*/10, /*nc_panels=*/32);
}

}  // namespace edgeai::cpu::gemm_internal

#else

namespace edgeai::cpu::gemm_internal {
const KernelSet* Avx512KernelSet() { return nullptr; }
const KernelSet* Avx512NarrowKernelSet() { return nullptr; }
}  // namespace edgeai::cpu::gemm_internal

#endif
