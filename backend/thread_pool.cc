#include "backend/thread_pool.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace edgeai {

struct ThreadPool::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
};

ThreadPool::ThreadPool(int threads)
    : threads_(threads > 0 ? threads : tbb::info::default_concurrency()),
      arena_(std::make_unique<Arena>(threads_)) {}

ThreadPool::~ThreadPool() = default;

void ThreadPool::ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) const {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  // Isolation: while this thread waits for the loop's chunks it may only run chunks of this same loop, never a
  // task of another kernel (another concurrent Run, or an outer loop). Kernels keep per-thread scratch buffers
  // alive across their own parallel loops; running an unrelated kernel in the middle would overwrite them.
  arena_->arena.execute([&] {
    tbb::this_task_arena::isolate([&] {
      tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                        [&](const tbb::blocked_range<int64_t>& r) { fn(r.begin(), r.end()); });
    });
  });
}

void ThreadPool::Execute(FunctionRef<void()> fn) const {
  arena_->arena.execute([&] { fn(); });
}

}  // namespace edgeai
