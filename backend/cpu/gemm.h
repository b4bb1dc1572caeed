// The CPU backend's single-precision matrix product, shared by Conv, Gemm, MatMul and the recurrent ops:
//   C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
// Parallelised over the pool; beta == 0 ignores the previous contents of C (NaNs included).
#pragma once

#include <cstdint>

#include "backend/thread_pool.h"

namespace edgeai::cpu {

struct GemmShape {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // leading dimensions (row strides) as stored
};

void Sgemm(const GemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool);

// Same contract for float64 (conformance and double models; not a fast path).
void Dgemm(const GemmShape& shape, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool);

}  // namespace edgeai::cpu
