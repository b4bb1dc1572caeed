// Vectorised float32 loops for the kernels whose time goes into exp and row reductions (Softmax, LogSoftmax,
// LayerNormalization):
// AVX-512 versions picked at run time (following the SGEMM's ISA choice, so forcing that one in tests forces
// these too), and portable loops otherwise. The library is built for baseline x86-64, where the compiler
// cannot use the wide registers by itself.
#pragma once

#include <cstdint>

namespace edgeai::cpu {

// The largest of x[0, n), n >= 1; NaN if any element is NaN.
float RowMax(const float* x, int64_t n);

// y[i] = exp(x[i] - shift) for i < n (x and y may be the same array); returns the sum of the y[i].
// Within 2 ulp of std::exp; exp of less than about -87.3 flushes to 0, NaN stays NaN.
float ExpShiftedSum(const float* x, float shift, float* y, int64_t n);

// y[i] *= s for i < n.
void ScaleRow(float* y, int64_t n, float s);

// The mean and population variance of x[0, n), n >= 1, in two passes (sum, then squared deviations).
void RowMeanVar(const float* x, int64_t n, float* mean, float* var);

// y[i] = (x[i] - mean) * inv * scale[i] (+ bias[i] when bias is not null) for i < n: LayerNormalization's row.
void NormalizeRow(const float* x, int64_t n, float mean, float inv, const float* scale, const float* bias, float* y);

}  // namespace edgeai::cpu
