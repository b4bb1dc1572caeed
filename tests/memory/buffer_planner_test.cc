#include <catch2/catch.hpp>

#include <algorithm>
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

namespace {

// With aliases: requests linked through alias_of share one offset, and a request outside a group must keep
// clear of the whole group (its largest member's bytes) for as long as any member is alive.
void CheckAliasedPlan(const std::vector<BufferRequest>& requests, const BufferPlan& plan) {
  const size_t n = requests.size();
  std::vector<size_t> group(n);
  for (size_t i = 0; i < n; ++i) {
    size_t g = i;
    while (requests[g].alias_of >= 0) g = static_cast<size_t>(requests[g].alias_of);
    group[i] = g;
  }
  std::vector<BufferRequest> extent(n);
  for (size_t i = 0; i < n; ++i) extent[i] = BufferRequest{0, 1 << 30, -1};
  for (size_t i = 0; i < n; ++i) {
    BufferRequest& e = extent[group[i]];
    e.bytes = std::max(e.bytes, requests[i].bytes);
    e.first_use = std::min(e.first_use, requests[i].first_use);
    e.last_use = std::max(e.last_use, requests[i].last_use);
  }
  for (size_t a = 0; a < n; ++a) {
    CHECK(plan.offsets[a] % 64 == 0);
    CHECK(plan.offsets[a] == plan.offsets[group[a]]);
    CHECK(plan.offsets[a] + extent[group[a]].bytes <= plan.arena_bytes);
  }
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = a + 1; b < n; ++b) {
      if (group[a] != a || group[b] != b) continue;
      const BufferRequest& ea = extent[a];
      const BufferRequest& eb = extent[b];
      if (!(ea.first_use <= eb.last_use && eb.first_use <= ea.last_use)) continue;
      bool disjoint = plan.offsets[a] + ea.bytes <= plan.offsets[b] || plan.offsets[b] + eb.bytes <= plan.offsets[a];
      CHECK(disjoint);
    }
  }
}

}  // namespace

TEST_CASE("an aliased tensor shares its source's bytes and extends their lifetime", "[memory][planner]") {
  // 0: written at 0, read at 1.  1: a view of 0, written at 1, read until 4.  2: written at 2, read at 3:
  // alive after 0's own last use, but 1 still holds those bytes, so 2 must go elsewhere.
  std::vector<BufferRequest> requests = {{1000, 0, 1}, {1000, 1, 4, 0}, {1000, 2, 3}};
  BufferPlan plan = PlanBuffers(requests);
  CheckAliasedPlan(requests, plan);
  CHECK(plan.offsets[1] == plan.offsets[0]);
  CHECK(plan.offsets[2] != plan.offsets[0]);
  CHECK(plan.arena_bytes == 2 * 1024);
  CHECK(plan.total_bytes == 3000);
  CHECK(plan.buffers == 2);
  // Without the alias, 1 and 0 overlap in time (step 1) and need two buffers; 2 then reuses 0's.
  requests[1].alias_of = -1;
  BufferPlan apart = PlanBuffers(requests);
  CheckNoOverlap(requests, apart);
  CHECK(apart.buffers == 3);
  CHECK(apart.arena_bytes == 2 * 1024);
}

TEST_CASE("an in-place chain needs one buffer, as large as its largest member", "[memory][planner]") {
  // t0 -> relu in place -> reshape view -> add in place: one buffer for all four; a tensor alive in the
  // middle of the chain goes beside it.
  std::vector<BufferRequest> requests = {{4096, 0, 1}, {4096, 1, 2, 0}, {4096, 2, 3, 1}, {5000, 3, 5, 2},
                                         {100, 2, 2}};
  BufferPlan plan = PlanBuffers(requests);
  CheckAliasedPlan(requests, plan);
  for (int i = 1; i < 4; ++i) CHECK(plan.offsets[i] == plan.offsets[0]);
  CHECK((plan.offsets[4] >= plan.offsets[0] + 5000 || plan.offsets[4] + 100 <= plan.offsets[0]));
  CHECK(plan.arena_bytes == 5056 + 128);
  CHECK(plan.buffers == 2);
}

TEST_CASE("aliases survive turning reuse off", "[memory][planner]") {
  std::vector<BufferRequest> requests = {{1000, 0, 1}, {1000, 1, 2, 0}, {1000, 2, 3}};
  BufferPlan plan = PlanBuffers(requests, 64, /*reuse=*/false);
  CheckAliasedPlan(requests, plan);
  CHECK(plan.offsets[1] == plan.offsets[0]);
  CHECK(plan.arena_bytes == 2 * 1024);
}

TEST_CASE("random aliased chains never overlap live buffers", "[memory][planner]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<BufferRequest> requests;
    int count = 10 + static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      BufferRequest r;
      r.bytes = 1 + static_cast<int64_t>(rng() % 5000);
      r.first_use = static_cast<int>(rng() % 30);
      r.last_use = r.first_use + static_cast<int>(rng() % 8);
      // About a third alias an earlier request alive at their first use, as a view or in-place output would.
      if (i > 0 && rng() % 3 == 0) {
        int source = static_cast<int>(rng() % i);
        r.first_use = std::max(requests[source].first_use, requests[source].last_use);
        r.last_use = r.first_use + static_cast<int>(rng() % 8);
        r.alias_of = source;
      }
      requests.push_back(r);
    }
    BufferPlan plan = PlanBuffers(requests);
    CheckAliasedPlan(requests, plan);
  }
}

TEST_CASE("the plan is no larger than the single largest moment needs when tensors are equal-sized",
          "[memory][planner]") {
  // Equal sizes leave greedy-by-size with no order; the planner tries several and keeps the smallest. Here
  // at most three tensors are alive at once, and the smallest plan uses three buffers.
  std::vector<BufferRequest> requests = {{1024, 0, 5}, {1024, 1, 2}, {1024, 2, 3}, {1024, 3, 4},
                                         {1024, 4, 6}, {1024, 5, 6}, {1024, 6, 7}};
  BufferPlan plan = PlanBuffers(requests);
  CheckNoOverlap(requests, plan);
  CHECK(plan.arena_bytes == 3 * 1024);
}
