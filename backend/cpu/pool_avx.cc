// AVX-512 and AVX2 pieces of the float32 max pool (pool_avx.h). AVX-512 pools whole 2-D planes in registers:
// per output row and 16 output columns, the column maxima of the window's rows are taken over 16-float vectors
// (masked loads give -inf outside the input row, so padding and ceil_mode columns need no separate code), and
// the kernel_w taps are lanes of those vectors, gathered by two-source permutes (stride 2: the even and odd
// columns). AVX2 does the same with 8-float vectors, but takes the column maxima of every tap from its own
// loads. Every max is max(x, acc) with acc never NaN, which skips NaN inputs. The library itself is built
// without -march flags.
#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cstdint>
#include <limits>

#include "backend/cpu/pool_avx.h"

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define EDGEAI_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace edgeai::cpu::pool_internal {
namespace {

constexpr float kLowest = -std::numeric_limits<float>::infinity();

// Lanes of the 16 floats from column c on that lie inside a row of w columns.
inline EDGEAI_TARGET_AVX512 __mmask16 InsideLanes(int64_t c, int64_t w) {
  const int64_t lo = std::max<int64_t>(0, -c);
  const int64_t hi = std::min<int64_t>(16, w - c);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// Max over the n rows (NR when NR > 0) of x, ld floats apart, of the 16 columns from c on; -inf outside.
template <int NR>
inline EDGEAI_TARGET_AVX512 __m512 ColumnMax(const float* x, int64_t ld, int64_t n, int64_t c, int64_t w) {
  const __m512 lowest = _mm512_set1_ps(kLowest);
  const int64_t rows = NR > 0 ? NR : n;
  if (c >= 0 && c + 16 <= w) {
    const float* p = x + c;
    __m512 acc = _mm512_max_ps(_mm512_loadu_ps(p), lowest);
    for (int64_t r = 1; r < rows; ++r) acc = _mm512_max_ps(_mm512_loadu_ps(p + r * ld), acc);
    return acc;
  }
  const __mmask16 m = InsideLanes(c, w);
  if (m == 0) return lowest;
  // c may be negative: the masked-off lanes before the row are never read.
  const float* p = x + c;
  __m512 acc = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m, p), lowest);
  for (int64_t r = 1; r < rows; ++r) acc = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, m, p + r * ld), acc);
  return acc;
}

// One output row from the n input rows at x. Every step's last column vector is the next step's first, as the
// next step starts 16 * S columns further on.
template <int S, int NR, int KW>
EDGEAI_TARGET_AVX512 void PlaneRow512(const MaxPlane2d& p, const float* x, int64_t n, const __m512i* idx,
                                      float* y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int64_t kw = KW > 0 ? KW : p.kernel_w, w = p.in_w, ld = p.in_w;
  __m512 v0 = ColumnMax<NR>(x, ld, n, -p.pad_left, w);
  for (int64_t o = 0; o < p.out_w; o += 16) {
    const int64_t c0 = o * S - p.pad_left;
    __m512 acc;
    if constexpr (S == 1) {
      const __m512 v1 = ColumnMax<NR>(x, ld, n, c0 + 16, w);
      acc = v0;
      for (int64_t j = 1; j < kw; ++j) acc = _mm512_max_ps(acc, _mm512_permutex2var_ps(v0, idx[j], v1));
      v0 = v1;
    } else {
      const __m512 v1 = ColumnMax<NR>(x, ld, n, c0 + 16, w);
      const __m512 v2 = ColumnMax<NR>(x, ld, n, c0 + 32, w);
      const __m512 e = _mm512_permutex2var_ps(v0, even, v1);
      const __m512 od = _mm512_permutex2var_ps(v0, odd, v1);
      acc = kw > 1 ? _mm512_max_ps(e, od) : e;
      for (int64_t j = 2; j < kw; ++j) {
        acc = _mm512_max_ps(acc, _mm512_permutex2var_ps((j & 1) ? od : e, idx[j], v2));
      }
      v0 = v2;
    }
    if (p.out_w - o >= 16) {
      _mm512_storeu_ps(y + o, acc);
    } else {
      _mm512_mask_storeu_ps(y + o, static_cast<__mmask16>((1u << (p.out_w - o)) - 1u), acc);
    }
  }
}

template <int S, int KW>
EDGEAI_TARGET_AVX512 void PlaneRows512(const MaxPlane2d& p, const float* x, const __m512i* idx, float* y) {
  for (int64_t oh = 0; oh < p.out_h; ++oh, y += p.out_w) {
    const int64_t ih = oh * p.stride_h - p.pad_top;
    const int64_t r0 = std::max<int64_t>(0, ih), r1 = std::min(p.in_h, ih + p.kernel_h);
    if (r1 <= r0) {
      std::fill(y, y + p.out_w, kLowest);
      continue;
    }
    const float* rows = x + r0 * p.in_w;
    switch (r1 - r0) {
      case 1:
        PlaneRow512<S, 1, KW>(p, rows, 1, idx, y);
        break;
      case 2:
        PlaneRow512<S, 2, KW>(p, rows, 2, idx, y);
        break;
      case 3:
        PlaneRow512<S, 3, KW>(p, rows, 3, idx, y);
        break;
      default:
        PlaneRow512<S, 0, KW>(p, rows, r1 - r0, idx, y);
    }
  }
}

// Lanes of the 8 floats from column c on that lie inside a row of w columns (MaxPlaneSupports bounds c and w).
inline EDGEAI_TARGET_AVX2 __m256i InsideLanes256(int64_t c, int64_t w) {
  const __m256i col = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(c)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_and_si256(_mm256_cmpgt_epi32(col, _mm256_set1_epi32(-1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(w)), col));
}

// ColumnMax for 8 columns. maskload gives 0 outside the mask, so those lanes are set to -inf afterwards.
template <int NR>
inline EDGEAI_TARGET_AVX2 __m256 ColumnMax256(const float* x, int64_t ld, int64_t n, int64_t c, int64_t w) {
  const __m256 lowest = _mm256_set1_ps(kLowest);
  const int64_t rows = NR > 0 ? NR : n;
  if (c >= 0 && c + 8 <= w) {
    const float* p = x + c;
    __m256 acc = _mm256_max_ps(_mm256_loadu_ps(p), lowest);
    for (int64_t r = 1; r < rows; ++r) acc = _mm256_max_ps(_mm256_loadu_ps(p + r * ld), acc);
    return acc;
  }
  if (c >= w || c + 8 <= 0) return lowest;
  const __m256i m = InsideLanes256(c, w);
  const __m256 inside = _mm256_castsi256_ps(m);
  const float* p = x + c;  // c may be negative: the masked-off lanes before the row are never read
  __m256 acc = lowest;
  for (int64_t r = 0; r < rows; ++r) {
    acc = _mm256_max_ps(_mm256_blendv_ps(lowest, _mm256_maskload_ps(p + r * ld, m), inside), acc);
  }
  return acc;
}

// The even (0x88) or odd (0xDD) columns of a:b in order; the shuffle interleaves the 128-bit halves.
template <int kSel>
inline EDGEAI_TARGET_AVX2 __m256 Deinterleave256(__m256 a, __m256 b) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, kSel)), 0xD8));
}

// AVX2 has no two-source lane permute, so every tap (stride 1) or pair of taps (stride 2: the even and odd
// columns of 16 floats) takes its own column maxima, from loads that mostly hit L1.
template <int S, int NR, int KW>
EDGEAI_TARGET_AVX2 void PlaneRow256(const MaxPlane2d& p, const float* x, int64_t n, float* y) {
  const int64_t kw = KW > 0 ? KW : p.kernel_w, w = p.in_w, ld = p.in_w;
  for (int64_t o = 0; o < p.out_w; o += 8) {
    const int64_t c0 = o * S - p.pad_left;
    __m256 acc;
    if constexpr (S == 1) {
      acc = ColumnMax256<NR>(x, ld, n, c0, w);
      for (int64_t j = 1; j < kw; ++j) acc = _mm256_max_ps(acc, ColumnMax256<NR>(x, ld, n, c0 + j, w));
    } else {
      for (int64_t j = 0; j < kw; j += 2) {
        const __m256 a = ColumnMax256<NR>(x, ld, n, c0 + j, w);
        const __m256 b = ColumnMax256<NR>(x, ld, n, c0 + j + 8, w);
        const __m256 e = Deinterleave256<0x88>(a, b);
        acc = j == 0 ? e : _mm256_max_ps(acc, e);
        if (j + 1 < kw) acc = _mm256_max_ps(acc, Deinterleave256<0xDD>(a, b));
      }
    }
    if (p.out_w - o >= 8) {
      _mm256_storeu_ps(y + o, acc);
    } else {
      const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(p.out_w - o)),
                                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      _mm256_maskstore_ps(y + o, tail, acc);
    }
  }
}

template <int S, int KW>
EDGEAI_TARGET_AVX2 void PlaneRows256(const MaxPlane2d& p, const float* x, float* y) {
  for (int64_t oh = 0; oh < p.out_h; ++oh, y += p.out_w) {
    const int64_t ih = oh * p.stride_h - p.pad_top;
    const int64_t r0 = std::max<int64_t>(0, ih), r1 = std::min(p.in_h, ih + p.kernel_h);
    if (r1 <= r0) {
      std::fill(y, y + p.out_w, kLowest);
      continue;
    }
    const float* rows = x + r0 * p.in_w;
    switch (r1 - r0) {
      case 1:
        PlaneRow256<S, 1, KW>(p, rows, 1, y);
        break;
      case 2:
        PlaneRow256<S, 2, KW>(p, rows, 2, y);
        break;
      case 3:
        PlaneRow256<S, 3, KW>(p, rows, 3, y);
        break;
      default:
        PlaneRow256<S, 0, KW>(p, rows, r1 - r0, y);
    }
  }
}

}  // namespace

// Tap j of output lane l is column (l * S + j) of the row from the step's first column: with S = 1, lane
// l + j of v0:v1; with S = 2, lane l + j / 2 of the even (or odd) columns, continued by v2's once past 16.
EDGEAI_TARGET_AVX512 void MaxPlaneAvx512(const MaxPlane2d& p, const float* x, float* y) {
  __m512i idx[kMaxPlaneKernelW];
  alignas(64) int32_t lanes[16];
  const int64_t kw = std::min(p.kernel_w, kMaxPlaneKernelW);
  for (int64_t j = 0; j < kw; ++j) {
    const int32_t m = static_cast<int32_t>(p.stride_w == 1 ? j : j / 2);
    const int32_t odd = static_cast<int32_t>(p.stride_w == 1 ? 0 : j % 2);
    for (int32_t l = 0; l < 16; ++l) {
      lanes[l] = p.stride_w == 1 || l + m < 16 ? l + m : 16 + 2 * (l + m - 16) + odd;
    }
    idx[j] = _mm512_load_si512(lanes);
  }
  if (p.stride_w == 1) {
    if (kw == 3) return PlaneRows512<1, 3>(p, x, idx, y);
    return PlaneRows512<1, 0>(p, x, idx, y);
  }
  if (kw == 3) return PlaneRows512<2, 3>(p, x, idx, y);
  PlaneRows512<2, 0>(p, x, idx, y);
}

EDGEAI_TARGET_AVX2 void MaxPlaneAvx2(const MaxPlane2d& p, const float* x, float* y) {
  if (p.stride_w == 1) {
    if (p.kernel_w == 3) return PlaneRows256<1, 3>(p, x, y);
    return PlaneRows256<1, 0>(p, x, y);
  }
  if (p.kernel_w == 3) return PlaneRows256<2, 3>(p, x, y);
  PlaneRows256<2, 0>(p, x, y);
}

}  // namespace edgeai::cpu::pool_internal
#endif  // defined(__x86_64__)
