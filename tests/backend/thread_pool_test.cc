// ThreadPool: every index of a parallel loop runs exactly once, inside and outside Execute, nested or not; and
// work on the one-thread pool from several threads runs side by side (a batch split's images do that).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "backend/thread_pool.h"

using namespace edgeai;

namespace {

// Runs ParallelFor(n, grain) and checks that each index was visited once.
bool CoversOnce(const ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
  for (auto& s : seen) s.store(0);
  pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
  });
  for (const auto& s : seen) {
    if (s.load() != 1) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("ParallelFor visits every index once, inside and outside Execute", "[thread_pool]") {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 64, 1000}) {
      for (int64_t grain : {1, 3, 100}) {
        INFO("threads " << threads << " n " << n << " grain " << grain);
        CHECK(CoversOnce(pool, n, grain));
        bool inside = false, nested = false;
        pool.Execute([&] {
          inside = CoversOnce(pool, n, grain);
          // A loop inside a loop's chunk runs inline on that chunk's thread.
          std::atomic<bool> all{true};
          pool.ParallelFor(4, 1, [&](int64_t, int64_t) {
            if (!CoversOnce(pool, n, grain)) all.store(false);
          });
          nested = all.load();
        });
        CHECK(inside);
        CHECK(nested);
      }
    }
  }
}

TEST_CASE("the one-thread pool runs work from several threads side by side", "[thread_pool]") {
  // Each caller waits inside Execute until the other has entered too; callers serialised by the pool would
  // each give up after the deadline instead.
  std::atomic<int> entered{0};
  std::atomic<int> met{0};
  auto caller = [&] {
    ThreadPool::Serial().Execute([&] {
      entered.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (entered.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      if (entered.load() >= 2) met.fetch_add(1);
    });
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  CHECK(met.load() == 2);
}
