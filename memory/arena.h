// Arena: one 64-byte aligned block that planned tensors are carved from. It only grows (Reserve), so once an
// execution context has seen its largest plan, runs never allocate. Not thread safe: one per execution context.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgeai/status.h"

namespace edgeai {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Makes room for at least `bytes` (previous contents are not kept). resource_exhausted when memory runs out.
  // Fresh bytes are NaN-filled (0xff), so that a kernel that wrongly relies on zeroed outputs fails loudly in
  // tests instead of by luck; `fill` false leaves them untouched, so that the pages cost no memory until used.
  Status Reserve(size_t bytes, bool fill = true);
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace edgeai
