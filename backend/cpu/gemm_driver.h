// Internal to the SGEMM: one product as the driver sees it, and the helpers gemm.cc shares with it. The driver
// (gemm_driver.cc) splits C into one tile per thread, blocks each tile over K, M and N, packs what is not
// prepacked into per-thread buffers and runs the level's micro-kernel over the blocks.
#pragma once

#include <algorithm>
#include <cstdint>

#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernels.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu::gemm_internal {

inline int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The K block size: at most kc, with the blocks of one product as even as possible (K = 300 runs as
// 2 x 150, not 256 + 44, whose short block would pay the C traffic of a full one).
inline int64_t KBlock(int64_t kc, int64_t k) {
  const int64_t blocks = (k + kc - 1) / kc;
  return (k + blocks - 1) / std::max<int64_t>(blocks, 1);
}

// Products computed as C^T = B^T A^T store each register tile transposed, through a buffer: longer K blocks
// make that rarer.
constexpr int64_t kTransposedKcFactor = 4;

// Whether C^T = B^T A^T pads the register tile less than C = A B: the tile's vectors run along N normally (N
// rounds up to whole vectors; M does not, edge tiles having fewer rows) and along M when transposed. The
// transposed store costs a few percent.
inline bool PreferTransposed(const KernelSet& ks, int64_t m, int64_t n) {
  const double normal = static_cast<double>(m) * RoundUp(n, ks.vec);
  const double transposed = static_cast<double>(n) * RoundUp(m, ks.vec) * 1.08;
  return transposed < normal;
}

// C[m x n] = alpha * op(A) * op(B) + beta * C (+ bias), in the driver's terms. For a transposed product
// (c_trans), A and B here are the caller's B^T and A^T and C is stored transposed.
struct Job {
  const KernelSet* ks = nullptr;
  int64_t m = 0, n = 0, k = 0, kblock = 0;
  bool trans_a = false, trans_b = false;
  const float* a = nullptr;
  const float* b = nullptr;
  int64_t lda = 0, ldb = 0, ldc = 0;
  const float* packed_a = nullptr;  // whole op(A) in packed layout, or null to pack per block
  const float* packed_b = nullptr;
  const SgemmRowSource* b_rows = nullptr;    // B generated row by row
  const SgemmRowSource* a_t_rows = nullptr;  // op(A)^T generated row by row (op(A)'s columns)
  bool c_trans = false;                      // C is stored transposed: element (i, j) at c[j * ldc + i]
  bool direct_b = false;  // read B in place (plain, not transposed, and A has few panels to reuse a copy)
  float alpha = 1.0f, beta = 0.0f;
  float* c = nullptr;
  const float* bias = nullptr;      // bias[i] added to stored row i of C, or null
  const float* col_bias = nullptr;  // col_bias[j] added to stored column j of C, or null
  const OutputClamp* clamp = nullptr;  // applied to C as it is finally stored, or null
};

// Runs one product on the pool (inline when it is small).
void RunJob(Job job, const ThreadPool& pool);

}  // namespace edgeai::cpu::gemm_internal
