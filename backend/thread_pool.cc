#include "backend/thread_pool.h"

#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>

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
  // Chunks are claimed one at a time from a shared counter by the calling thread and by up to threads() - 1
  // helper tasks, about four chunks per thread. Unlike a recursive split, where half the range belongs to
  // whichever thread took it, this leaves a descheduled worker (a busy machine) holding one chunk at most: the
  // caller claims everything else, and runs itself any helper task that no worker has started yet.
  const int64_t chunk = std::max(grain, (n + 4 * threads_ - 1) / (4 * threads_));
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  auto claim = [&] {
    for (int64_t begin = next.fetch_add(chunk); begin < n; begin = next.fetch_add(chunk)) {
      fn(begin, std::min(n, begin + chunk));
    }
  };
  // Isolation: while this thread waits for the loop's chunks it may only run chunks of this same loop, never a
  // task of another kernel (another concurrent Run, or an outer loop). Kernels keep per-thread scratch buffers
  // alive across their own parallel loops; running an unrelated kernel in the middle would overwrite them.
  arena_->arena.execute([&] {
    tbb::this_task_arena::isolate([&] {
      tbb::task_group helpers;
      const int64_t tasks = std::min<int64_t>(threads_, chunks) - 1;
      for (int64_t i = 0; i < tasks; ++i) helpers.run(claim);
      claim();
      helpers.wait();
    });
  });
}

void ThreadPool::Execute(FunctionRef<void()> fn) const {
  arena_->arena.execute([&] { fn(); });
}

}  // namespace edgeai
