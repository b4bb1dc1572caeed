#include "memory/arena.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace edgeai {

Arena::~Arena() { std::free(data_); }

Status Arena::Reserve(size_t bytes, bool fill) {
  if (bytes <= capacity_) return Status::Ok();
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* memory = std::aligned_alloc(kAlignment, rounded);
  if (memory == nullptr) return ResourceExhausted("cannot reserve an arena of " + std::to_string(bytes) + " bytes");
  if (fill) std::memset(memory, 0xff, rounded);
  std::free(data_);
  data_ = static_cast<uint8_t*>(memory);
  capacity_ = rounded;
  return Status::Ok();
}

}  // namespace edgeai
