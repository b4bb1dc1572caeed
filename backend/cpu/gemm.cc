#include "backend/cpu/gemm.h"

#include <Eigen/Core>
#include <algorithm>

namespace edgeai::cpu {
namespace {

template <typename T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMajor<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMajor<T>, 0, Eigen::OuterStride<>>;

// Computes the block rows [r0, r1) x columns [c0, c1) of C.
template <typename T>
void GemmBlock(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, int64_t r0, int64_t r1,
               int64_t c0, int64_t c1) {
  const int64_t rows = r1 - r0, cols = c1 - c0;
  MutMap<T> cm(c + r0 * s.ldc + c0, rows, cols, Eigen::OuterStride<>(s.ldc));
  if (beta == T(0)) {
    cm.setZero();
  } else if (beta != T(1)) {
    cm *= beta;
  }
  if (s.k == 0) return;
  // op(A)'s rows [r0, r1) are columns of A when it is stored transposed (K x M); likewise for op(B)'s columns.
  ConstMap<T> am(s.trans_a ? a + r0 : a + r0 * s.lda, s.trans_a ? s.k : rows, s.trans_a ? rows : s.k,
                 Eigen::OuterStride<>(s.lda));
  ConstMap<T> bm(s.trans_b ? b + c0 * s.ldb : b + c0, s.trans_b ? cols : s.k, s.trans_b ? s.k : cols,
                 Eigen::OuterStride<>(s.ldb));
  if (!s.trans_a && !s.trans_b) {
    cm.noalias() += alpha * am * bm;
  } else if (!s.trans_a) {
    cm.noalias() += alpha * am * bm.transpose();
  } else if (!s.trans_b) {
    cm.noalias() += alpha * am.transpose() * bm;
  } else {
    cm.noalias() += alpha * am.transpose() * bm.transpose();
  }
}

template <typename T>
void Gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, const ThreadPool& pool) {
  if (s.m <= 0 || s.n <= 0) return;
  // Each task packs the whole of the operand it does not split, so split the dimension whose other operand is
  // smaller: rows (re-packing B, K x N) when M >= N, else columns (re-packing A, M x K). Conv's im2col products
  // are short and wide (M = output channels, N = pixels), MatMul's in transformers tall.
  const bool split_rows = s.m >= s.n;
  const int64_t extent = split_rows ? s.m : s.n;
  const int64_t work_per_unit = std::max<int64_t>(1, (split_rows ? s.n : s.m) * std::max<int64_t>(s.k, 1));
  // At least ~64K multiply-adds per task, and no more than 4 tasks per thread.
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / work_per_unit);
  grain = std::max(grain, (extent + 4 * pool.threads() - 1) / (4 * pool.threads()));
  pool.ParallelFor(extent, grain, [&](int64_t begin, int64_t end) {
    if (split_rows) {
      GemmBlock(s, alpha, a, b, beta, c, begin, end, 0, s.n);
    } else {
      GemmBlock(s, alpha, a, b, beta, c, 0, s.m, begin, end);
    }
  });
}

}  // namespace

void Sgemm(const GemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool) {
  Gemm<float>(shape, alpha, a, b, beta, c, pool);
}

void Dgemm(const GemmShape& shape, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool) {
  Gemm<double>(shape, alpha, a, b, beta, c, pool);
}

}  // namespace edgeai::cpu
