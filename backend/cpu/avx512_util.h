// Small AVX-512 helpers shared by the kernel files: lane masks for partial vectors, and a 16x16 float transpose
// for the kernels that change layouts on the fly (the SGEMM's transposed tile store, the channel-blocked
// depthwise convolution, the blocked layout's reorders). Include only from files whose kernels are compiled for
// AVX-512 through function target attributes; these functions carry their own.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace edgeai::cpu {

// Lanes [lo, hi) of a 16-float vector, clipped to the vector.
__attribute__((target("avx512f"), always_inline)) inline __mmask16 LaneRange16(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16);
  hi = std::clamp<int64_t>(hi, lo, 16);
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// The first n lanes (none for n <= 0, all for n >= 16).
__attribute__((target("avx512f"), always_inline)) inline __mmask16 FirstLanes16(int64_t n) {
  return LaneRange16(0, n);
}

// r[0..15] becomes its transpose: lane l of r[i] ends in lane i of r[l]. Each stage works in place on groups of
// 2 or 4 vectors, so that no more than 20 registers are live (a copy per stage spills to the stack).
__attribute__((target("avx512f"), always_inline)) inline void Transpose16x16(__m512 r[16]) {
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    const __m512 a = r[2 * i], b = r[2 * i + 1];
    r[2 * i] = _mm512_unpacklo_ps(a, b);
    r[2 * i + 1] = _mm512_unpackhi_ps(a, b);
  }
  // Each 128-bit block b of r[4i + c] then holds column 4b + c of rows 4i..4i+3.
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d t0 = _mm512_castps_pd(r[4 * i]), t1 = _mm512_castps_pd(r[4 * i + 1]);
    const __m512d t2 = _mm512_castps_pd(r[4 * i + 2]), t3 = _mm512_castps_pd(r[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  // A 4 x 4 transpose of 128-bit blocks over r[c], r[4 + c], r[8 + c], r[12 + c].
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512 u0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);
    const __m512 u1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
    const __m512 u2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
    const __m512 u3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
  }
}

}  // namespace edgeai::cpu

#endif  // defined(__x86_64__)
