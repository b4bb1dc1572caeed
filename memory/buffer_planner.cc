#include "memory/buffer_planner.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace edgeai {
namespace {

int64_t AlignUp(int64_t value, int64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

bool LifetimesOverlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

int FindRoot(std::vector<int>& parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

// One request per shared buffer: `root[i]` is the request standing for request i's buffer, and
// `extents[root]` the union of its members (largest size, earliest first use, latest last use).
void GroupAliases(const std::vector<BufferRequest>& requests, std::vector<int>* root,
                  std::vector<BufferRequest>* extents) {
  const int n = static_cast<int>(requests.size());
  std::vector<int> parent(requests.size());
  std::iota(parent.begin(), parent.end(), 0);
  for (int i = 0; i < n; ++i) {
    int other = requests[i].alias_of;
    if (other < 0 || other >= n) continue;
    int a = FindRoot(parent, i);
    int b = FindRoot(parent, other);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  root->resize(requests.size());
  *extents = requests;
  for (int i = 0; i < n; ++i) {
    int r = FindRoot(parent, i);
    (*root)[i] = r;
    if (r == i) continue;
    BufferRequest& e = (*extents)[r];
    e.bytes = std::max(e.bytes, requests[i].bytes);
    e.first_use = std::min(e.first_use, requests[i].first_use);
    e.last_use = std::max(e.last_use, requests[i].last_use);
  }
}

// Places `order` (roots of buffer groups) one by one, each at the lowest aligned offset clear of every placed
// buffer whose lifetime intersects its own; returns the arena size and fills offsets[root].
int64_t Place(const std::vector<BufferRequest>& extents, const std::vector<size_t>& order, int64_t alignment,
              bool reuse, std::vector<int64_t>* offsets) {
  int64_t arena = 0;
  std::vector<size_t> placed;  // sorted by offset
  for (size_t index : order) {
    const BufferRequest& request = extents[index];
    int64_t size = AlignUp(std::max<int64_t>(request.bytes, 1), alignment);
    int64_t offset = 0;
    if (!reuse) {
      offset = arena;
    } else {
      // Walk the placed buffers that are alive at the same time, in offset order, looking for a gap.
      for (size_t other : placed) {
        if (!LifetimesOverlap(request, extents[other])) continue;
        int64_t other_begin = (*offsets)[other];
        int64_t other_end = other_begin + AlignUp(std::max<int64_t>(extents[other].bytes, 1), alignment);
        if (offset + size <= other_begin) break;
        offset = std::max(offset, other_end);
      }
    }
    (*offsets)[index] = offset;
    arena = std::max(arena, offset + size);
    auto position = std::lower_bound(placed.begin(), placed.end(), index,
                                     [&](size_t a, size_t b) { return (*offsets)[a] < (*offsets)[b]; });
    placed.insert(position, index);
  }
  return arena;
}

}  // namespace

BufferPlan PlanBuffers(const std::vector<BufferRequest>& requests, int64_t alignment, bool reuse) {
  BufferPlan plan;
  plan.offsets.assign(requests.size(), 0);
  for (const BufferRequest& r : requests) plan.total_bytes += r.bytes;
  std::vector<int> root;
  std::vector<BufferRequest> extents;
  GroupAliases(requests, &root, &extents);
  std::vector<size_t> roots;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (root[i] == static_cast<int>(i)) roots.push_back(i);
  }
  plan.buffers = static_cast<int64_t>(roots.size());
  auto length = [&](size_t i) { return extents[i].last_use - extents[i].first_use; };
  // Greedy by size is a heuristic: equal sizes (common in real models) leave the order open, and the best
  // tie-break depends on the graph. A plan is cheap next to the runs that use it, so try a few and keep the
  // smallest; placement is quadratic, so very large graphs get only the first.
  using Less = std::function<bool(size_t, size_t)>;
  const Less orders[] = {
      [&](size_t a, size_t b) {
        if (extents[a].bytes != extents[b].bytes) return extents[a].bytes > extents[b].bytes;
        return length(a) > length(b);
      },
      [&](size_t a, size_t b) { return extents[a].bytes > extents[b].bytes; },
      [&](size_t a, size_t b) {
        if (extents[a].bytes != extents[b].bytes) return extents[a].bytes > extents[b].bytes;
        return extents[a].first_use < extents[b].first_use;
      },
      [&](size_t a, size_t b) { return extents[a].first_use < extents[b].first_use; },
      [&](size_t a, size_t b) { return length(a) > length(b); },
  };
  constexpr size_t kMaxBuffersForSeveralOrders = 4096;
  const bool several = reuse && roots.size() <= kMaxBuffersForSeveralOrders;
  std::vector<int64_t> offsets(requests.size(), 0);
  bool first = true;
  for (const Less& less : orders) {
    std::vector<size_t> order = roots;
    std::stable_sort(order.begin(), order.end(), less);
    int64_t arena = Place(extents, order, alignment, reuse, &offsets);
    if (first || arena < plan.arena_bytes) {
      plan.arena_bytes = arena;
      for (size_t i = 0; i < requests.size(); ++i) plan.offsets[i] = offsets[root[i]];
    }
    first = false;
    if (!several) break;
  }
  return plan;
}

}  // namespace edgeai
