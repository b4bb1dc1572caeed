#include "backend/thread_pool.h"

#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
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

// One parallel loop: chunks of `chunk` iterations claimed from `next` until `n` is reached. The counter has a
// cache line of its own: the loop lives on the caller's stack, and a line shared with the caller's hot locals
// would bounce between cores with every claim.
struct alignas(64) Loop {
  FunctionRef<void(int64_t, int64_t)> fn;
  int64_t n, chunk;
  alignas(64) std::atomic<int64_t> next{0};

  Loop(FunctionRef<void(int64_t, int64_t)> f, int64_t count, int64_t size) : fn(f), n(count), chunk(size) {}
  void Claim() {
    for (int64_t begin = next.fetch_add(chunk); begin < n; begin = next.fetch_add(chunk)) {
      fn(begin, std::min(n, begin + chunk));
    }
  }
};

// Spins before yielding the processor: a loop posted a few microseconds later is picked up at once, without the
// futex wake-up (tens of microseconds) that a sleeping worker needs.
constexpr int kSpinsBeforeYield = 4000;

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

  void Serve() {
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
      if (Loop* open = loop.load(); open != nullptr) open->Claim();
      joined.fetch_sub(1);
      served = id;
      idle = 0;
    }
  }

  void Run(Loop& l) {
    in_loop = true;
    loop_id.store(++next_id);
    loop.store(&l);
    l.Claim();
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
  Loop loop(fn, n, chunk);
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
      for (int64_t i = 0; i < tasks; ++i) helpers.run([&] { loop.Claim(); });
      loop.Claim();
      helpers.wait();
    });
  });
}

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
    for (int i = 1; i < threads_; ++i) servers.run([&] { session.Serve(); });
    arena_->session.store(&session, std::memory_order_release);
    fn();
    arena_->session.store(nullptr, std::memory_order_release);
    session.stop.store(true, std::memory_order_release);
    // A server no worker has started yet runs here, sees `stop` and returns at once.
    servers.wait();
  });
}

}  // namespace edgeai
