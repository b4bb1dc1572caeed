#include "backend/cpu/gemm.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "backend/cpu/gemm_driver.h"
#include "backend/cpu/gemm_kernels.h"
#include "hardware/cpu_info.h"

namespace edgeai::cpu {

using gemm_internal::Job;
using gemm_internal::KBlock;
using gemm_internal::KernelSet;
using gemm_internal::kTransposedKcFactor;
using gemm_internal::PreferTransposed;
using gemm_internal::RoundUp;

// ---------------------------------------------------------------------------------------------------------
// Buffers and packed operands

AlignedFloatBuffer::~AlignedFloatBuffer() { std::free(data_); }

AlignedFloatBuffer::AlignedFloatBuffer(AlignedFloatBuffer&& other) noexcept
    : data_(other.data_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.capacity_ = 0;
}

AlignedFloatBuffer& AlignedFloatBuffer::operator=(AlignedFloatBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.capacity_ = 0;
  }
  return *this;
}

float* AlignedFloatBuffer::Reserve(size_t n) {
  if (n <= capacity_) return data_;
  std::free(data_);
  // Whole cache lines, so that aligned_alloc's size rule holds and vector loads past a panel's end stay inside.
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_ == nullptr) throw std::bad_alloc();
  capacity_ = bytes / sizeof(float);
  return data_;
}

struct SgemmPackedAccess {
  static const KernelSet* Kernels(const SgemmPacked& p) { return static_cast<const KernelSet*>(p.kernels_); }
  static const float* Data(const SgemmPacked& p) { return p.data_.data(); }
  static int64_t KBlock(const SgemmPacked& p) { return p.kblock_; }
  static bool Transposed(const SgemmPacked& p) { return p.transposed_; }
  static SgemmPacked Make(int64_t rows, int64_t cols, int64_t kblock, bool transposed, const KernelSet* ks,
                          AlignedFloatBuffer data) {
    SgemmPacked p;
    p.rows_ = rows;
    p.cols_ = cols;
    p.kblock_ = kblock;
    p.transposed_ = transposed;
    p.kernels_ = ks;
    p.data_ = std::move(data);
    return p;
  }
};

namespace {

// ---------------------------------------------------------------------------------------------------------
// Kernel level selection

const KernelSet* IsaKernels(SgemmIsa isa) {
  switch (isa) {
    case SgemmIsa::kAvx512:
      return gemm_internal::Avx512KernelSet();
    case SgemmIsa::kAvx2:
      return gemm_internal::Avx2KernelSet();
    case SgemmIsa::kPortable:
      return gemm_internal::PortableKernelSet();
  }
  return nullptr;
}

bool CpuRuns(SgemmIsa isa) {
  const CpuInfo& cpu = GetCpuInfo();
  switch (isa) {
    case SgemmIsa::kAvx512:
      return cpu.avx512f && cpu.avx2 && cpu.fma;
    case SgemmIsa::kAvx2:
      return cpu.avx2 && cpu.fma;
    case SgemmIsa::kPortable:
      return true;
  }
  return false;
}

SgemmIsa BestIsa() {
  static const SgemmIsa best = [] {
    for (SgemmIsa isa : {SgemmIsa::kAvx512, SgemmIsa::kAvx2}) {
      if (SgemmIsaSupported(isa)) return isa;
    }
    return SgemmIsa::kPortable;
  }();
  return best;
}

std::atomic<int> g_forced_isa{-1};

const KernelSet& ActiveKernels() { return *IsaKernels(ActiveSgemmIsa()); }

// The active level's kernels for a product of m rows (m of C as computed, not transposed).
const KernelSet& KernelsFor(int64_t m) {
  const KernelSet& active = ActiveKernels();
  const KernelSet* narrow = gemm_internal::Avx512NarrowKernelSet();
  const bool avx512 = &active == gemm_internal::Avx512KernelSet();
  return avx512 && narrow != nullptr && m > active.mr && m <= narrow->mr ? *narrow : active;
}

// ---------------------------------------------------------------------------------------------------------
// Double precision (Eigen)

template <typename T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMajor<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMajor<T>, 0, Eigen::OuterStride<>>;

// Computes the block rows [r0, r1) x columns [c0, c1) of C.
template <typename T>
void EigenGemmBlock(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, int64_t r0, int64_t r1,
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
void EigenGemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, const ThreadPool& pool) {
  if (s.m <= 0 || s.n <= 0) return;
  // Each task packs the whole of the operand it does not split, so split the dimension whose other operand is
  // smaller.
  const bool split_rows = s.m >= s.n;
  const int64_t extent = split_rows ? s.m : s.n;
  const int64_t work_per_unit = std::max<int64_t>(1, (split_rows ? s.n : s.m) * std::max<int64_t>(s.k, 1));
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / work_per_unit);
  grain = std::max(grain, (extent + 4 * pool.threads() - 1) / (4 * pool.threads()));
  pool.ParallelFor(extent, grain, [&](int64_t begin, int64_t end) {
    if (split_rows) {
      EigenGemmBlock(s, alpha, a, b, beta, c, begin, end, 0, s.n);
    } else {
      EigenGemmBlock(s, alpha, a, b, beta, c, 0, s.m, begin, end);
    }
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Public entry points

bool SgemmIsaSupported(SgemmIsa isa) { return IsaKernels(isa) != nullptr && CpuRuns(isa); }

SgemmIsa ActiveSgemmIsa() {
  const int forced = g_forced_isa.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<SgemmIsa>(forced) : BestIsa();
}

bool ForceSgemmIsa(SgemmIsa isa) {
  if (!SgemmIsaSupported(isa)) return false;
  g_forced_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

void ResetSgemmIsa() { g_forced_isa.store(-1, std::memory_order_relaxed); }

const char* SgemmIsaName(SgemmIsa isa) {
  switch (isa) {
    case SgemmIsa::kAvx512:
      return "avx512";
    case SgemmIsa::kAvx2:
      return "avx2";
    case SgemmIsa::kPortable:
      return "portable";
  }
  return "?";
}

namespace {

// The job for C = alpha * op(A) * op(B) + beta * C as `s` describes it (B itself is filled in by the caller).
Job ShapeJob(const GemmShape& s, float alpha, const float* a, float beta, float* c, const OutputClamp* clamp) {
  Job job;
  job.ks = &KernelsFor(s.m);
  job.m = s.m;
  job.n = s.n;
  job.k = s.k;
  job.trans_a = s.trans_a;
  job.a = a;
  job.lda = s.lda;
  job.ldc = s.ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  job.clamp = clamp;
  return job;
}

}  // namespace

void Sgemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool, const OutputClamp* clamp, const float* col_bias) {
  Job job = ShapeJob(s, alpha, a, beta, c, clamp);
  job.trans_b = s.trans_b;
  job.b = b;
  job.ldb = s.ldb;
  job.col_bias = col_bias;
  gemm_internal::RunJob(job, pool);
}

namespace {

// Packs op(B) [K, N] into B panels with K blocks of `kblock`.
AlignedFloatBuffer PackBPanelsOf(const KernelSet& ks, bool trans, int64_t k, int64_t n, const float* b,
                                 int64_t ldb, int64_t kblock) {
  AlignedFloatBuffer data;
  const int64_t n_pad = RoundUp(n, ks.nr);
  if (n <= 0 || k <= 0) return data;
  float* dst = data.Reserve(static_cast<size_t>(n_pad * k));
  for (int64_t k0 = 0; k0 < k; k0 += kblock) {
    const float* src = trans ? b + k0 : b + k0 * ldb;
    ks.pack_b(trans, src, ldb, std::min(kblock, k - k0), n, dst + n_pad * k0);
  }
  return data;
}

// The job for C = alpha * A * B + beta * C (+ bias) with A packed; B is filled in by the caller, as op(B) of a
// plain job, or as op(A)^T of a transposed one (C^T = B^T A^T, where the packed A is the B operand).
Job PackedAJob(const SgemmPacked& a, int64_t n, float alpha, float beta, float* c, int64_t ldc,
               const float* row_bias, const OutputClamp* clamp) {
  Job job;
  job.ks = SgemmPackedAccess::Kernels(a);
  if (job.ks == nullptr) job.ks = &ActiveKernels();
  job.kblock = SgemmPackedAccess::KBlock(a);
  job.k = a.cols();
  job.c_trans = SgemmPackedAccess::Transposed(a);
  job.m = job.c_trans ? n : a.rows();
  job.n = job.c_trans ? a.rows() : n;
  (job.c_trans ? job.packed_b : job.packed_a) = SgemmPackedAccess::Data(a);
  job.ldc = ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  job.bias = row_bias;
  job.clamp = clamp;
  return job;
}

}  // namespace

SgemmPacked PackSgemmA(bool trans, int64_t m, int64_t k, const float* a, int64_t lda, int64_t expected_n) {
  const KernelSet& active = ActiveKernels();
  if (expected_n > 0 && PreferTransposed(active, m, expected_n)) {
    // A as the B operand of C^T = B^T A^T: op(B') = op(A)^T [K, M], stored as A.
    const int64_t kblock = KBlock(active.kc * kTransposedKcFactor, k);
    return SgemmPackedAccess::Make(m, k, kblock, true, &active,
                                   PackBPanelsOf(active, !trans, k, m, a, lda, kblock));
  }
  const KernelSet& ks = KernelsFor(m);
  AlignedFloatBuffer data;
  const int64_t m_pad = RoundUp(m, ks.mr);
  const int64_t kblock = KBlock(ks.kc, k);
  if (m > 0 && k > 0) {
    float* dst = data.Reserve(static_cast<size_t>(m_pad * k));
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const float* src = trans ? a + k0 * lda : a + k0;
      ks.pack_a(trans, src, lda, m, std::min(kblock, k - k0), dst + m_pad * k0);
    }
  }
  return SgemmPackedAccess::Make(m, k, kblock, false, &ks, std::move(data));
}

SgemmPacked PackSgemmB(bool trans, int64_t k, int64_t n, const float* b, int64_t ldb) {
  const KernelSet& ks = ActiveKernels();
  const int64_t kblock = KBlock(ks.kc, k);
  return SgemmPackedAccess::Make(k, n, kblock, false, &ks, PackBPanelsOf(ks, trans, k, n, b, ldb, kblock));
}

void SgemmPackedA(const SgemmPacked& a, bool trans_b, int64_t n, const float* b, int64_t ldb, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool, const float* row_bias,
                  const OutputClamp* clamp) {
  Job job = PackedAJob(a, n, alpha, beta, c, ldc, row_bias, clamp);
  if (job.c_trans) {
    // op(A') = op(B)^T: B stored K x N is op(A')^T's storage; B stored N x K is op(A') itself.
    job.trans_a = !trans_b;
    job.a = b;
    job.lda = ldb;
  } else {
    job.trans_b = trans_b;
    job.b = b;
    job.ldb = ldb;
  }
  gemm_internal::RunJob(job, pool);
}

void SgemmPackedA(const SgemmPacked& a, int64_t n, SgemmRowSource b_rows, float alpha, float beta, float* c,
                  int64_t ldc, const ThreadPool& pool, const float* row_bias, const OutputClamp* clamp) {
  Job job = PackedAJob(a, n, alpha, beta, c, ldc, row_bias, clamp);
  (job.c_trans ? job.a_t_rows : job.b_rows) = &b_rows;
  gemm_internal::RunJob(job, pool);
}

void SgemmRows(const GemmShape& s, float alpha, const float* a, SgemmRowSource b_rows, float beta, float* c,
               const ThreadPool& pool, const float* row_bias, const OutputClamp* clamp) {
  Job job = ShapeJob(s, alpha, a, beta, c, clamp);
  job.b_rows = &b_rows;
  job.bias = row_bias;
  gemm_internal::RunJob(job, pool);
}

void SgemmPackedB(bool trans_a, int64_t m, const float* a, int64_t lda, const SgemmPacked& b, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool, const OutputClamp* clamp,
                  const float* col_bias) {
  Job job;
  job.ks = SgemmPackedAccess::Kernels(b);
  if (job.ks == nullptr) job.ks = &ActiveKernels();
  job.kblock = SgemmPackedAccess::KBlock(b);
  job.m = m;
  job.k = b.rows();
  job.n = b.cols();
  job.trans_a = trans_a;
  job.a = a;
  job.lda = lda;
  job.packed_b = SgemmPackedAccess::Data(b);
  job.ldc = ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  job.clamp = clamp;
  job.col_bias = col_bias;
  gemm_internal::RunJob(job, pool);
}

void Dgemm(const GemmShape& shape, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool) {
  EigenGemm<double>(shape, alpha, a, b, beta, c, pool);
}

}  // namespace edgeai::cpu
