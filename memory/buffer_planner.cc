#include "memory/buffer_planner.h"

#include <algorithm>
#include <numeric>

namespace edgeai {
namespace {

int64_t AlignUp(int64_t value, int64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

bool LifetimesOverlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

}  // namespace

BufferPlan PlanBuffers(const std::vector<BufferRequest>& requests, int64_t alignment, bool reuse) {
  BufferPlan plan;
  plan.offsets.assign(requests.size(), 0);
  for (const BufferRequest& r : requests) plan.total_bytes += r.bytes;
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  std::vector<size_t> placed;  // sorted by offset
  for (size_t index : order) {
    const BufferRequest& request = requests[index];
    int64_t size = AlignUp(std::max<int64_t>(request.bytes, 1), alignment);
    int64_t offset = 0;
    if (!reuse) {
      offset = plan.arena_bytes;
    } else {
      // Walk the placed buffers that are alive at the same time, in offset order, looking for a gap.
      for (size_t other : placed) {
        if (!LifetimesOverlap(request, requests[other])) continue;
        int64_t other_begin = plan.offsets[other];
        int64_t other_end = other_begin + AlignUp(std::max<int64_t>(requests[other].bytes, 1), alignment);
        if (offset + size <= other_begin) break;
        offset = std::max(offset, other_end);
      }
    }
    plan.offsets[index] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    auto position = std::lower_bound(placed.begin(), placed.end(), index,
                                     [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });
    placed.insert(position, index);
  }
  return plan;
}

}  // namespace edgeai
