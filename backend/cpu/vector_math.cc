#include "backend/cpu/vector_math.h"

#include <cmath>

#include "backend/cpu/gemm.h"

namespace edgeai::cpu {
namespace vector_math_internal {  // vector_math_avx512.cc
float RowMaxAvx512(const float* x, int64_t n);
float ExpShiftedSumAvx512(const float* x, float shift, float* y, int64_t n);
void ScaleRowAvx512(float* y, int64_t n, float s);
void RowMeanVarAvx512(const float* x, int64_t n, float* mean, float* var);
void NormalizeRowAvx512(const float* x, int64_t n, float mean, float inv, const float* scale, const float* bias,
                        float* y);
}  // namespace vector_math_internal

namespace {

bool UseAvx512() {
#if defined(__x86_64__)
  return ActiveSgemmIsa() == SgemmIsa::kAvx512;
#else
  return false;
#endif
}

}  // namespace

float RowMax(const float* x, int64_t n) {
#if defined(__x86_64__)
  if (UseAvx512()) return vector_math_internal::RowMaxAvx512(x, n);
#endif
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) {
    if (std::isnan(x[i])) return x[i];
    m = m < x[i] ? x[i] : m;
  }
  return m;
}

float ExpShiftedSum(const float* x, float shift, float* y, int64_t n) {
#if defined(__x86_64__)
  if (UseAvx512()) return vector_math_internal::ExpShiftedSumAvx512(x, shift, y, n);
#endif
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

void ScaleRow(float* y, int64_t n, float s) {
#if defined(__x86_64__)
  if (UseAvx512()) {
    vector_math_internal::ScaleRowAvx512(y, n, s);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}

void RowMeanVar(const float* x, int64_t n, float* mean, float* var) {
#if defined(__x86_64__)
  if (UseAvx512()) {
    vector_math_internal::RowMeanVarAvx512(x, n, mean, var);
    return;
  }
#endif
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float m = sum / static_cast<float>(n);
  float sq = 0.0f;
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - m) * (x[i] - m);
  *mean = m;
  *var = sq / static_cast<float>(n);
}

void NormalizeRow(const float* x, int64_t n, float mean, float inv, const float* scale, const float* bias, float* y) {
#if defined(__x86_64__)
  if (UseAvx512()) {
    vector_math_internal::NormalizeRowAvx512(x, n, mean, inv, scale, bias, y);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * scale[i] + (bias ? bias[i] : 0.0f);
}

}  // namespace edgeai::cpu
