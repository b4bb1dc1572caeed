#include "backend/cpu/gemm.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "backend/cpu/gemm_kernels.h"
#include "hardware/cpu_info.h"

namespace edgeai::cpu {

using gemm_internal::KernelSet;

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
  static SgemmPacked Make(int64_t rows, int64_t cols, const KernelSet* ks, AlignedFloatBuffer data) {
    SgemmPacked p;
    p.rows_ = rows;
    p.cols_ = cols;
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

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The K block size: at most ks.kc, with the blocks of one product as even as possible (K = 300 runs as
// 2 x 150, not 256 + 44, whose short block would pay the C traffic of a full one).
int64_t KBlock(const KernelSet& ks, int64_t k) {
  const int64_t blocks = (k + ks.kc - 1) / ks.kc;
  return (k + blocks - 1) / std::max<int64_t>(blocks, 1);
}

// ---------------------------------------------------------------------------------------------------------
// The driver

struct Job {
  const KernelSet* ks = nullptr;
  int64_t m = 0, n = 0, k = 0, kblock = 0;
  bool trans_a = false, trans_b = false;
  const float* a = nullptr;
  const float* b = nullptr;
  int64_t lda = 0, ldb = 0, ldc = 0;
  const float* packed_a = nullptr;  // whole op(A) in packed layout, or null to pack per block
  const float* packed_b = nullptr;
  const SgemmRowSource* b_rows = nullptr;  // B generated row by row
  bool direct_b = false;  // read B in place (not transposed; A fits in one panel row, so nothing is reused)
  float alpha = 1.0f, beta = 0.0f;
  float* c = nullptr;
};

thread_local AlignedFloatBuffer t_pack_a;
thread_local AlignedFloatBuffer t_pack_b;
thread_local AlignedFloatBuffer t_b_row;

// op(A) rows [i0, i0 + mb) x k [k0, k0 + kb), packed.
const float* BlockA(const Job& job, int64_t i0, int64_t mb, int64_t k0, int64_t kb) {
  if (job.packed_a != nullptr) return job.packed_a + RoundUp(job.m, job.ks->mr) * k0 + i0 * kb;
  float* dst = t_pack_a.Reserve(static_cast<size_t>(RoundUp(mb, job.ks->mr) * kb));
  const float* src = job.trans_a ? job.a + k0 * job.lda + i0 : job.a + i0 * job.lda + k0;
  job.ks->pack_a(job.trans_a, src, job.lda, mb, kb, dst);
  return dst;
}

// op(B) k [k0, k0 + kb) x columns [j0, j0 + nb): packed, or in place.
struct BBlock {
  const float* data;
  int64_t ld;   // the kernel's ldb
  bool packed;  // NR-column panels (else B itself, row-major)
};

BBlock BlockB(const Job& job, int64_t j0, int64_t nb, int64_t k0, int64_t kb) {
  const int64_t nr = job.ks->nr;
  if (job.packed_b != nullptr) return {job.packed_b + RoundUp(job.n, nr) * k0 + j0 * kb, nr, true};
  if (job.direct_b) return {job.b + k0 * job.ldb + j0, job.ldb, false};
  float* dst = t_pack_b.Reserve(static_cast<size_t>(RoundUp(nb, nr) * kb));
  if (job.b_rows != nullptr) {
    float* row = t_b_row.Reserve(static_cast<size_t>(nb));
    for (int64_t k = 0; k < kb; ++k) {
      (*job.b_rows)(k0 + k, j0, nb, row);
      job.ks->pack_b_row(row, nb, kb, dst + k * nr);
    }
    return {dst, nr, true};
  }
  const float* src = job.trans_b ? job.b + j0 * job.ldb + k0 : job.b + k0 * job.ldb + j0;
  job.ks->pack_b(job.trans_b, src, job.ldb, kb, nb, dst);
  return {dst, nr, true};
}

// C block [mb x nb] at c from packed blocks: each A panel stays in L1 while the B block streams from L2.
void MacroKernel(const KernelSet& ks, int64_t mb, int64_t nb, int64_t kb, const float* ap, const BBlock& bp,
                 float* c, int64_t ldc, float alpha, float beta) {
  for (int64_t i = 0; i < mb; i += ks.mr) {
    const int rows = static_cast<int>(std::min<int64_t>(ks.mr, mb - i));
    const float* a_panel = ap + i * kb;
    float* c_row = c + i * ldc;
    for (int64_t j = 0; j < nb; j += ks.nr) {
      const int cols = static_cast<int>(std::min<int64_t>(ks.nr, nb - j));
      const float* b_panel = bp.data + (bp.packed ? j * kb : j);
      ks.kernel(kb, a_panel, b_panel, bp.ld, bp.packed, c_row + j, ldc, rows, cols, alpha, beta);
    }
  }
}

// C rows [m0, m1) x columns [n0, n1); m0 and n0 are panel aligned. The operand packed here is packed once per
// K block and tile, the other (when not prepacked) once per block of the first.
void RunTile(const Job& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const KernelSet& ks = *job.ks;
  for (int64_t k0 = 0; k0 < job.k; k0 += job.kblock) {
    const int64_t kb = std::min(job.kblock, job.k - k0);
    const float beta = k0 == 0 ? job.beta : 1.0f;
    if ((job.packed_b != nullptr || job.direct_b) && job.packed_a == nullptr) {
      for (int64_t i0 = m0; i0 < m1; i0 += ks.mc) {
        const int64_t mb = std::min(ks.mc, m1 - i0);
        const float* ap = BlockA(job, i0, mb, k0, kb);
        for (int64_t j0 = n0; j0 < n1; j0 += ks.nc) {
          const int64_t nb = std::min(ks.nc, n1 - j0);
          MacroKernel(ks, mb, nb, kb, ap, BlockB(job, j0, nb, k0, kb), job.c + i0 * job.ldc + j0, job.ldc,
                      job.alpha, beta);
        }
      }
      continue;
    }
    const int64_t mc = job.packed_a != nullptr ? m1 - m0 : ks.mc;
    for (int64_t j0 = n0; j0 < n1; j0 += ks.nc) {
      const int64_t nb = std::min(ks.nc, n1 - j0);
      const BBlock bp = BlockB(job, j0, nb, k0, kb);
      for (int64_t i0 = m0; i0 < m1; i0 += mc) {
        const int64_t mb = std::min(mc, m1 - i0);
        MacroKernel(ks, mb, nb, kb, BlockA(job, i0, mb, k0, kb), bp, job.c + i0 * job.ldc + j0, job.ldc,
                    job.alpha, beta);
      }
    }
  }
}

// C = beta * C, for products with nothing to add.
void ScaleC(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + n, 0.0f);
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// Splits `panels` into `parts` nearly equal runs; returns the first panel of run `i`.
int64_t SplitPoint(int64_t panels, int64_t parts, int64_t i) { return panels * i / parts; }

// Splits C into tm x tn tiles, one per thread: the grid with the least work on its busiest thread, counting
// the padded tile and the packing each tile does (splitting M repacks B per tile, splitting N repacks A).
void ChooseGrid(const Job& job, int threads, int64_t* tm, int64_t* tn) {
  const int64_t pm = (job.m + job.ks->mr - 1) / job.ks->mr, pn = (job.n + job.ks->nr - 1) / job.ks->nr;
  constexpr int64_t kPackCost = 16;  // one packed element, in multiply-adds
  double best = -1.0;
  for (int64_t rows = 1; rows <= threads; ++rows) {
    if (threads % rows != 0 || rows > pm) continue;
    const int64_t cols = threads / rows;
    if (cols > pn) continue;
    const int64_t tile_m = (pm + rows - 1) / rows * job.ks->mr, tile_n = (pn + cols - 1) / cols * job.ks->nr;
    double cost = static_cast<double>(tile_m) * tile_n;
    if (job.packed_a == nullptr) cost += static_cast<double>(kPackCost) * tile_m;
    if (job.packed_b == nullptr) cost += static_cast<double>(kPackCost) * tile_n;
    if (best < 0 || cost < best) {
      best = cost;
      *tm = rows;
      *tn = cols;
    }
  }
}

void Run(Job job, const ThreadPool& pool) {
  if (job.m <= 0 || job.n <= 0) return;
  if (job.k <= 0 || job.alpha == 0.0f) {
    ScaleC(job.m, job.n, job.beta, job.c, job.ldc);
    return;
  }
  job.kblock = KBlock(*job.ks, job.k);
  job.direct_b = job.packed_b == nullptr && job.b_rows == nullptr && !job.trans_b && job.m <= job.ks->mr;
  // Below ~256K multiply-adds a product takes a few microseconds: not worth waking another thread.
  const double macs = static_cast<double>(job.m) * job.n * job.k;
  const int threads = macs < (1 << 18) ? 1 : pool.threads();
  int64_t tm = 1, tn = 1;
  if (threads > 1) ChooseGrid(job, threads, &tm, &tn);
  if (tm * tn == 1) {
    RunTile(job, 0, job.m, 0, job.n);
    return;
  }
  const int64_t pm = (job.m + job.ks->mr - 1) / job.ks->mr, pn = (job.n + job.ks->nr - 1) / job.ks->nr;
  pool.ParallelFor(tm * tn, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t ti = t / tn, tj = t % tn;
      const int64_t m0 = SplitPoint(pm, tm, ti) * job.ks->mr, m1 = std::min(job.m, SplitPoint(pm, tm, ti + 1) * job.ks->mr);
      const int64_t n0 = SplitPoint(pn, tn, tj) * job.ks->nr, n1 = std::min(job.n, SplitPoint(pn, tn, tj + 1) * job.ks->nr);
      if (m0 < m1 && n0 < n1) RunTile(job, m0, m1, n0, n1);
    }
  });
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

void Sgemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool) {
  Job job;
  job.ks = &ActiveKernels();
  job.m = s.m;
  job.n = s.n;
  job.k = s.k;
  job.trans_a = s.trans_a;
  job.trans_b = s.trans_b;
  job.a = a;
  job.b = b;
  job.lda = s.lda;
  job.ldb = s.ldb;
  job.ldc = s.ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  Run(job, pool);
}

SgemmPacked PackSgemmA(bool trans, int64_t m, int64_t k, const float* a, int64_t lda) {
  const KernelSet& ks = ActiveKernels();
  AlignedFloatBuffer data;
  const int64_t m_pad = RoundUp(m, ks.mr);
  if (m > 0 && k > 0) {
    float* dst = data.Reserve(static_cast<size_t>(m_pad * k));
    const int64_t kblock = KBlock(ks, k);
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const float* src = trans ? a + k0 * lda : a + k0;
      ks.pack_a(trans, src, lda, m, std::min(kblock, k - k0), dst + m_pad * k0);
    }
  }
  return SgemmPackedAccess::Make(m, k, &ks, std::move(data));
}

SgemmPacked PackSgemmB(bool trans, int64_t k, int64_t n, const float* b, int64_t ldb) {
  const KernelSet& ks = ActiveKernels();
  AlignedFloatBuffer data;
  const int64_t n_pad = RoundUp(n, ks.nr);
  if (n > 0 && k > 0) {
    float* dst = data.Reserve(static_cast<size_t>(n_pad * k));
    const int64_t kblock = KBlock(ks, k);
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const float* src = trans ? b + k0 : b + k0 * ldb;
      ks.pack_b(trans, src, ldb, std::min(kblock, k - k0), n, dst + n_pad * k0);
    }
  }
  return SgemmPackedAccess::Make(k, n, &ks, std::move(data));
}

void SgemmPackedA(const SgemmPacked& a, bool trans_b, int64_t n, const float* b, int64_t ldb, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool) {
  Job job;
  job.ks = SgemmPackedAccess::Kernels(a);
  if (job.ks == nullptr) job.ks = &ActiveKernels();
  job.m = a.rows();
  job.k = a.cols();
  job.n = n;
  job.trans_b = trans_b;
  job.packed_a = SgemmPackedAccess::Data(a);
  job.b = b;
  job.ldb = ldb;
  job.ldc = ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  Run(job, pool);
}

void SgemmPackedA(const SgemmPacked& a, int64_t n, SgemmRowSource b_rows, float alpha, float beta, float* c,
                  int64_t ldc, const ThreadPool& pool) {
  Job job;
  job.ks = SgemmPackedAccess::Kernels(a);
  if (job.ks == nullptr) job.ks = &ActiveKernels();
  job.m = a.rows();
  job.k = a.cols();
  job.n = n;
  job.packed_a = SgemmPackedAccess::Data(a);
  job.b_rows = &b_rows;
  job.ldc = ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  Run(job, pool);
}

void SgemmRows(const GemmShape& s, float alpha, const float* a, SgemmRowSource b_rows, float beta, float* c,
               const ThreadPool& pool) {
  Job job;
  job.ks = &ActiveKernels();
  job.m = s.m;
  job.n = s.n;
  job.k = s.k;
  job.trans_a = s.trans_a;
  job.a = a;
  job.lda = s.lda;
  job.b_rows = &b_rows;
  job.ldc = s.ldc;
  job.alpha = alpha;
  job.beta = beta;
  job.c = c;
  Run(job, pool);
}

void SgemmPackedB(bool trans_a, int64_t m, const float* a, int64_t lda, const SgemmPacked& b, float alpha,
                  float beta, float* c, int64_t ldc, const ThreadPool& pool) {
  Job job;
  job.ks = SgemmPackedAccess::Kernels(b);
  if (job.ks == nullptr) job.ks = &ActiveKernels();
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
  Run(job, pool);
}

void Dgemm(const GemmShape& shape, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool) {
  EigenGemm<double>(shape, alpha, a, b, beta, c, pool);
}

}  // namespace edgeai::cpu
