// The CPU backend's single-precision matrix product, shared by Conv, Gemm, MatMul and the recurrent ops:
//   C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
// Parallelised over the pool; beta == 0 ignores the previous contents of C (NaNs included).
//
// Sgemm is our own packed, register-blocked GEMM (BLIS-style: K, M and N cache blocks, operands packed into
// panels, an MR x NR micro-kernel with its accumulators in registers). The micro-kernels are compiled for
// AVX-512 and AVX2+FMA through function target attributes and picked once at startup from the CPU's features,
// with a portable C++ fallback, so the library itself needs no -march flag.
//
// Once warm, Sgemm allocates nothing: each thread's packing buffers are sized once, for the largest block (see
// PrepareSgemmThreads). An operand that stays the same across calls (weights) can be packed once with
// PackSgemmA / PackSgemmB and passed to SgemmPackedA / SgemmPackedB, which then skip packing it. Products with
// at most 4 rows and a transposed B (recurrent cells) run as dot products, without packing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/thread_pool.h"

namespace edgeai::cpu {

struct GemmShape {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // leading dimensions (row strides) as stored
};

// A clamp of every element of C to [lo, hi] as the product stores it (a fused Relu or Clip; NaN stays NaN):
// cheaper than a second pass over C, which by then has left the cache.
struct OutputClamp {
  float lo, hi;
};

// `col_bias` (N floats), when given, is added to every row of C as it is stored (a fully connected layer's
// bias), before the clamp.
void Sgemm(const GemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool, const OutputClamp* clamp = nullptr, const float* col_bias = nullptr);

// Same contract for float64 (conformance and double models; not a fast path, and it may allocate).
void Dgemm(const GemmShape& shape, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool);

// A 64-byte aligned float array that only grows (its contents are not kept when it does).
class AlignedFloatBuffer {
 public:
  AlignedFloatBuffer() = default;
  ~AlignedFloatBuffer();
  AlignedFloatBuffer(AlignedFloatBuffer&& other) noexcept;
  AlignedFloatBuffer& operator=(AlignedFloatBuffer&& other) noexcept;
  AlignedFloatBuffer(const AlignedFloatBuffer&) = delete;
  AlignedFloatBuffer& operator=(const AlignedFloatBuffer&) = delete;

  // At least n floats; allocates only when n exceeds the capacity.
  float* Reserve(size_t n);
  float* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

// One operand of Sgemm packed ahead of time for the kernel level that was active when it was packed (it keeps
// working if the level changes later). Read it only through the functions below.
class SgemmPacked {
 public:
  bool empty() const { return rows_ == 0 && cols_ == 0; }
  int64_t rows() const { return rows_; }  // op(A): M, op(B): K
  int64_t cols() const { return cols_; }  // op(A): K, op(B): N

 private:
  friend struct SgemmPackedAccess;  // gemm.cc
  int64_t rows_ = 0, cols_ = 0;
  int64_t kblock_ = 0;             // K block size of the layout
  bool transposed_ = false;        // an A laid out for the product C^T = B^T A^T
  const void* kernels_ = nullptr;  // the level's kernel set
  AlignedFloatBuffer data_;
};

// Packs op(A) [M, K] (trans: A is stored K x M). `expected_n`, when known (> 0), is the N of the products it
// will take part in: where N is small and pads the register tile's vectors (Conv's 7 x 7 = 49 output pixels
// fill 64 lanes), A is laid out for computing C^T = op(B)^T A^T instead, with the tile's vectors along M.
// Either layout serves any N.
SgemmPacked PackSgemmA(bool trans, int64_t m, int64_t k, const float* a, int64_t lda, int64_t expected_n = 0);
// Packs op(B) [K, N] (trans: B is stored N x K).
SgemmPacked PackSgemmB(bool trans, int64_t k, int64_t n, const float* b, int64_t ldb);

// C[M, N] = alpha * A * op(B) + beta * C (+ row_bias[i] on row i, when given) with A packed (M and K from it).
void SgemmPackedA(const SgemmPacked& a, bool trans_b, int64_t n, const float* b, int64_t ldb, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool, const float* row_bias = nullptr,
                  const OutputClamp* clamp = nullptr);
// Produces op(B)'s row k, columns [j0, j0 + n), into out[0, n): a B that is cheaper to generate than to store,
// such as Conv's im2col matrix, which is then packed straight from its source. Called from several threads
// at once.
using SgemmRowSource = FunctionRef<void(int64_t k, int64_t j0, int64_t n, float* out)>;

// C[M, N] = alpha * A * B + beta * C (+ row_bias) with A packed and B from `b_rows`.
void SgemmPackedA(const SgemmPacked& a, int64_t n, SgemmRowSource b_rows, float alpha, float beta, float* c,
                  int64_t ldc, const ThreadPool& pool, const float* row_bias = nullptr,
                  const OutputClamp* clamp = nullptr);
// C = alpha * op(A) * B + beta * C (+ row_bias) with B from `b_rows` (shape.trans_b and shape.ldb are not used).
void SgemmRows(const GemmShape& shape, float alpha, const float* a, SgemmRowSource b_rows, float beta, float* c,
               const ThreadPool& pool, const float* row_bias = nullptr, const OutputClamp* clamp = nullptr);

// C[M, N] = alpha * op(A) * B + beta * C with B packed (K and N from it).
void SgemmPackedB(bool trans_a, int64_t m, const float* a, int64_t lda, const SgemmPacked& b, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool, const OutputClamp* clamp = nullptr,
                  const float* col_bias = nullptr);

// Sizes the packing buffers of the calling thread and of every thread of `pool` (once per thread; later calls
// return at once), so that no thread allocates when it first packs in a warm run. Multithreaded products call
// it themselves; kernels that run single-threaded products inside their own parallel loops (one per image or
// batch) call it first with their pool.
void PrepareSgemmThreads(const ThreadPool& pool);

// Runs fn(i, pool) for `items` independent products (images, groups, batch matrices): with at least two per
// thread the items are shared out and each computes on one thread (ThreadPool::Serial()); otherwise they run
// one after another, each on the whole pool.
void ForEachProduct(int64_t items, const ThreadPool& pool, FunctionRef<void(int64_t, const ThreadPool&)> fn);

// The micro-kernel levels. The best one the CPU supports is chosen on first use; tests and benchmarks may
// force another (process-wide; not meant to change while products run).
enum class SgemmIsa { kPortable, kAvx2, kAvx512 };
bool SgemmIsaSupported(SgemmIsa isa);
SgemmIsa ActiveSgemmIsa();
// False (and no change) when the CPU or the build lacks `isa`.
bool ForceSgemmIsa(SgemmIsa isa);
void ResetSgemmIsa();
const char* SgemmIsaName(SgemmIsa isa);

}  // namespace edgeai::cpu
