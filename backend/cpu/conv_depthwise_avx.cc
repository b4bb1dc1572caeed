// AVX-512 and AVX2+FMA rows of the 3x3 float32 depthwise convolution (stride 1 or 2 along the row, no
// dilation along it), for the output columns whose taps all lie inside the input row. The vectors run along the
// output columns: stride 1 reads each input row at offsets 0, 1 and 2; stride 2 reads twice as many floats and
// splits them into the even and odd columns. A partial last vector uses masked loads and stores, so the caller
// passes any column range. conv.cc calls these only after GetCpuInfo() (through the SGEMM ISA choice) says
// the CPU runs them; the library itself is built without -march flags.
#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps/_mm512_min_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cstdint>

#include "backend/cpu/avx512_util.h"
#include "backend/cpu/conv_depthwise.h"

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define EDGEAI_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace edgeai::cpu::conv_internal {
namespace {

// Depthwise3x3RowAvx512/Avx2's arguments.
struct Depthwise3x3Row {
  const float* rows[3];
  const float* w;  // the nine weights, row-major
  float bias;
  int64_t stride, off;
};

// Stride 1: three shifted loads of 16 columns.
inline EDGEAI_TARGET_AVX512 __m512 Row512S1(const float* x, __mmask16 m, __m512 w0, __m512 w1, __m512 w2,
                                            __m512 acc) {
  acc = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x), acc);
  acc = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m, x + 1), acc);
  return _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m, x + 2), acc);
}

// Stride 2, n output columns: x[0, 2n) gives the even (tap 0) and odd (tap 1) columns, x[2, 2n + 1) tap 2.
inline EDGEAI_TARGET_AVX512 __m512 Row512S2(const float* x, int64_t n, __m512 w0, __m512 w1, __m512 w2,
                                            __m512 acc) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 a = _mm512_maskz_loadu_ps(FirstLanes16(2 * n), x);
  const __m512 b = _mm512_maskz_loadu_ps(FirstLanes16(2 * n - 16), x + 16);
  const __m512 c = _mm512_maskz_loadu_ps(FirstLanes16(2 * n - 1), x + 2);
  const __m512 d = _mm512_maskz_loadu_ps(FirstLanes16(2 * n - 17), x + 18);
  acc = _mm512_fmadd_ps(w0, _mm512_permutex2var_ps(a, even, b), acc);
  acc = _mm512_fmadd_ps(w1, _mm512_permutex2var_ps(a, odd, b), acc);
  return _mm512_fmadd_ps(w2, _mm512_permutex2var_ps(c, even, d), acc);
}

template <int S>
EDGEAI_TARGET_AVX512 void Row512(const Depthwise3x3Row& r, int64_t lo, int64_t hi, float* orow) {
  __m512 w[9];
  for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(r.w[i]);
  const __m512 bias = _mm512_set1_ps(r.bias);
  for (int64_t o = lo; o < hi; o += 16) {
    const int64_t n = std::min<int64_t>(16, hi - o);
    const __mmask16 m = FirstLanes16(n);
    // One accumulator per kernel row keeps the dependency chains short.
    __m512 acc[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int k = 0; k < 3; ++k) {
      if (r.rows[k] == nullptr) continue;
      const float* x = r.rows[k] + o * S + r.off;
      acc[k] = S == 1 ? Row512S1(x, m, w[3 * k], w[3 * k + 1], w[3 * k + 2], acc[k])
                      : Row512S2(x, n, w[3 * k], w[3 * k + 1], w[3 * k + 2], acc[k]);
    }
    _mm512_mask_storeu_ps(orow + o, m, _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]));
  }
}

inline EDGEAI_TARGET_AVX2 __m256i FirstLanes256(int64_t n) {
  const int c = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(8, n)));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline EDGEAI_TARGET_AVX2 __m256 Row256S1(const float* x, __m256i m, __m256 w0, __m256 w1, __m256 w2,
                                          __m256 acc) {
  acc = _mm256_fmadd_ps(w0, _mm256_maskload_ps(x, m), acc);
  acc = _mm256_fmadd_ps(w1, _mm256_maskload_ps(x + 1, m), acc);
  return _mm256_fmadd_ps(w2, _mm256_maskload_ps(x + 2, m), acc);
}

// The even (or odd) floats of a:b in order: shuffle_ps works within 128-bit lanes, so the 64-bit halves are
// put back in order afterwards.
template <int kImm>
inline EDGEAI_TARGET_AVX2 __m256 Split256(__m256 a, __m256 b) {
  const __m256 s = _mm256_shuffle_ps(a, b, kImm);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

inline EDGEAI_TARGET_AVX2 __m256 Row256S2(const float* x, int64_t n, __m256 w0, __m256 w1, __m256 w2,
                                          __m256 acc) {
  const __m256 a = _mm256_maskload_ps(x, FirstLanes256(2 * n));
  const __m256 b = _mm256_maskload_ps(x + 8, FirstLanes256(2 * n - 8));
  const __m256 c = _mm256_maskload_ps(x + 2, FirstLanes256(2 * n - 1));
  const __m256 d = _mm256_maskload_ps(x + 10, FirstLanes256(2 * n - 9));
  acc = _mm256_fmadd_ps(w0, Split256<0x88>(a, b), acc);
  acc = _mm256_fmadd_ps(w1, Split256<0xDD>(a, b), acc);
  return _mm256_fmadd_ps(w2, Split256<0x88>(c, d), acc);
}

template <int S>
EDGEAI_TARGET_AVX2 void Row256(const Depthwise3x3Row& r, int64_t lo, int64_t hi, float* orow) {
  __m256 w[9];
  for (int i = 0; i < 9; ++i) w[i] = _mm256_set1_ps(r.w[i]);
  const __m256 bias = _mm256_set1_ps(r.bias);
  for (int64_t o = lo; o < hi; o += 8) {
    const int64_t n = std::min<int64_t>(8, hi - o);
    __m256 acc[3] = {bias, _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int k = 0; k < 3; ++k) {
      if (r.rows[k] == nullptr) continue;
      const float* x = r.rows[k] + o * S + r.off;
      acc[k] = S == 1 ? Row256S1(x, FirstLanes256(n), w[3 * k], w[3 * k + 1], w[3 * k + 2], acc[k])
                      : Row256S2(x, n, w[3 * k], w[3 * k + 1], w[3 * k + 2], acc[k]);
    }
    _mm256_maskstore_ps(orow + o, FirstLanes256(n), _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), acc[2]));
  }
}

// ---- Whole planes, straight from the input with masked loads -----------------------------------------------
// Small planes (MobileNet's 7x7 and 14x14) spend more in per-row set-up and scalar border columns than in
// arithmetic. AVX-512 loads take a lane mask and do not touch masked-out lanes, so a window tap that falls
// into the padding is simply a lane not loaded (zero): every output row is one vector loop with no border code
// and no copy of the input. The masks depend only on the column chunk and tap, so they are made once per plane;
// rows are then walked in order, which keeps the input streaming for large planes.

// The lanes j of a 16-float load starting at input column c0 that lie inside [0, in_w).
inline EDGEAI_TARGET_AVX512 __mmask16 InputLanes(int64_t c0, int64_t in_w) {
  const int64_t lo = std::max<int64_t>(0, -c0), hi = std::min<int64_t>(16, in_w - c0);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// A load of 16 floats: masked at the plane's edges, plain inside it (no mask to move into a k register).
template <bool kMasked>
inline EDGEAI_TARGET_AVX512 __m512 Load16(__mmask16 m, const float* x) {
  return kMasked ? _mm512_maskz_loadu_ps(m, x) : _mm512_loadu_ps(x);
}

// One window row (input row `x`) of the taps for 16 output columns: stride 1 loads at c0, c0 + 1, c0 + 2;
// stride 2 loads 32 columns from c0 (even: tap 0, odd: tap 1) and 32 from c0 + 2 (even: tap 2).
template <int S, bool kMasked>
inline EDGEAI_TARGET_AVX512 __m512 TapRow512(const float* x, int64_t c0, const __mmask16* m, const __m512* w,
                                             __m512 acc) {
  if constexpr (S == 1) {
    acc = _mm512_fmadd_ps(w[0], Load16<kMasked>(m[0], x + c0), acc);
    acc = _mm512_fmadd_ps(w[1], Load16<kMasked>(m[1], x + c0 + 1), acc);
    return _mm512_fmadd_ps(w[2], Load16<kMasked>(m[2], x + c0 + 2), acc);
  } else {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 a = Load16<kMasked>(m[0], x + c0);
    const __m512 b = Load16<kMasked>(m[1], x + c0 + 16);
    const __m512 c = Load16<kMasked>(m[2], x + c0 + 2);
    const __m512 d = Load16<kMasked>(m[3], x + c0 + 18);
    acc = _mm512_fmadd_ps(w[0], _mm512_permutex2var_ps(a, even, b), acc);
    acc = _mm512_fmadd_ps(w[1], _mm512_permutex2var_ps(a, odd, b), acc);
    return _mm512_fmadd_ps(w[2], _mm512_permutex2var_ps(c, even, d), acc);
  }
}

template <int S>
EDGEAI_TARGET_AVX512 void DirectPlane512(const Depthwise3x3Plane& p) {
  __m512 w[9];
  for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(p.w[i]);
  const __m512 bias = _mm512_set1_ps(p.bias), lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
  const int64_t chunks = (p.out_w + 15) / 16;
  __mmask16 masks[kMaxDirectChunks][4];
  bool inside[kMaxDirectChunks];  // every load of the chunk is whole
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t c0 = c * 16 * S - p.pad_left;  // the input column of tap 0 for the chunk's first output
    if constexpr (S == 1) {
      for (int j = 0; j < 3; ++j) masks[c][j] = InputLanes(c0 + j, p.in_w);
    } else {
      masks[c][0] = InputLanes(c0, p.in_w);
      masks[c][1] = InputLanes(c0 + 16, p.in_w);
      masks[c][2] = InputLanes(c0 + 2, p.in_w);
      masks[c][3] = InputLanes(c0 + 18, p.in_w);
    }
    inside[c] = true;
    for (int j = 0; j < (S == 1 ? 3 : 4); ++j) inside[c] = inside[c] && masks[c][j] == 0xFFFF;
  }
  int64_t oh = 0;
  if constexpr (S == 1) {
    // Two output rows at a time share the loads of their two common input rows: 12 loads for 18 FMAs
    // instead of 18, the loads (often split across cache lines) being what bounds this loop.
    for (; oh + 1 < p.out_h; oh += 2) {
      const float* rows[4];
      for (int k = 0; k < 4; ++k) {
        const int64_t ih = oh + k - p.pad_top;
        rows[k] = ih >= 0 && ih < p.in_h ? p.x + ih * p.in_w : nullptr;
      }
      float* orow = p.y + oh * p.out_w;
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t c0 = c * 16 - p.pad_left;
        __m512 v[4][3];
        for (int k = 0; k < 4; ++k) {
          for (int j = 0; j < 3; ++j) {
            v[k][j] = rows[k] == nullptr ? _mm512_setzero_ps()
                      : inside[c]        ? Load16<false>(masks[c][j], rows[k] + c0 + j)
                                         : Load16<true>(masks[c][j], rows[k] + c0 + j);
          }
        }
        __m512 r0 = bias, r1 = bias, t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps();
        for (int j = 0; j < 3; ++j) {
          r0 = _mm512_fmadd_ps(w[j], v[0][j], r0);
          t0 = _mm512_fmadd_ps(w[3 + j], v[1][j], t0);
          r0 = _mm512_fmadd_ps(w[6 + j], v[2][j], r0);
          r1 = _mm512_fmadd_ps(w[j], v[1][j], r1);
          t1 = _mm512_fmadd_ps(w[3 + j], v[2][j], t1);
          r1 = _mm512_fmadd_ps(w[6 + j], v[3][j], r1);
        }
        r0 = _mm512_add_ps(r0, t0);
        r1 = _mm512_add_ps(r1, t1);
        // max/min return their second operand when either is NaN: a NaN result stays NaN.
        if (p.clamp) {
          r0 = _mm512_min_ps(hi, _mm512_max_ps(lo, r0));
          r1 = _mm512_min_ps(hi, _mm512_max_ps(lo, r1));
        }
        const __mmask16 store = FirstLanes16(p.out_w - c * 16);
        _mm512_mask_storeu_ps(orow + c * 16, store, r0);
        _mm512_mask_storeu_ps(orow + p.out_w + c * 16, store, r1);
      }
    }
  }
  for (; oh < p.out_h; ++oh) {
    const float* rows[3];
    for (int k = 0; k < 3; ++k) {
      const int64_t ih = oh * S + k - p.pad_top;
      rows[k] = ih >= 0 && ih < p.in_h ? p.x + ih * p.in_w : nullptr;
    }
    float* orow = p.y + oh * p.out_w;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t c0 = c * 16 * S - p.pad_left;
      // One accumulator per window row keeps the dependency chains short.
      __m512 acc[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int k = 0; k < 3; ++k) {
        if (rows[k] == nullptr) continue;
        acc[k] = inside[c] ? TapRow512<S, false>(rows[k], c0, masks[c], w + 3 * k, acc[k])
                           : TapRow512<S, true>(rows[k], c0, masks[c], w + 3 * k, acc[k]);
      }
      __m512 r = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
      // max/min return their second operand when either is NaN: a NaN result stays NaN.
      if (p.clamp) r = _mm512_min_ps(hi, _mm512_max_ps(lo, r));
      _mm512_mask_storeu_ps(orow + c * 16, FirstLanes16(p.out_w - c * 16), r);
    }
  }
}

}  // namespace

bool MakeDepthwise3x3FlatMasks(const Depthwise3x3Plane& p, Depthwise3x3FlatMasks* m) {
  const int64_t outputs = p.out_h * p.out_w;
  if (p.stride != 1 || p.in_h != p.out_h || p.in_w != p.out_w || outputs > 16 * Depthwise3x3FlatMasks::kMaxChunks) {
    return false;
  }
  m->chunks = static_cast<int>((outputs + 15) / 16);
  for (int tap = 0; tap < 9; ++tap) {
    const int64_t dh = tap / 3 - p.pad_top, dw = tap % 3 - p.pad_left;
    m->offset[tap] = dh * p.in_w + dw;
    for (int c = 0; c < m->chunks; ++c) {
      uint16_t bits = 0;
      for (int j = 0; j < 16; ++j) {
        const int64_t q = c * 16 + j, oh = q / p.out_w, ow = q % p.out_w;
        const int64_t ih = oh + dh, iw = ow + dw;
        if (q < outputs && ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w) bits |= static_cast<uint16_t>(1u << j);
      }
      m->lanes[c][tap] = bits;
    }
  }
  for (int c = 0; c < m->chunks; ++c) {
    const int64_t left = outputs - c * 16;
    m->store[c] = static_cast<uint16_t>(left >= 16 ? 0xFFFF : (1u << left) - 1u);
  }
  return true;
}

EDGEAI_TARGET_AVX512 void Depthwise3x3FlatAvx512(const Depthwise3x3Plane& p, const Depthwise3x3FlatMasks& m) {
  __m512 w[9];
  for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(p.w[i]);
  const __m512 bias = _mm512_set1_ps(p.bias), lo = _mm512_set1_ps(p.lo), hi = _mm512_set1_ps(p.hi);
  for (int c = 0; c < m.chunks; ++c) {
    const float* x = p.x + c * 16;
    // One accumulator per window row keeps the dependency chains short.
    __m512 acc[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int tap = 0; tap < 9; ++tap) {
      acc[tap / 3] = _mm512_fmadd_ps(w[tap], _mm512_maskz_loadu_ps(m.lanes[c][tap], x + m.offset[tap]), acc[tap / 3]);
    }
    __m512 r = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
    // max/min return their second operand when either is NaN: a NaN result stays NaN.
    if (p.clamp) r = _mm512_min_ps(hi, _mm512_max_ps(lo, r));
    _mm512_mask_storeu_ps(p.y + c * 16, m.store[c], r);
  }
}

void Depthwise3x3PlaneAvx512(const Depthwise3x3Plane& p) {
  if (p.stride == 1) {
    DirectPlane512<1>(p);
  } else {
    DirectPlane512<2>(p);
  }
}

// The entry points declared in conv.cc; see Depthwise3x3Row for the arguments.
void Depthwise3x3RowAvx512(const float* const* rows, const float* w, float bias, int64_t stride, int64_t off,
                           int64_t lo, int64_t hi, float* orow) {
  const Depthwise3x3Row r{{rows[0], rows[1], rows[2]}, w, bias, stride, off};
  if (stride == 1) {
    Row512<1>(r, lo, hi, orow);
  } else {
    Row512<2>(r, lo, hi, orow);
  }
}

void Depthwise3x3RowAvx2(const float* const* rows, const float* w, float bias, int64_t stride, int64_t off,
                         int64_t lo, int64_t hi, float* orow) {
  const Depthwise3x3Row r{{rows[0], rows[1], rows[2]}, w, bias, stride, off};
  if (stride == 1) {
    Row256<1>(r, lo, hi, orow);
  } else {
    Row256<2>(r, lo, hi, orow);
  }
}

}  // namespace edgeai::cpu::conv_internal

#endif  // defined(__x86_64__)
