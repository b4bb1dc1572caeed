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

// Computes rows [row_begin, row_end) of C.
template <typename T>
void GemmRows(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, int64_t row_begin,
              int64_t row_end) {
  int64_t rows = row_end - row_begin;
  MutMap<T> cm(c + row_begin * s.ldc, rows, s.n, Eigen::OuterStride<>(s.ldc));
  ConstMap<T> bm(b, s.trans_b ? s.n : s.k, s.trans_b ? s.k : s.n, Eigen::OuterStride<>(s.ldb));
  if (beta == T(0)) {
    cm.setZero();
  } else if (beta != T(1)) {
    cm *= beta;
  }
  if (s.k == 0) return;
  if (!s.trans_a) {
    ConstMap<T> am(a + row_begin * s.lda, rows, s.k, Eigen::OuterStride<>(s.lda));
    if (s.trans_b) {
      cm.noalias() += alpha * am * bm.transpose();
    } else {
      cm.noalias() += alpha * am * bm;
    }
  } else {
    // A is stored K x M; the rows of op(A) we need are columns [row_begin, row_end).
    ConstMap<T> am(a + row_begin, s.k, rows, Eigen::OuterStride<>(s.lda));
    if (s.trans_b) {
      cm.noalias() += alpha * am.transpose() * bm.transpose();
    } else {
      cm.noalias() += alpha * am.transpose() * bm;
    }
  }
}

template <typename T>
void Gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, const ThreadPool& pool) {
  if (s.m <= 0 || s.n <= 0) return;
  // Split rows so each task has a worthwhile amount of work (~64K multiply-adds at least).
  int64_t work_per_row = std::max<int64_t>(1, s.n * std::max<int64_t>(s.k, 1));
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / work_per_row);
  grain = std::max(grain, (s.m + 4 * pool.threads() - 1) / (4 * pool.threads()));
  pool.ParallelFor(s.m, grain, [&](int64_t begin, int64_t end) { GemmRows(s, alpha, a, b, beta, c, begin, end); });
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
