#include "backend/cpu/gemm_driver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "backend/cpu/gemm_pack.h"

namespace edgeai::cpu {
namespace gemm_internal {
namespace {

// The packing buffers of one thread. Each is sized, the first time the thread packs anything, for the largest
// block any product of any level can ask for: which tile a thread gets varies from run to run, and a buffer
// that grew only when its thread first met a bigger tile would allocate during a warm run.
struct ThreadScratch {
  AlignedFloatBuffer pack_a, pack_b, a_rows;
  bool prepared = false;
};
thread_local ThreadScratch t_scratch;
// The largest thread count a preparing pass has run for (a pool may promise more threads than the machine
// can field; such a pass times out once, and is not repeated).
std::atomic<int> g_prepared_for{0};

int64_t LargestABlock(const KernelSet& ks) { return ks.mc * ks.kc * kTransposedKcFactor; }
// Packed panels, or generated rows with their padding (B blocks of transposed products are always prepacked).
int64_t LargestBBlock(const KernelSet& ks) { return (ks.nc + 16) * ks.kc; }

ThreadScratch& PreparedScratch() {
  ThreadScratch& s = t_scratch;
  if (s.prepared) return s;
  int64_t a = 0, b = 0;
  const std::pair<SgemmIsa, const KernelSet*> levels[] = {{SgemmIsa::kPortable, PortableKernelSet()},
                                                           {SgemmIsa::kAvx2, Avx2KernelSet()},
                                                           {SgemmIsa::kAvx512, Avx512KernelSet()}};
  for (const auto& [isa, ks] : levels) {
    if (!SgemmIsaSupported(isa)) continue;
    a = std::max(a, LargestABlock(*ks));
    b = std::max(b, LargestBBlock(*ks));
  }
  s.pack_a.Reserve(static_cast<size_t>(a));
  s.a_rows.Reserve(static_cast<size_t>(a));
  s.pack_b.Reserve(static_cast<size_t>(b));
  s.prepared = true;
  return s;
}

float* Scratch(AlignedFloatBuffer& buffer, int64_t need) { return buffer.Reserve(static_cast<size_t>(need)); }

// op(A) rows [i0, i0 + mb) x k [k0, k0 + kb), packed.
const float* BlockA(const Job& job, int64_t i0, int64_t mb, int64_t k0, int64_t kb) {
  if (job.packed_a != nullptr) return job.packed_a + RoundUp(job.m, job.ks->mr) * k0 + i0 * kb;
  ThreadScratch& scratch = PreparedScratch();
  float* dst = Scratch(scratch.pack_a, RoundUp(mb, job.ks->mr) * kb);
  if (job.a_t_rows != nullptr) {
    // Rows of op(A)^T into a K x M block, then packed as a transposed A.
    float* rows = Scratch(scratch.a_rows, kb * mb);
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
    float* block = Scratch(PreparedScratch().pack_b, ld * kb);
    for (int64_t k = 0; k < kb; ++k) {
      float* row = block + k * ld;
      (*job.b_rows)(k0 + k, j0, nb, row);
      std::fill(row + nb, row + ld, 0.0f);
    }
    return {block, ld, false, true};
  }
  float* dst = Scratch(PreparedScratch().pack_b, RoundUp(nb, nr) * kb);
  const float* src = job.trans_b ? job.b + j0 * job.ldb + k0 : job.b + k0 * job.ldb + j0;
  job.ks->pack_b(job.trans_b, src, job.ldb, kb, nb, dst);
  return {dst, nr, true, true};
}

// The transposed store of one register tile t[rows x cols] (row stride ldt) into C^T at c:
// C(j, i) = alpha * t(i, j) + beta * C(j, i) + bias[j]. Each row of C takes a run of `rows` consecutive values.
void StoreTransposed(const float* t, int64_t ldt, int rows, int cols, float* c, int64_t ldc, const TileStore& st) {
  for (int j = 0; j < cols; ++j) {
    float* cr = c + j * ldc;
    const float add = st.bias != nullptr ? st.bias[j] : 0.0f;
    if (st.beta == 0.0f) {
      for (int i = 0; i < rows; ++i) cr[i] = st.alpha * t[i * ldt + j] + add;
    } else {
      for (int i = 0; i < rows; ++i) cr[i] = st.alpha * t[i * ldt + j] + st.beta * cr[i] + add;
    }
    if (st.col_bias != nullptr) {
      for (int i = 0; i < rows; ++i) cr[i] += st.col_bias[i];
    }
    if (st.clamp) ClampRow(cr, rows, st.lo, st.hi);
  }
}

// Block [i0, i0 + mb) x [j0, j0 + nb) of the job's C from packed blocks: each A panel stays in L1 while the B
// block streams from L2. `store` is this K block's (its bias, on the first block, is indexed from row 0 of C).
void MacroKernel(const Job& job, int64_t i0, int64_t j0, int64_t mb, int64_t nb, int64_t kb, const float* ap,
                 const BBlock& bp, const TileStore& store) {
  const KernelSet& ks = *job.ks;
  alignas(64) float tile[kMaxTileFloats];  // for transposed stores
  const TileStore raw;                     // the tile as computed, for the transposed store
  TileStore st = store;
  for (int64_t i = 0; i < mb; i += ks.mr) {
    const int rows = static_cast<int>(std::min<int64_t>(ks.mr, mb - i));
    const float* a_panel = ap + i * kb;
    for (int64_t j = 0; j < nb; j += ks.nr) {
      const int cols = static_cast<int>(std::min<int64_t>(ks.nr, nb - j));
      const float* b_panel = bp.data + (bp.packed ? j * kb : j);
      const int64_t ci = i0 + i, cj = j0 + j;
      if (!job.c_trans) {
        st.bias = store.bias ? store.bias + ci : nullptr;
        st.col_bias = store.col_bias ? store.col_bias + cj : nullptr;
        ks.kernel(kb, a_panel, b_panel, bp.ld, bp.padded, job.c + ci * job.ldc + cj, job.ldc, rows, cols, st);
      } else {
        ks.kernel(kb, a_panel, b_panel, bp.ld, bp.padded, tile, ks.nr, rows, cols, raw);
        st.bias = store.bias ? store.bias + cj : nullptr;
        st.col_bias = store.col_bias ? store.col_bias + ci : nullptr;
        if (ks.store_transposed != nullptr) {
          ks.store_transposed(tile, ks.nr, rows, cols, job.c + cj * job.ldc + ci, job.ldc, st);
        } else {
          StoreTransposed(tile, ks.nr, rows, cols, job.c + cj * job.ldc + ci, job.ldc, st);
        }
      }
    }
  }
}

// The columns of B packed at a time. Where A has at most two panels (the 16-row 1x1 convolutions of SqueezeNet)
// each packed block serves little arithmetic, and B's rows (an image's channel planes, far apart) are read in
// short runs that the hardware prefetcher barely follows: the block takes as many columns as the packing buffer
// holds at this K block, so that each row is read in longer runs.
int64_t ColumnBlock(const Job& job, int64_t rows, int64_t kb) {
  const KernelSet& ks = *job.ks;
  if (rows > 2 * ks.mr || job.packed_b != nullptr || job.direct_b || kb <= 0) return ks.nc;
  return std::max(ks.nc, (LargestBBlock(ks) / kb - 16) / ks.nr * ks.nr);
}

// C rows [m0, m1) x columns [n0, n1); m0 and n0 are panel aligned. The operand packed here is packed once per
// K block and tile, the other (when not prepacked) once per block of the first.
void RunTile(const Job& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const KernelSet& ks = *job.ks;
  for (int64_t k0 = 0; k0 < job.k; k0 += job.kblock) {
    const int64_t kb = std::min(job.kblock, job.k - k0);
    // The first K block applies beta and the bias, the last the clamp; the others accumulate.
    TileStore st;
    st.alpha = job.alpha;
    st.beta = k0 == 0 ? job.beta : 1.0f;
    st.bias = k0 == 0 ? job.bias : nullptr;
    st.col_bias = k0 == 0 ? job.col_bias : nullptr;
    if (job.clamp != nullptr && k0 + kb >= job.k) {
      st.clamp = true;
      st.lo = job.clamp->lo;
      st.hi = job.clamp->hi;
    }
    if ((job.packed_b != nullptr || job.direct_b) && job.packed_a == nullptr) {
      for (int64_t i0 = m0; i0 < m1; i0 += ks.mc) {
        const int64_t mb = std::min(ks.mc, m1 - i0);
        const float* ap = BlockA(job, i0, mb, k0, kb);
        for (int64_t j0 = n0; j0 < n1; j0 += ks.nc) {
          const int64_t nb = std::min(ks.nc, n1 - j0);
          MacroKernel(job, i0, j0, mb, nb, kb, ap, BlockB(job, j0, nb, k0, kb), st);
        }
      }
      continue;
    }
    const int64_t mc = job.packed_a != nullptr ? m1 - m0 : ks.mc;
    const int64_t nc = ColumnBlock(job, m1 - m0, kb);
    for (int64_t j0 = n0; j0 < n1; j0 += nc) {
      const int64_t nb = std::min(nc, n1 - j0);
      const BBlock bp = BlockB(job, j0, nb, k0, kb);
      for (int64_t i0 = m0; i0 < m1; i0 += mc) {
        const int64_t mb = std::min(mc, m1 - i0);
        MacroKernel(job, i0, j0, mb, nb, kb, BlockA(job, i0, mb, k0, kb), bp, st);
      }
    }
  }
}

// C = beta * C (+ bias, + col_bias), clamped, for products with nothing to add.
void ScaleC(int64_t m, int64_t n, float beta, float* c, int64_t ldc, const float* bias, const float* col_bias,
            const OutputClamp* clamp) {
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
    if (col_bias != nullptr) {
      for (int64_t j = 0; j < n; ++j) row[j] += col_bias[j];
    }
    if (clamp != nullptr) ClampRow(row, n, clamp->lo, clamp->hi);
  }
}

// Splits `panels` into `parts` nearly equal runs; returns the first panel of run `i`.
int64_t SplitPoint(int64_t panels, int64_t parts, int64_t i) { return panels * i / parts; }

// Splits C into tm x tn tiles, one per thread: the grid with the least work on its busiest thread, counting
// the padded tile, the packing each tile does (splitting M repacks B per tile, splitting N repacks A) and the
// prepacked operand each tile streams: weights do not fit in a core's cache, so a tile whose product is thin
// (a 7 x 7 convolution's 49 columns) is bound by reading them, and the split should share them out rather than
// have every thread read all of them.
void ChooseGrid(const Job& job, int threads, int64_t* tm, int64_t* tn) {
  const int64_t pm = (job.m + job.ks->mr - 1) / job.ks->mr, pn = (job.n + job.ks->nr - 1) / job.ks->nr;
  constexpr int64_t kPackCost = 16;  // one packed element, in multiply-adds
  constexpr int64_t kStreamCost = 8;  // one prepacked element read from beyond the core's caches
  double best = -1.0;
  for (int64_t rows = 1; rows <= threads; ++rows) {
    if (threads % rows != 0 || rows > pm) continue;
    const int64_t cols = threads / rows;
    if (cols > pn) continue;
    // The busiest tile's real rows and columns (a short last panel costs in proportion to its rows: with M = 16,
    // panels of 14 + 2 rows split between two threads leave one with 14 rows and the other with 2).
    int64_t tile_m = 0, tile_n = 0;
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t r0 = SplitPoint(pm, rows, i) * job.ks->mr;
      tile_m = std::max(tile_m, std::min(job.m, SplitPoint(pm, rows, i + 1) * job.ks->mr) - r0);
    }
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t c0 = SplitPoint(pn, cols, j) * job.ks->nr;
      const int64_t c1 = std::min(job.n, SplitPoint(pn, cols, j + 1) * job.ks->nr);
      tile_n = std::max(tile_n, RoundUp(c1 - c0, job.ks->vec));  // columns run in whole vectors
    }
    double cost = static_cast<double>(tile_m) * tile_n;
    if (job.packed_a == nullptr) cost += static_cast<double>(kPackCost) * tile_m;
    if (job.packed_b == nullptr && !job.direct_b) cost += static_cast<double>(kPackCost) * tile_n;
    if (job.packed_a != nullptr) cost += static_cast<double>(kStreamCost) * tile_m;
    if (job.packed_b != nullptr) cost += static_cast<double>(kStreamCost) * tile_n;
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
    float* rows = Scratch(PreparedScratch().pack_a, job.m * job.k);
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
  if (threads > 1) PrepareSgemmThreads(pool);
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

// A few rows against a prepacked B, split by panels: the product streams B once, and with B out of the cache
// (the classifier of a network, read once per inference) it is bound by memory, so threads pay off at a tenth
// of the work the blocked path needs.
void RunPackedRows(const Job& job, const ThreadPool& pool) {
  TileStore st;
  st.alpha = job.alpha;
  st.beta = job.beta;
  st.bias = job.bias;
  st.col_bias = job.col_bias;
  if (job.clamp != nullptr) {
    st.clamp = true;
    st.lo = job.clamp->lo;
    st.hi = job.clamp->hi;
  }
  const int64_t a_row = job.trans_a ? 1 : job.lda, a_k = job.trans_a ? job.lda : 1;
  const int64_t panels = (job.n + job.ks->nr - 1) / job.ks->nr;
  const double macs = static_cast<double>(job.m) * job.n * job.k;
  const int threads = static_cast<int>(std::min<int64_t>(macs < (1 << 15) ? 1 : pool.threads(), panels));
  if (threads <= 1) {
    job.ks->packed_rows(job.m, job.k, job.a, a_row, a_k, job.packed_b, job.kblock, job.n, 0, panels, job.c,
                        job.ldc, st);
    return;
  }
  pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      job.ks->packed_rows(job.m, job.k, job.a, a_row, a_k, job.packed_b, job.kblock, job.n,
                          SplitPoint(panels, threads, t), SplitPoint(panels, threads, t + 1), job.c, job.ldc, st);
    }
  });
}

}  // namespace

void RunJob(Job job, const ThreadPool& pool) {
  if (job.m <= 0 || job.n <= 0) return;
  if (job.k <= 0 || job.alpha == 0.0f) {
    // The bias belongs to the rows of the stored C.
    if (job.c_trans) {
      ScaleC(job.n, job.m, job.beta, job.c, job.ldc, job.bias, job.col_bias, job.clamp);
    } else {
      ScaleC(job.m, job.n, job.beta, job.c, job.ldc, job.bias, job.col_bias, job.clamp);
    }
    return;
  }
  if (job.trans_b && job.packed_a == nullptr && job.packed_b == nullptr && job.b_rows == nullptr &&
      job.bias == nullptr && job.col_bias == nullptr && job.clamp == nullptr && !job.c_trans && job.m <= kDotMaxRows) {
    RunDot(job, pool);
    return;
  }
  if (job.kblock <= 0) job.kblock = KBlock(job.ks->kc, job.k);
  if (job.packed_b != nullptr && !job.c_trans && job.m <= kPackedRowsMax && job.ks->packed_rows != nullptr) {
    RunPackedRows(job, pool);
    return;
  }
  // A plain B is read in place when A has few panels to reuse a packed copy: measured on the 1x1 convolutions
  // of MobileNet (M = 16..112 rows; edgeai_kernel_bench), packing cost 10-25% there; from ~144 rows on it is
  // amortised and both ways run alike. Beyond one panel this needs rows that start on cache lines: with 55x55
  // outputs (SqueezeNet) each row's 32 floats straddle three lines, and reading in place was 2x slower than
  // packing at batch 8.
  const bool aligned_rows = job.ldb % 16 == 0;
  job.direct_b = job.packed_b == nullptr && job.b_rows == nullptr && !job.trans_b &&
                 (job.m <= job.ks->mr || (job.m <= 8 * job.ks->mr && aligned_rows));
  // Below ~256K multiply-adds a product takes a few microseconds: not worth waking another thread.
  const double macs = static_cast<double>(job.m) * job.n * job.k;
  const int threads = macs < (1 << 18) ? 1 : pool.threads();
  if (threads > 1) PrepareSgemmThreads(pool);
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
      const int64_t m0 = SplitPoint(pm, tm, ti) * job.ks->mr;
      const int64_t m1 = std::min(job.m, SplitPoint(pm, tm, ti + 1) * job.ks->mr);
      const int64_t n0 = SplitPoint(pn, tn, tj) * job.ks->nr;
      const int64_t n1 = std::min(job.n, SplitPoint(pn, tn, tj + 1) * job.ks->nr);
      if (m0 < m1 && n0 < n1) RunTile(job, m0, m1, n0, n1);
    }
  });
}

}  // namespace gemm_internal

void ForEachProduct(int64_t items, const ThreadPool& pool, FunctionRef<void(int64_t, const ThreadPool&)> fn) {
  if (items >= 2 * pool.threads() && pool.threads() > 1) {
    PrepareSgemmThreads(pool);
    pool.ParallelFor(items, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) fn(i, ThreadPool::Serial());
    });
    return;
  }
  for (int64_t i = 0; i < items; ++i) fn(i, pool);
}

void PrepareSgemmThreads(const ThreadPool& pool) {
  using namespace gemm_internal;
  PreparedScratch();
  const int threads = pool.threads();
  int done = g_prepared_for.load();
  if (threads <= done) return;
  while (done < threads && !g_prepared_for.compare_exchange_weak(done, threads)) {
  }
  if (done >= threads) return;  // another caller took this pass
  // One chunk per thread: each chunk waits (briefly, in case the pool cannot field every thread now) until all
  // have started, so that no thread runs two of them.
  std::atomic<int> started{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      PreparedScratch();
      started.fetch_add(1);
      while (started.load() < threads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    }
  });
}


}  // namespace edgeai::cpu
