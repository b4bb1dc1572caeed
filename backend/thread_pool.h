// ThreadPool: the engine-wide pool for intra-op parallelism, one oneTBB task_arena sized to the configured
// thread count. Kernels call ParallelFor; the executor wraps a whole inference in Execute so that nested
// parallel work stays inside the arena (no oversubscription, no thread creation per run).
// Thread safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace edgeai {

// A non-owning reference to a callable: no allocation, unlike std::function. The callable must outlive it.
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like a reference
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Whether a pool's threads share a cache: probed (the default), or fixed by the caller (tests, benchmarks).
enum class CacheSharing { kProbe, kShared, kSplit };

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // A shared one-thread pool: every ParallelFor on it runs inline. Work done inside one item of a parallel loop
  // computes through it, so that it never waits on nested loops (a waiting thread could pick up another item and
  // reuse its thread-local scratch). Never destroyed, so no exit-time teardown order with oneTBB.
  static const ThreadPool& Serial();

  // Calls fn(begin, end) on disjoint chunks covering [0, n), each at least `grain` long (except the last),
  // possibly in parallel; returns when every chunk is done. Runs inline when n <= grain or threads() == 1.
  // Thread t of the pool (the caller is 0) starts on the t-th of `threads()` contiguous runs of chunks, so
  // that, where every thread keeps up, each thread gets the same iterations every call; a thread done with
  // its run takes chunks from the back of the others'.
  // The loop is isolated: a thread waiting in it runs only its chunks, so per-thread scratch held by the
  // calling kernel is never reused by another kernel meanwhile.
  void ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) const;

  // Runs fn inside this pool's arena and waits for it (a one-thread pool runs it inline: its loops need no
  // arena). Several threads may run work on the one-thread pool at once. While it runs, the pool's other threads spin waiting
  // for the loops fn's thread starts (one Execute at a time holds them; concurrent ones run their loops on
  // helper tasks), so that short loops do not pay for waking sleeping threads.
  void Execute(FunctionRef<void()> fn) const;

  // Whether the pool's threads were last found to share a cache, so that a line one writes reaches the other
  // cheaply. A VM's vCPUs may sit on one CCD of the host for a while, then on two (for seconds to minutes);
  // across CCDs, reading or writing a line the other core holds costs 2-3x a local access, and memory that
  // the threads write in turn is better not reused between tensors (see ExecutionContext). Execute measures
  // it (a cache line handed between two of the pool's threads, ~1-5 us) at most every 250 ms; true for a
  // one-thread pool and until the first measurement.
  bool ThreadsShareCache() const;
  // Above this one-way hand-off latency (ns) the threads are taken not to share a cache: measured on a 2-vCPU
  // Zen 4 VM, 25-40 ns while its vCPUs sit on one CCD, 150-330 ns while the host has put them on two.
  static constexpr double kSharedCacheNs = 80.0;
  void SetCacheSharing(CacheSharing mode);
  // The one-way latency of handing a cache line from the calling thread to one of the pool's threads, in ns,
  // or -1 when none answered within 0.2 ms (a one-thread pool: -1). Call it inside Execute, where helpers wait.
  double MeasureHandOff() const;

 private:
  struct Arena;
  struct Session;
  int threads_;
  std::unique_ptr<Arena> arena_;
};

}  // namespace edgeai
