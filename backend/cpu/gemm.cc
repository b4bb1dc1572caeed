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

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The K block size: at most kc, with the blocks of one product as even as possible (K = 300 runs as
// 2 x 150, not 256 + 44, whose short block would pay the C traffic of a full one).
int64_t KBlock(int64_t kc, int64_t k) {
  const int64_t blocks = (k + kc - 1) / kc;
  return (k + blocks - 1) / std::max<int64_t>(blocks, 1);
}

// Products computed as C^T = B^T A^T store each register tile transposed, through a buffer: longer K blocks
// make that rarer.
constexpr int64_t kTransposedKcFactor = 4;

// Whether C^T = B^T A^T pads the register tile less than C = A B: the tile's vectors run along N normally (N
// rounds up to whole vectors; M does not, edge tiles having fewer rows) and along M when transposed. The
// transposed store costs a few percent.
bool PreferTransposed(const KernelSet& ks, int64_t m, int64_t n) {
  const double normal = static_cast<double>(m) * RoundUp(n, ks.vec);
  const double transposed = static_cast<double>(n) * RoundUp(m, ks.vec) * 1.08;
  return transposed < normal;
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
  const SgemmRowSource* b_rows = nullptr;    // B generated row by row
  const SgemmRowSource* a_t_rows = nullptr;  // op(A)^T generated row by row (op(A)'s columns)
  bool c_trans = false;                      // C is stored transposed: element (i, j) at c[j * ldc + i]
  bool direct_b = false;  // read B in place (not transposed; A fits in one panel row, so nothing is reused)
  float alpha = 1.0f, beta = 0.0f;
  float* c = nullptr;
  const float* bias = nullptr;  // added to each row of C, or null
};

thread_local AlignedFloatBuffer t_pack_a;
thread_local AlignedFloatBuffer t_pack_b;
thread_local AlignedFloatBuffer t_a_rows;

// The per-thread buffers are sized on first use for the largest block any product of the level can ask for:
// which tile a thread gets varies from run to run, and a buffer that grew only when a thread first met a
// bigger tile would allocate during a warm run.
float* Scratch(AlignedFloatBuffer& buffer, int64_t need, int64_t largest) {
  return buffer.Reserve(static_cast<size_t>(std::max(need, largest)));
}
int64_t LargestKBlock(const KernelSet& ks) { return ks.kc * kTransposedKcFactor; }
int64_t LargestABlock(const KernelSet& ks) { return ks.mc * LargestKBlock(ks); }
// Packed panels, or generated rows with their padding (B blocks of transposed products are always prepacked).
int64_t LargestBBlock(const KernelSet& ks) { return (ks.nc + 16) * ks.kc; }

// op(A) rows [i0, i0 + mb) x k [k0, k0 + kb), packed.
const float* BlockA(const Job& job, int64_t i0, int64_t mb, int64_t k0, int64_t kb) {
  if (job.packed_a != nullptr) return job.packed_a + RoundUp(job.m, job.ks->mr) * k0 + i0 * kb;
  float* dst = Scratch(t_pack_a, RoundUp(mb, job.ks->mr) * kb, LargestABlock(*job.ks));
  if (job.a_t_rows != nullptr) {
    // Rows of op(A)^T into a K x M block, then packed as a transposed A.
    float* rows = Scratch(t_a_rows, kb * mb, LargestABlock(*job.ks));
    for (int64_t k = 0; k < kb; ++k) (*job.a_t_rows)(k0 + k, i0, mb, rows + k * mb);
    job.ks->pack_a(true, rows, mb, mb, kb, dst);
    return dst;
  }
  const float* src = job.trans_a ? job.a + k0 * job.lda + i0 : job.a + i0 * job.lda + k0;
  job.ks->pack_a(job.trans_a, src, job.lda, mb, kb, dst);
  return dst;
}

// op(B) k [k0, k0 + kb) x columns [j0, j0 + nb): packed, or in place.
struct BBlock {
  const float* data;
  int64_t ld;           // the kernel's ldb
  bool packed;          // NR-column panels (else row-major)
  bool padded = false;  // row-major, but whole vectors may be read past the last column
};

BBlock BlockB(const Job& job, int64_t j0, int64_t nb, int64_t k0, int64_t kb) {
  const int64_t nr = job.ks->nr;
  if (job.packed_b != nullptr) return {job.packed_b + RoundUp(job.n, nr) * k0 + j0 * kb, nr, true, true};
  if (job.direct_b) return {job.b + k0 * job.ldb + j0, job.ldb, false};
  if (job.b_rows != nullptr) {
    // Generated rows go straight into a row-major block that the kernel reads in place. Rows are zero-padded to
    // whole panels (so whole vectors may be read) plus 16 floats, so that rows do not fall 2 KiB apart into
    // the same few L1 sets.
    const int64_t ld = RoundUp(nb, nr) + 16;
    float* block = Scratch(t_pack_b, ld * kb, LargestBBlock(*job.ks));
    for (int64_t k = 0; k < kb; ++k) {
      float* row = block + k * ld;
      (*job.b_rows)(k0 + k, j0, nb, row);
      std::fill(row + nb, row + ld, 0.0f);
    }
    return {block, ld, false, true};
  }
  float* dst = Scratch(t_pack_b, RoundUp(nb, nr) * kb, LargestBBlock(*job.ks));
  const float* src = job.trans_b ? job.b + j0 * job.ldb + k0 : job.b + k0 * job.ldb + j0;
  job.ks->pack_b(job.trans_b, src, job.ldb, kb, nb, dst);
  return {dst, nr, true, true};
}

// The transposed store of one register tile t[rows x cols] (row stride ldt) into C^T at c:
// C(j, i) = alpha * t(i, j) + beta * C(j, i) + bias[j]. Each row of C takes a run of `rows` consecutive values.
void StoreTransposed(const float* t, int64_t ldt, int rows, int cols, float* c, int64_t ldc, float alpha,
                     float beta, const float* bias) {
  for (int j = 0; j < cols; ++j) {
    float* cr = c + j * ldc;
    const float add = bias != nullptr ? bias[j] : 0.0f;
    if (beta == 0.0f) {
      for (int i = 0; i < rows; ++i) cr[i] = alpha * t[i * ldt + j] + add;
    } else {
      for (int i = 0; i < rows; ++i) cr[i] = alpha * t[i * ldt + j] + beta * cr[i] + add;
    }
  }
}

// Block [i0, i0 + mb) x [j0, j0 + nb) of the job's C from packed blocks: each A panel stays in L1 while the B
// block streams from L2. `bias` is the first K block's (null after it).
void MacroKernel(const Job& job, int64_t i0, int64_t j0, int64_t mb, int64_t nb, int64_t kb, const float* ap,
                 const BBlock& bp, float beta, const float* bias) {
  const KernelSet& ks = *job.ks;
  constexpr int kMaxTile = 16 * 64;
  alignas(64) float tile[kMaxTile];
  for (int64_t i = 0; i < mb; i += ks.mr) {
    const int rows = static_cast<int>(std::min<int64_t>(ks.mr, mb - i));
    const float* a_panel = ap + i * kb;
    for (int64_t j = 0; j < nb; j += ks.nr) {
      const int cols = static_cast<int>(std::min<int64_t>(ks.nr, nb - j));
      const float* b_panel = bp.data + (bp.packed ? j * kb : j);
      const int64_t ci = i0 + i, cj = j0 + j;
      if (!job.c_trans) {
        ks.kernel(kb, a_panel, b_panel, bp.ld, bp.padded, job.c + ci * job.ldc + cj, job.ldc, rows, cols,
                  job.alpha, beta, bias ? bias + ci : nullptr);
      } else if (ks.mr * ks.nr <= kMaxTile) {
        ks.kernel(kb, a_panel, b_panel, bp.ld, bp.padded, tile, ks.nr, rows, cols, 1.0f, 0.0f, nullptr);
        StoreTransposed(tile, ks.nr, rows, cols, job.c + cj * job.ldc + ci, job.ldc, job.alpha, beta,
                        bias ? bias + cj : nullptr);
      }
    }
  }
}

// C rows [m0, m1) x columns [n0, n1); m0 and n0 are panel aligned. The operand packed here is packed once per
// K block and tile, the other (when not prepacked) once per block of the first.
void RunTile(const Job& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const KernelSet& ks = *job.ks;
  for (int64_t k0 = 0; k0 < job.k; k0 += job.kblock) {
    const int64_t kb = std::min(job.kblock, job.k - k0);
    // The first K block applies beta and the bias; the others accumulate.
    const float beta = k0 == 0 ? job.beta : 1.0f;
    const float* bias = k0 == 0 ? job.bias : nullptr;
    if ((job.packed_b != nullptr || job.direct_b) && job.packed_a == nullptr) {
      for (int64_t i0 = m0; i0 < m1; i0 += ks.mc) {
        const int64_t mb = std::min(ks.mc, m1 - i0);
        const float* ap = BlockA(job, i0, mb, k0, kb);
        for (int64_t j0 = n0; j0 < n1; j0 += ks.nc) {
          const int64_t nb = std::min(ks.nc, n1 - j0);
          MacroKernel(job, i0, j0, mb, nb, kb, ap, BlockB(job, j0, nb, k0, kb), beta, bias);
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
        MacroKernel(job, i0, j0, mb, nb, kb, BlockA(job, i0, mb, k0, kb), bp, beta, bias);
      }
    }
  }
}

// C = beta * C (+ bias), for products with nothing to add.
void ScaleC(int64_t m, int64_t n, float beta, float* c, int64_t ldc, const float* bias) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + n, 0.0f);
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
    if (bias != nullptr) {
      for (int64_t j = 0; j < n; ++j) row[j] += bias[i];
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

// Products with at most this many rows and a transposed, unpacked B run as dot products of rows: packing B
// (a transpose) would cost more than the product.
constexpr int64_t kDotMaxRows = 4;

// Columns [n0, n1) of a dot-product job.
void RunDotColumns(const Job& job, int64_t n0, int64_t n1) {
  const float* a = job.a;
  int64_t lda = job.lda;
  if (job.trans_a) {
    // op(A) has at most kDotMaxRows rows: gather them into rows of this thread's buffer.
    float* rows = Scratch(t_pack_a, job.m * job.k, LargestABlock(*job.ks));
    for (int64_t i = 0; i < job.m; ++i) {
      for (int64_t k = 0; k < job.k; ++k) rows[i * job.k + k] = job.a[k * job.lda + i];
    }
    a = rows;
    lda = job.k;
  }
  job.ks->dot_rows(job.m, n1 - n0, job.k, a, lda, job.b + n0 * job.ldb, job.ldb, job.c + n0, job.ldc, job.alpha,
                   job.beta);
}

void RunDot(const Job& job, const ThreadPool& pool) {
  const double macs = static_cast<double>(job.m) * job.n * job.k;
  const int threads = macs < (1 << 18) ? 1 : pool.threads();
  if (threads == 1) {
    RunDotColumns(job, 0, job.n);
    return;
  }
  const int64_t chunk = (job.n + threads - 1) / threads;
  pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t n0 = t * chunk, n1 = std::min(job.n, n0 + chunk);
      if (n0 < n1) RunDotColumns(job, n0, n1);
    }
  });
}

void Run(Job job, const ThreadPool& pool) {
  if (job.m <= 0 || job.n <= 0) return;
  if (job.k <= 0 || job.alpha == 0.0f) {
    // The bias belongs to the rows of the stored C.
    if (job.c_trans) {
      ScaleC(job.n, job.m, job.beta, job.c, job.ldc, job.bias);
    } else {
      ScaleC(job.m, job.n, job.beta, job.c, job.ldc, job.bias);
    }
    return;
  }
  if (job.trans_b && job.packed_a == nullptr && job.packed_b == nullptr && job.b_rows == nullptr &&
      job.bias == nullptr && !job.c_trans && job.m <= kDotMaxRows) {
    RunDot(job, pool);
    return;
  }
  if (job.kblock <= 0) job.kblock = KBlock(job.ks->kc, job.k);
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
               const float* row_bias) {
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
  return job;
}

}  // namespace

SgemmPacked PackSgemmA(bool trans, int64_t m, int64_t k, const float* a, int64_t lda, int64_t expected_n) {
  const KernelSet& ks = ActiveKernels();
  if (expected_n > 0 && PreferTransposed(ks, m, expected_n)) {
    // A as the B operand of C^T = B^T A^T: op(B') = op(A)^T [K, M], stored as A.
    const int64_t kblock = KBlock(ks.kc * kTransposedKcFactor, k);
    return SgemmPackedAccess::Make(m, k, kblock, true, &ks, PackBPanelsOf(ks, !trans, k, m, a, lda, kblock));
  }
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
                  float beta, float* c, int64_t ldc, const ThreadPool& pool, const float* row_bias) {
  Job job = PackedAJob(a, n, alpha, beta, c, ldc, row_bias);
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
  Run(job, pool);
}

void SgemmPackedA(const SgemmPacked& a, int64_t n, SgemmRowSource b_rows, float alpha, float beta, float* c,
                  int64_t ldc, const ThreadPool& pool, const float* row_bias) {
  Job job = PackedAJob(a, n, alpha, beta, c, ldc, row_bias);
  (job.c_trans ? job.a_t_rows : job.b_rows) = &b_rows;
  Run(job, pool);
}

void SgemmRows(const GemmShape& s, float alpha, const float* a, SgemmRowSource b_rows, float beta, float* c,
               const ThreadPool& pool, const float* row_bias) {
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
  job.bias = row_bias;
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
