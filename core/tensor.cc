#include "edgeai/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace edgeai {
namespace {

// Element count of a shape, or -1 when a dim is negative or the byte size would overflow.
int64_t CheckedElementCount(const Shape& shape, size_t element_size) {
  int64_t count = 1;
  const int64_t kMaxBytes = std::numeric_limits<int64_t>::max() / 2;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    if (dim != 0 && count > kMaxBytes / dim) return -1;
    count *= dim;
  }
  if (element_size != 0 && count > kMaxBytes / static_cast<int64_t>(element_size)) return -1;
  return count;
}

}  // namespace

Result<Tensor> Tensor::Allocate(DataType dtype, const Shape& shape) {
  size_t element_size = DataTypeSize(dtype);
  if (element_size == 0) {
    return InvalidArgument("cannot allocate a tensor of dtype " + std::string(DataTypeName(dtype)));
  }
  int64_t count = CheckedElementCount(shape, element_size);
  if (count < 0) {
    return ResourceExhausted("tensor shape " + shape.ToString() + " of " + std::string(DataTypeName(dtype)) +
                             " is invalid or too large");
  }
  size_t bytes = static_cast<size_t>(count) * element_size;
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  void* memory = std::aligned_alloc(kAlignment, rounded);
  if (memory == nullptr) {
    return ResourceExhausted("out of memory allocating " + std::to_string(bytes) + " bytes for tensor " +
                             shape.ToString());
  }
  std::memset(memory, 0, rounded);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.data_ = memory;
  t.storage_ = std::shared_ptr<void>(memory, [](void* p) { std::free(p); });
  return t;
}

Tensor Tensor::View(DataType dtype, const Shape& shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.data_ = data;
  return t;
}

Result<Tensor> Tensor::Reshaped(const Shape& shape) const {
  if (shape.NumElements() != NumElements()) {
    return InvalidArgument("cannot reshape " + Describe() + " to " + shape.ToString());
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Result<Tensor> Tensor::Clone() const {
  EDGEAI_ASSIGN_OR_RETURN(Tensor copy, Allocate(dtype_, shape_));
  if (ByteSize() != 0) std::memcpy(copy.data_, data_, ByteSize());
  return copy;
}

std::string Tensor::Describe() const { return std::string(DataTypeName(dtype_)) + shape_.ToString(); }

}  // namespace edgeai
