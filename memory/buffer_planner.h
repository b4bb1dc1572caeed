// The buffer planner: gives every intermediate tensor an offset in one arena so that tensors whose lifetimes
// do not overlap share bytes. Greedy by size, as TensorFlow Lite's arena planner and ONNX Runtime's memory
// patterns do: the largest buffers are placed first, each at the lowest aligned offset that does not collide
// with an already placed buffer whose lifetime intersects its own.
//
// Requests may also be aliased (a view of another tensor, or an op's output written over its input): every
// request linked through alias_of gets one offset, and that shared buffer is as large as its largest member
// and lives from the first member's first use to the last member's last use, so nothing else is placed over
// it while any member is alive.
#pragma once

#include <cstdint>
#include <vector>

namespace edgeai {

struct BufferRequest {
  int64_t bytes = 0;
  int first_use = 0;  // step that writes it
  int last_use = 0;   // last step that reads it (inclusive)
  int alias_of = -1;  // index of a request whose buffer this one shares; -1: its own buffer
};

struct BufferPlan {
  std::vector<int64_t> offsets;  // one per request, aligned
  int64_t arena_bytes = 0;       // size of the arena the offsets need
  int64_t total_bytes = 0;       // sum of all requests (what one buffer per tensor would take)
  int64_t buffers = 0;           // distinct shared buffers (requests minus the aliased ones)
};

// `reuse` false gives every buffer its own bytes (a debugging switch for kernels that write out of bounds);
// aliased requests still share theirs.
BufferPlan PlanBuffers(const std::vector<BufferRequest>& requests, int64_t alignment = 64, bool reuse = true);

}  // namespace edgeai
