// AVX-512 bodies of vector_math.h, compiled through function target attributes.
#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside some AVX-512 intrinsics itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdint>

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace edgeai::cpu::vector_math_internal {
namespace {

inline EDGEAI_TARGET_AVX512 __mmask16 Lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// exp(x): x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in two for an exact k ln2), exp(r) by its degree-6
// Taylor polynomial (truncation error below 2e-7 relative), then scaled by 2^k with vscalefps, which also
// gives 0 below the float range. Inputs are clamped first so that k stays small; max/min take their second
// operand when either is NaN, so a NaN input stays NaN.
inline EDGEAI_TARGET_AVX512 __m512 Exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.7228394f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

// Horizontal reductions through memory: GCC 12's _mm512_reduce_* trip -Wmaybe-uninitialized in its own header.
EDGEAI_TARGET_AVX512 float LaneMax(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float m = lanes[0];
  for (int i = 1; i < 16; ++i) m = m < lanes[i] ? lanes[i] : m;
  return m;
}

EDGEAI_TARGET_AVX512 float LaneSum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  const __m256 h = _mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

EDGEAI_TARGET_AVX512 float RowMaxAvx512(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(x[0]);
  __mmask16 nan = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = Lanes(n - i);
    const __m512 v = _mm512_mask_loadu_ps(m, lanes, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, v);
  }
  if (nan != 0) return __builtin_nanf("");
  return LaneMax(m);
}

EDGEAI_TARGET_AVX512 float ExpShiftedSumAvx512(const float* x, float shift, float* y, int64_t n) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = Lanes(n - i);
    const __m512 e = Exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, x + i), s));
    _mm512_mask_storeu_ps(y + i, lanes, e);
    sum = _mm512_mask_add_ps(sum, lanes, sum, e);
  }
  return LaneSum(sum);
}

EDGEAI_TARGET_AVX512 void ScaleRowAvx512(float* y, int64_t n, float s) {
  const __m512 f = _mm512_set1_ps(s);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = Lanes(n - i);
    _mm512_mask_storeu_ps(y + i, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, y + i), f));
  }
}

EDGEAI_TARGET_AVX512 void RowMeanVarAvx512(const float* x, int64_t n, float* mean, float* var) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(Lanes(n - i), x + i));
  const float m = LaneSum(sum) / static_cast<float>(n);
  const __m512 vm = _mm512_set1_ps(m);
  __m512 sq = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = Lanes(n - i);
    const __m512 d = _mm512_maskz_sub_ps(lanes, _mm512_maskz_loadu_ps(lanes, x + i), vm);
    sq = _mm512_fmadd_ps(d, d, sq);
  }
  *mean = m;
  *var = LaneSum(sq) / static_cast<float>(n);
}

EDGEAI_TARGET_AVX512 void NormalizeRowAvx512(const float* x, int64_t n, float mean, float inv, const float* scale,
                                             const float* bias, float* y) {
  const __m512 vm = _mm512_set1_ps(mean), vi = _mm512_set1_ps(inv);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = Lanes(n - i);
    __m512 r = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, x + i), vm), vi),
                             _mm512_maskz_loadu_ps(lanes, scale + i));
    if (bias != nullptr) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(lanes, bias + i));
    _mm512_mask_storeu_ps(y + i, lanes, r);
  }
}

}  // namespace edgeai::cpu::vector_math_internal

#endif  // defined(__x86_64__)
