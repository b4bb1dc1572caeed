#include "backend/cpu/conv_winograd.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "backend/cpu/conv_winograd_kernels.h"

namespace edgeai::cpu {
namespace {

using winograd_internal::InputSegment;
using winograd_internal::kMaxLanes;
using winograd_internal::OutputSegment;
using winograd_internal::TransformIsa;
using winograd_internal::TransformSet;

// EDGEAI_WINOGRAD: "0" turns the Winograd path off (A/B comparisons), "2" or "4" picks the tile size packed
// from then on, "always" takes the path wherever it suits (measuring where it pays). Read once.
const char* WinogradEnv() {
  static const char* value = [] {
    const char* v = std::getenv("EDGEAI_WINOGRAD");
    return v != nullptr ? v : "";
  }();
  return value;
}

// The kernel transform G of F(2x2, 3x3) and F(4x4, 3x3) (interpolation points 0, 1, -1 and 0, 1, -1, 2, -2,
// then infinity), rows of 3 taps.
constexpr double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
constexpr double kG4[6][3] = {{1.0 / 4, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6},
                              {0, 0, 1}};

const TransformSet& Transforms(int tile) {
  TransformIsa isa = TransformIsa::kPortable;
  switch (ActiveSgemmIsa()) {
    case SgemmIsa::kAvx512:
      isa = TransformIsa::kAvx512;
      break;
    case SgemmIsa::kAvx2:
      isa = TransformIsa::kAvx2;
      break;
    case SgemmIsa::kPortable:
      break;
  }
  const TransformSet* set = winograd_internal::WinogradTransforms(tile, isa);
  return set != nullptr ? *set : *winograd_internal::WinogradTransforms(tile, TransformIsa::kPortable);
}

// Pairs [k0, k0 + n) of the weight transform, row i of points: u[j * plane + k] = (G g_k G^T)[i][j] for the
// a points j. The taps are transposed first so that the arithmetic runs along the pairs (vectorised).
constexpr int64_t kPackChunk = 128;
void TransformWeights(const float* w, int64_t k0, int64_t n, const double (*g_rows)[3], int i, int a,
                      int64_t plane, float* u) {
  double taps[9][kPackChunk];
  for (int64_t q = 0; q < n; ++q) {
    for (int t = 0; t < 9; ++t) taps[t][q] = w[(k0 + q) * 9 + t];
  }
  double gt[3][kPackChunk];  // row i of G g
  for (int c = 0; c < 3; ++c) {
    for (int64_t q = 0; q < n; ++q) {
      gt[c][q] = g_rows[i][0] * taps[c][q] + g_rows[i][1] * taps[3 + c][q] + g_rows[i][2] * taps[6 + c][q];
    }
  }
  for (int j = 0; j < a; ++j) {
    float* out = u + j * plane + k0;
    for (int64_t q = 0; q < n; ++q) {
      out[q] = static_cast<float>(gt[0][q] * g_rows[j][0] + gt[1][q] * g_rows[j][1] + gt[2][q] * g_rows[j][2]);
    }
  }
}

// How a call is cut into blocks of tiles.
struct Plan {
  int m = 0, a = 0, points = 0;
  int64_t tw = 0, tiles_per_image = 0, total = 0;  // tiles
  int64_t tb = 0, blocks = 0;                       // tiles per block (the last may have fewer), blocks
  int64_t ld = 0;                                   // floats per (channel, point) row of tiles
  int64_t rows = 0;                                 // max(input, output channels)
  bool across_blocks = true;                        // blocks in parallel, else each block across the pool

  // The blocks are channel-major, V[c][slot][tile] and O[m][slot][tile] with points + 1 slots per channel: a
  // tile transform touches all (m + 2)^2 points of one channel, which then lie in a few consecutive pages
  // rather than one page each; the products read and write every point's rows at the channel stride. The
  // stride is skewed by a cache line so that it is never a multiple of 4 KiB, whose rows would share L1 sets.
  int64_t ChannelStride() const { return (points + 1) * ld + 16; }
  // When one thread runs a block's products in point order, V and O share the buffer: point p's V is in slot
  // p + 1 and its O in slot p, where point p - 1's V was, already consumed. The block then takes half the
  // cache. Products spread over the pool finish out of order, so they get an O of their own.
  int64_t BufferFloats() const { return (across_blocks ? 1 : 2) * rows * ChannelStride(); }
  float* V(float* buffer) const { return buffer + ld; }
  float* O(float* buffer) const { return across_blocks ? buffer : buffer + rows * ChannelStride(); }
};

// A block should stay in a core's L2 (1 MiB on the machines measured; 3/4 of it leaves room for the packed
// GEMM panels). Blocks narrower than 32 tiles starve the GEMM's 32-column register tiles, so the
// budget gives way to that minimum for wide layers.
constexpr int64_t kBlockBytes = 768 * 1024;
constexpr int64_t kMinBlockTiles = 32, kMaxBlockTiles = 128;
// A block's fixed cost (segment set-up, 36 product calls, partial vectors), in tiles' worth of work.
constexpr int64_t kBlockOverheadTiles = 8;

Plan MakePlan(const ConvCallGeometry& p, int tile, int64_t c, int64_t mo, int threads) {
  Plan plan;
  plan.m = tile;
  plan.a = tile + 2;
  plan.points = plan.a * plan.a;
  const int64_t th = (p.out[0] + tile - 1) / tile;
  plan.tw = (p.out[1] + tile - 1) / tile;
  plan.tiles_per_image = th * plan.tw;
  plan.total = p.batch * plan.tiles_per_image;
  plan.rows = std::max(c, mo);
  const int64_t per_tile = (plan.points + 1) * plan.rows * static_cast<int64_t>(sizeof(float));
  const int64_t cap = std::clamp(kBlockBytes / per_tile / 16 * 16, kMinBlockTiles, kMaxBlockTiles);
  // The number of (nearly equal) blocks whose busiest thread does the least work, counting each block's
  // vector padding and fixed cost; fewer blocks win ties.
  int64_t best_cost = -1;
  const int64_t most = std::max<int64_t>(1, (plan.total + 15) / 16);
  for (int64_t blocks = (plan.total + cap - 1) / cap; blocks <= most; ++blocks) {
    const int64_t size = (plan.total + blocks - 1) / blocks;
    const int64_t rounds = (blocks + threads - 1) / threads;
    const int64_t cost = rounds * ((size + 15) / 16 * 16 + kBlockOverheadTiles);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      plan.tb = size;
      plan.blocks = (plan.total + size - 1) / size;
    }
  }
  plan.ld = (plan.tb + 15) / 16 * 16 + kMaxLanes;
  plan.across_blocks = threads == 1 || plan.blocks >= threads;
  return plan;
}

// Each thread's block buffer. A thread reserves it before its first block; PrepareBuffers reserves it on every
// thread of the pool whenever a call needs more than before, so that which thread gets which block in a warm
// run cannot make one allocate.
thread_local AlignedFloatBuffer t_block;
std::atomic<size_t> g_prepared_floats{0};
std::atomic<int> g_prepared_threads{0};

float* ThreadBlock(size_t floats) {
  if (t_block.capacity() < floats) {
    // Zeroed once, so the padding columns the products never write hold no stray NaNs or denormals.
    std::memset(t_block.Reserve(floats), 0, floats * sizeof(float));
  }
  return t_block.data();
}

void PrepareBuffers(const ThreadPool& pool, size_t floats) {
  ThreadBlock(floats);
  const int threads = pool.threads();
  if (threads == 1 || (floats <= g_prepared_floats.load() && threads <= g_prepared_threads.load())) return;
  // One chunk per thread, each waiting (briefly, in case the pool cannot field every thread now) until all have
  // started, so that no thread runs two of them.
  std::atomic<int> started{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      ThreadBlock(floats);
      started.fetch_add(1);
      while (started.load() < threads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    }
  });
  size_t done = g_prepared_floats.load();
  while (done < floats && !g_prepared_floats.compare_exchange_weak(done, floats)) {
  }
  int done_threads = g_prepared_threads.load();
  while (done_threads < threads && !g_prepared_threads.compare_exchange_weak(done_threads, threads)) {
  }
}

// Calls fn(image, tile row, first tile column, tiles, offset in the block) for each run of the block's tiles
// that shares a tile row.
template <typename Fn>
void ForEachSegment(const Plan& plan, int64_t block, Fn&& fn) {
  const int64_t first = block * plan.tb, end = std::min(plan.total, first + plan.tb);
  for (int64_t g = first; g < end;) {
    const int64_t img = g / plan.tiles_per_image, rest = g % plan.tiles_per_image;
    const int64_t ti = rest / plan.tw, tj = rest % plan.tw;
    const int64_t count = std::min(end - g, plan.tw - tj);
    fn(img, ti, tj, count, g - first);
    g += count;
  }
}

// Everything a block's steps need.
struct BlockJob {
  const ConvCallGeometry* p;
  const Plan* plan;
  const TransformSet* transforms;
  const std::vector<SgemmPacked>* u;
  const float* x;
  float* y;
  const float* bias;
  const Activation* act;
  int64_t c, mo;  // channels in, out

  int64_t BlockTiles(int64_t block) const { return std::min(plan->tb, plan->total - block * plan->tb); }
};

void InputBlock(const BlockJob& job, int64_t block, float* v, int64_t c0, int64_t c1) {
  const ConvCallGeometry& p = *job.p;
  const int64_t m = job.plan->m;
  ForEachSegment(*job.plan, block, [&](int64_t img, int64_t ti, int64_t tj, int64_t count, int64_t offset) {
    InputSegment s;
    s.x = job.x + img * job.c * p.in_size;
    s.in_h = p.in[0];
    s.in_w = p.in[1];
    s.row0 = ti * m - p.pad[0];
    s.col0 = tj * m - p.pad[1];
    s.tiles = count;
    s.v = v + offset;
    s.ld = job.plan->ChannelStride();
    s.point_stride = job.plan->ld;
    job.transforms->input(s, c0, c1);
  });
}

void Products(const BlockJob& job, int64_t block, const float* v, float* o, int64_t pt0, int64_t pt1,
              const ThreadPool& serial) {
  const int64_t n = job.BlockTiles(block), ld = job.plan->ld, rows = job.plan->ChannelStride();
  for (int64_t pt = pt0; pt < pt1; ++pt) {
    SgemmPackedA((*job.u)[pt], false, n, v + pt * ld, rows, 1.0f, 0.0f, o + pt * ld, rows, serial);
  }
}

void OutputBlock(const BlockJob& job, int64_t block, const float* o, int64_t m0, int64_t m1) {
  const ConvCallGeometry& p = *job.p;
  const int64_t m = job.plan->m;
  const bool clamp = job.act->IsClamp();
  ForEachSegment(*job.plan, block, [&](int64_t img, int64_t ti, int64_t tj, int64_t count, int64_t offset) {
    OutputSegment s;
    s.o = o + offset;
    s.ld = job.plan->ChannelStride();
    s.point_stride = job.plan->ld;
    s.y = job.y + img * job.mo * p.out_size;
    s.out_h = p.out[0];
    s.out_w = p.out[1];
    s.row0 = ti * m;
    s.col0 = tj * m;
    s.tiles = count;
    s.bias = job.bias;
    s.clamp = clamp;
    s.lo = clamp ? job.act->clamp_lo() : 0.0f;
    s.hi = clamp ? job.act->clamp_hi() : 0.0f;
    s.act = job.act->none() || clamp ? nullptr : job.act;
    job.transforms->output(s, m0, m1);
  });
}

// Items of a loop over `count` rows (channels) for `threads`: a few per thread, at least 4 rows each.
int64_t RowGrain(int64_t count, int threads) { return std::max<int64_t>(4, count / (4 * threads)); }

}  // namespace

bool WinogradConv3x3::Suits(const ConvCallGeometry& p) {
  return p.n == 2 && p.group == 1 && p.kernel[0] == 3 && p.kernel[1] == 3 && p.stride[0] == 1 &&
         p.stride[1] == 1 && p.dilation[0] == 1 && p.dilation[1] == 1 && p.in_channels > 0 &&
         p.out_channels > 0 && p.out[0] > 0 && p.out[1] > 0;
}

// Measured on a Zen 4 core (1 thread, batch 1, ms per node, im2col + GEMM vs Winograd): F(4x4) wins from
// 64ch @ 56x56 (2.4 vs 0.9) down to 48->192 @ 13x13 (0.26 vs 0.19); at 512ch @ 7x7 F(4x4) has only four tiles
// per image and loses (2.5 vs 4.8), F(2x2) wins a little (2.5 vs 2.1). Hence F(2x2) for outputs of at most 10x10
// and F(4x4) above.
int WinogradConv3x3::TileFor(int64_t out_pixels) { return out_pixels > 0 && out_pixels <= 100 ? 2 : 4; }

bool WinogradConv3x3::Enabled() { return std::strcmp(WinogradEnv(), "0") != 0; }

bool WinogradConv3x3::Pays(const ConvCallGeometry& p) const {
  const char* env = WinogradEnv();
  if (std::strcmp(env, "0") == 0) return false;
  if (std::strcmp(env, "always") == 0) return true;
  // Below 16 channels either way the per-point products are too thin to repay the transforms, and a call with
  // fewer tiles than one register tile's vector wastes most of every product.
  const int64_t tiles = p.batch * ((p.out[0] + tile_ - 1) / tile_) * ((p.out[1] + tile_ - 1) / tile_);
  return p.in_channels >= 16 && p.out_channels >= 16 && tiles >= 16;
}

void WinogradConv3x3::Pack(const float* w, int64_t out_channels, int64_t in_channels, int tile) {
  const char* env = WinogradEnv();
  if (std::strcmp(env, "2") == 0) tile = 2;
  if (std::strcmp(env, "4") == 0) tile = 4;
  const int a = tile + 2;
  double g_rows[6][3];
  for (int i = 0; i < a; ++i) {
    for (int k = 0; k < 3; ++k) g_rows[i][k] = tile == 2 ? kG2[i][k] : kG4[i][k];
  }
  // U = G g G^T per (output, input) channel pair, in double. One row of points (i fixed) at a time, so the
  // staging buffer holds `a` matrices rather than all a^2.
  const int64_t plane = out_channels * in_channels;
  std::vector<float> u(static_cast<size_t>(a * plane));
  u_.clear();
  u_.reserve(static_cast<size_t>(a * a));
  for (int i = 0; i < a; ++i) {
    for (int64_t k0 = 0; k0 < plane; k0 += kPackChunk) {
      TransformWeights(w, k0, std::min(kPackChunk, plane - k0), g_rows, i, a, plane, u.data());
    }
    for (int j = 0; j < a; ++j) {
      u_.push_back(PackSgemmA(false, out_channels, in_channels, u.data() + j * plane, in_channels));
    }
  }
  tile_ = tile;
  out_channels_ = out_channels;
  in_channels_ = in_channels;
}

void WinogradConv3x3::Run(const ConvCallGeometry& p, const float* x, const float* bias, const Activation& act,
                          float* y, const ThreadPool& pool) const {
  const Plan plan = MakePlan(p, tile_, in_channels_, out_channels_, pool.threads());
  if (plan.total == 0) return;
  const BlockJob job{&p, &plan, &Transforms(tile_), &u_, x, y, bias, &act, in_channels_, out_channels_};
  const size_t floats = static_cast<size_t>(plan.BufferFloats());
  PrepareBuffers(pool, floats);
  PrepareSgemmThreads(pool);
  if (plan.across_blocks) {
    pool.ParallelFor(plan.blocks, 1, [&](int64_t begin, int64_t end) {
      float* buffer = ThreadBlock(floats);
      for (int64_t block = begin; block < end; ++block) {
        InputBlock(job, block, plan.V(buffer), 0, job.c);
        Products(job, block, plan.V(buffer), plan.O(buffer), 0, plan.points, ThreadPool::Serial());
        OutputBlock(job, block, plan.O(buffer), 0, job.mo);
      }
    });
    return;
  }
  // Too few blocks to go round: each block's channels, points and output channels are spread instead.
  float* buffer = ThreadBlock(floats);
  float* v = plan.V(buffer);
  float* o = plan.O(buffer);
  const int threads = pool.threads();
  for (int64_t block = 0; block < plan.blocks; ++block) {
    pool.ParallelFor(job.c, RowGrain(job.c, threads),
                     [&](int64_t c0, int64_t c1) { InputBlock(job, block, v, c0, c1); });
    pool.ParallelFor(plan.points, 1,
                     [&](int64_t pt0, int64_t pt1) { Products(job, block, v, o, pt0, pt1, ThreadPool::Serial()); });
    pool.ParallelFor(job.mo, RowGrain(job.mo, threads),
                     [&](int64_t m0, int64_t m1) { OutputBlock(job, block, o, m0, m1); });
  }
}

}  // namespace edgeai::cpu
