#include "backend/thread_pool.h"

#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeai {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// One parallel loop over `n` iterations in chunks of `chunk` (at most a few per thread, see ParallelFor, so
// chunk numbers fit in 32 bits). The chunks are dealt out in `parts` contiguous runs, one per thread: thread t
// works through run t from its front, then takes chunks from the back of the other runs. So where every thread
// keeps up, an op gives each thread the same share of its iterations, and so of its output bytes, every run:
// with the spread memory layout (ExecutionContext), each line is then written by the same core run after run,
// which matters where the cores share no cache (a VM's vCPUs on two CCDs: writing a line the other core holds
// costs 2-3x a local write; measured, squeezenet1_1 at 2 threads ran 8% faster there than with chunks claimed
// from one shared counter). A descheduled thread still delays no more than a chunk: the rest of its run is
// taken from the back. Each run's claim word has a cache line of its own: the loop lives on the caller's stack,
// and a line shared with hot data would bounce between cores with every claim.
struct alignas(64) Loop {
  static constexpr int kMaxParts = 16;
  struct alignas(64) Part {
    std::atomic<uint64_t> span{0};  // (front chunk << 32) | end chunk, both absolute
  };
  FunctionRef<void(int64_t, int64_t)> fn;
  int64_t n, chunk;
  int parts;
  Part part[kMaxParts];

  Loop(FunctionRef<void(int64_t, int64_t)> f, int64_t count, int64_t size, int threads)
      : fn(f), n(count), chunk(size), parts(std::min(threads, kMaxParts)) {
    const int64_t chunks = (n + chunk - 1) / chunk;
    for (int p = 0; p < parts; ++p) {
      const uint64_t front = static_cast<uint64_t>(chunks * p / parts);
      const uint64_t end = static_cast<uint64_t>(chunks * (p + 1) / parts);
      part[p].span.store((front << 32) | end, std::memory_order_relaxed);
    }
  }

  // The next chunk of run p, from its front (its own thread) or its back (another thread); -1 when it is empty.
  int64_t Take(int p, bool front) {
    uint64_t span = part[p].span.load();
    for (;;) {
      const uint64_t first = span >> 32, end = span & 0xffffffffu;
      if (first >= end) return -1;
      const uint64_t next = front ? (((first + 1) << 32) | end) : ((first << 32) | (end - 1));
      if (part[p].span.compare_exchange_weak(span, next)) return static_cast<int64_t>(front ? first : end - 1);
    }
  }

  void RunChunk(int64_t c) { fn(c * chunk, std::min(n, (c + 1) * chunk)); }

  // Runs chunks as thread `self` of the pool (0: the caller).
  void Claim(int self) {
    const int own = self % parts;
    for (int64_t c = Take(own, true); c >= 0; c = Take(own, true)) RunChunk(c);
    for (int i = 1; i < parts; ++i) {
      const int p = (own + i) % parts;
      for (int64_t c = Take(p, false); c >= 0; c = Take(p, false)) RunChunk(c);
    }
  }
};

// Spins before yielding the processor: a loop posted a few microseconds later is picked up at once, without the
// futex wake-up (tens of microseconds) that a sleeping worker needs.
constexpr int kSpinsBeforeYield = 4000;

// A cache line handed back and forth between the calling thread and a helper (MeasureHandoff).
struct HandOff {
  static constexpr int kRounds = 64;
  static constexpr int kWarmRounds = 8;  // not timed: the first hand-offs also move the code's lines in
  static constexpr int kBlocks = 4;      // timed blocks of (kRounds - kWarmRounds) / kBlocks rounds
  static constexpr int64_t kWaitNs = 200000;  // for the helper to turn up, or for one round
  alignas(64) std::atomic<int> ball{0};
  alignas(64) std::atomic<bool> ready{false};
  std::atomic<bool> abandoned{false};

  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Spins until `done()` or the wait runs out; false when it ran out.
  template <typename Done>
  static bool Await(Done&& done) {
    const int64_t deadline = Now() + kWaitNs;
    // No pause between looks: it would add its own latency (tens of ns) to what is measured.
    for (int spins = 0; !done(); ++spins) {
      if ((spins & 1023) == 1023 && Now() > deadline) return false;
    }
    return true;
  }
  // The caller's side: the one-way latency in ns (the mean over the fastest block of rounds, so that a helper
  // preempted for a moment does not pass for a slow hand-off), or -1 when the helper did not answer in time.
  double Ping() {
    if (!Await([&] { return ready.load(); })) {
      abandoned.store(true);
      return -1.0;
    }
    constexpr int kBlock = (kRounds - kWarmRounds) / kBlocks;
    int64_t best = -1, start = 0;
    for (int r = 0; r < kRounds; ++r) {
      if (r >= kWarmRounds && (r - kWarmRounds) % kBlock == 0) {
        const int64_t now = Now();
        if (r > kWarmRounds && (best < 0 || now - start < best)) best = now - start;
        start = now;
      }
      ball.store(2 * r + 1);
      if (!Await([&] { return ball.load() == 2 * r + 2; })) {
        abandoned.store(true);
        return -1.0;
      }
    }
    const int64_t last = Now() - start;
    if (best < 0 || last < best) best = last;
    return static_cast<double>(best) / (2 * kBlock);
  }
  void Pong() {
    ready.store(true);
    for (int r = 0; r < kRounds; ++r) {
      if (!Await([&] { return ball.load() == 2 * r + 1 || abandoned.load(); }) || abandoned.load()) return;
      ball.store(2 * r + 2);
    }
  }
};

constexpr int64_t kProbeIntervalNs = 250000000;

}  // namespace

// While an Execute call holds the session, the pool's other threads run Serve(): they spin waiting for the
// loops the executing thread posts, so that the many short loops of one inference (MobileNet's 65 ops, an MLP's
// microsecond GEMMs) do not each pay for waking a sleeping worker (ONNX Runtime's intra-op pool spins alike).
struct ThreadPool::Session {
  std::thread::id owner;
  std::atomic<uint64_t> loop_id{0};  // numbers the loops; written before `loop`
  std::atomic<Loop*> loop{nullptr};  // the open loop, or null
  std::atomic<int> joined{0};        // helpers inside their claim of the open loop
  std::atomic<bool> stop{false};
  bool in_loop = false;  // the owner is inside a loop (nested loops run inline); owner-only
  uint64_t next_id = 0;  // owner-only

  // `self`: this helper's place among the pool's threads (the owner is 0).
  void Serve(int self) {
    uint64_t served = 0;  // a helper joins each loop once: re-joining an exhausted loop would only hammer it
    int idle = 0;
    while (!stop.load(std::memory_order_acquire)) {
      const uint64_t id = loop_id.load();
      if (id == served || loop.load() == nullptr) {
        if (++idle < kSpinsBeforeYield) {
          CpuRelax();
        } else {
          std::this_thread::yield();
        }
        continue;
      }
      // Announce first, then look again: the owner closes a loop before it waits for `joined` to reach zero,
      // so either it sees this helper, or this helper sees the loop closed (all sequentially consistent). A
      // loop found open here may be a newer one than `id`; claiming from it is as safe.
      joined.fetch_add(1);
      if (Loop* open = loop.load(); open != nullptr) open->Claim(self);
      joined.fetch_sub(1);
      served = id;
      idle = 0;
    }
  }

  void Run(Loop& l) {
    in_loop = true;
    loop_id.store(++next_id);
    loop.store(&l);
    l.Claim(0);
    loop.store(nullptr);
    while (joined.load() != 0) CpuRelax();
    in_loop = false;
  }
};

struct ThreadPool::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
  std::mutex session_owner;              // held by the Execute call whose session is active
  std::atomic<Session*> session{nullptr};
  std::atomic<int> sharing_mode{static_cast<int>(CacheSharing::kProbe)};
  std::atomic<bool> shares_cache{true};  // the last probe's finding
  int64_t last_probe_ns = 0;             // written by the session's owner only
};

ThreadPool::ThreadPool(int threads)
    : threads_(threads > 0 ? threads : tbb::info::default_concurrency()),
      arena_(std::make_unique<Arena>(threads_)) {}

ThreadPool::~ThreadPool() = default;

const ThreadPool& ThreadPool::Serial() {
  static const ThreadPool* const pool = new ThreadPool(1);
  return *pool;
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) const {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  // About four chunks per thread, claimed one at a time: a thread that is descheduled (a busy machine) delays
  // one chunk, not a fixed share of the loop.
  const int64_t chunk = std::max(grain, (n + 4 * threads_ - 1) / (4 * threads_));
  Loop loop(fn, n, chunk, threads_);
  Session* session = arena_->session.load(std::memory_order_acquire);
  if (session != nullptr && session->owner == std::this_thread::get_id()) {
    if (session->in_loop) {
      fn(0, n);  // nested in one of the session's own loops: every thread is busy already
    } else {
      session->Run(loop);
    }
    return;
  }
  // No session of this thread: up to threads() - 1 helper tasks claim chunks beside the caller, which runs
  // any helper no worker has started yet. Isolation: while this thread waits for the loop's chunks it may
  // only run tasks of this same loop, never a task of another kernel (another concurrent Run, or an outer
  // loop); kernels keep per-thread scratch alive across their own loops.
  const int64_t chunks = (n + chunk - 1) / chunk;
  arena_->arena.execute([&] {
    tbb::this_task_arena::isolate([&] {
      tbb::task_group helpers;
      const int64_t tasks = std::min<int64_t>(threads_, chunks) - 1;
      for (int64_t i = 0; i < tasks; ++i) helpers.run([&loop, i] { loop.Claim(static_cast<int>(i) + 1); });
      loop.Claim(0);
      helpers.wait();
    });
  });
}

double ThreadPool::MeasureHandOff() const {
  if (threads_ == 1) return -1.0;
  HandOff hand_off;
  double one_way = -1.0;
  // With the session held, loop part 0 runs on this thread and part 1 on the first helper (see Loop); should
  // the helper be late, this thread runs both parts in turn and the ping gives up.
  ParallelFor(2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (i == 0) {
        one_way = hand_off.Ping();
      } else {
        hand_off.Pong();
      }
    }
  });
  return one_way;
}

bool ThreadPool::ThreadsShareCache() const {
  switch (static_cast<CacheSharing>(arena_->sharing_mode.load())) {
    case CacheSharing::kShared:
      return true;
    case CacheSharing::kSplit:
      return false;
    case CacheSharing::kProbe:
      break;
  }
  return threads_ == 1 || arena_->shares_cache.load();
}

void ThreadPool::SetCacheSharing(CacheSharing mode) { arena_->sharing_mode.store(static_cast<int>(mode)); }

void ThreadPool::Execute(FunctionRef<void()> fn) const {
  if (threads_ == 1) {
    // Loops run inline, so there is no arena to enter: a batch split's images, each run on this pool by a
    // thread of the engine's pool, skip an arena hop per image.
    fn();
    return;
  }
  const Session* active = arena_->session.load(std::memory_order_acquire);
  if (active != nullptr && active->owner == std::this_thread::get_id()) {
    fn();  // nested in this thread's own Execute (a subgraph's run): already in the arena and the session
    return;
  }
  std::unique_lock<std::mutex> owner(arena_->session_owner, std::try_to_lock);
  if (!owner.owns_lock()) {
    // Another call holds the session: loops fall back to helper tasks.
    arena_->arena.execute([&] { fn(); });
    return;
  }
  Session session;
  session.owner = std::this_thread::get_id();
  arena_->arena.execute([&] {
    tbb::task_group servers;
    for (int i = 1; i < threads_; ++i) servers.run([&session, i] { session.Serve(i); });
    arena_->session.store(&session, std::memory_order_release);
    fn();
    // Measured after the work, when the helpers have long joined (they start, or wake, as Execute begins),
    // for the runs that follow: the placement of a VM's vCPUs lasts seconds to minutes.
    if (arena_->sharing_mode.load() == static_cast<int>(CacheSharing::kProbe)) {
      const int64_t now = HandOff::Now();
      if (arena_->last_probe_ns == 0 || now - arena_->last_probe_ns >= kProbeIntervalNs) {
        arena_->last_probe_ns = now;
        const double one_way = MeasureHandOff();
        if (one_way >= 0) arena_->shares_cache.store(one_way < ThreadPool::kSharedCacheNs);
      }
    }
    arena_->session.store(nullptr, std::memory_order_release);
    session.stop.store(true, std::memory_order_release);
    // A server no worker has started yet runs here, sees `stop` and returns at once.
    servers.wait();
  });
}

}  // namespace edgeai
