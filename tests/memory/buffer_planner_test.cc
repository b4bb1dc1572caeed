#include <catch2/catch.hpp>

#include <random>

#include "memory/buffer_planner.h"

using namespace edgeai;

namespace {

// Every pair of requests alive at the same time must occupy disjoint byte ranges.
void CheckNoOverlap(const std::vector<BufferRequest>& requests, const BufferPlan& plan) {
  for (size_t a = 0; a < requests.size(); ++a) {
    CHECK(plan.offsets[a] % 64 == 0);
    CHECK(plan.offsets[a] + requests[a].bytes <= plan.arena_bytes);
    for (size_t b = a + 1; b < requests.size(); ++b) {
      bool alive_together = requests[a].first_use <= requests[b].last_use &&
                            requests[b].first_use <= requests[a].last_use;
      if (!alive_together || requests[a].bytes == 0 || requests[b].bytes == 0) continue;
      bool disjoint = plan.offsets[a] + requests[a].bytes <= plan.offsets[b] ||
                      plan.offsets[b] + requests[b].bytes <= plan.offsets[a];
      CHECK(disjoint);
    }
  }
}

}  // namespace

TEST_CASE("a chain of tensors needs only two buffers", "[memory][planner]") {
  // t0 -> t1 -> t2 -> t3: each lives from its step to the next.
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 4; ++i) chain.push_back({1000, i, i + 1});
  BufferPlan plan = PlanBuffers(chain);
  CheckNoOverlap(chain, plan);
  CHECK(plan.total_bytes == 4000);
  CHECK(plan.arena_bytes == 2 * 1024);  // two 64-aligned slots of 1000 bytes
}

TEST_CASE("turning reuse off gives every tensor its own bytes", "[memory][planner]") {
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 4; ++i) chain.push_back({1000, i, i + 1});
  BufferPlan plan = PlanBuffers(chain, 64, /*reuse=*/false);
  CheckNoOverlap(chain, plan);
  CHECK(plan.arena_bytes == 4 * 1024);
}

TEST_CASE("random lifetimes never overlap in memory", "[memory][planner]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<BufferRequest> requests;
    for (int i = 0; i < 40; ++i) {
      int first = static_cast<int>(rng() % 30);
      int last = first + static_cast<int>(rng() % 8);
      requests.push_back({static_cast<int64_t>(rng() % 5000), first, last});
    }
    BufferPlan plan = PlanBuffers(requests);
    CheckNoOverlap(requests, plan);
    CHECK(plan.arena_bytes <= plan.total_bytes + 64 * 40);
  }
}
