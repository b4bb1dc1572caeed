// Tensor: a dtype, a shape and a buffer. Either owning (64-byte aligned storage, shared between copies of the
// Tensor, like a handle) or a non-owning view of memory that must outlive it. Copying a Tensor never copies
// elements; use Clone() for that. Thread safety: a Tensor may be read from many threads; writes need the
// caller's own synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgeai/data_type.h"
#include "edgeai/shape.h"
#include "edgeai/status.h"

namespace edgeai {

class Tensor {
 public:
  static constexpr size_t kAlignment = 64;

  Tensor() = default;
  // Owning, zero-filled storage. Fails with resource_exhausted when the size overflows or memory runs out.
  static Result<Tensor> Allocate(DataType dtype, const Shape& shape);
  // A view of `data` (not owned). `data` must hold shape.NumElements() elements of dtype.
  static Tensor View(DataType dtype, const Shape& shape, void* data);
  // Owning copy of the elements.
  template <typename T>
  static Tensor FromVector(const Shape& shape, const std::vector<T>& values);
  template <typename T>
  static Tensor Scalar(T value) { return FromVector<T>(Shape{}, {value}); }

  bool defined() const { return dtype_ != DataType::kUndefined; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.rank(); }
  int64_t NumElements() const { return shape_.NumElements(); }
  size_t ByteSize() const { return static_cast<size_t>(NumElements()) * DataTypeSize(dtype_); }
  bool owns_data() const { return storage_ != nullptr; }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  template <typename T>
  T* data() { return static_cast<T*>(data_); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(data_); }

  // Same bytes, another shape with the same element count (a view sharing ownership if this owns).
  Result<Tensor> Reshaped(const Shape& shape) const;
  // Deep copy into new owning storage.
  Result<Tensor> Clone() const;
  // "float32[1,3,224,224]"
  std::string Describe() const;

 private:
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  void* data_ = nullptr;
  std::shared_ptr<void> storage_;  // null for views
};

template <typename T>
Tensor Tensor::FromVector(const Shape& shape, const std::vector<T>& values) {
  Result<Tensor> t = Allocate(DataTypeOf<T>::value, shape);
  assert(t.ok() && static_cast<int64_t>(values.size()) == shape.NumElements());
  T* out = t->template data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return std::move(t).value();
}

}  // namespace edgeai
