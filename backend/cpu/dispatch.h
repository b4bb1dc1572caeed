// Dtype dispatch for CPU kernels: call a generic lambda with a TypeTag<T> for the runtime dtype.
//   return VisitNumeric(x.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ...; return Status::Ok(); });
#pragma once

#include <string>

#include "edgeai/data_type.h"
#include "edgeai/status.h"

namespace edgeai::cpu {

template <typename T>
struct TypeTag {
  using type = T;
};

inline Status UnsupportedDtype(DataType dtype) {
  return Unimplemented("dtype " + std::string(DataTypeName(dtype)) + " is not supported here");
}

// float32 and float64.
template <typename F>
Status VisitFloat(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kFloat32: return f(TypeTag<float>{});
    case DataType::kFloat64: return f(TypeTag<double>{});
    default: return UnsupportedDtype(dtype);
  }
}

// Every integer type (bool excluded).
template <typename F>
Status VisitInteger(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kInt8: return f(TypeTag<int8_t>{});
    case DataType::kUint8: return f(TypeTag<uint8_t>{});
    case DataType::kInt16: return f(TypeTag<int16_t>{});
    case DataType::kUint16: return f(TypeTag<uint16_t>{});
    case DataType::kInt32: return f(TypeTag<int32_t>{});
    case DataType::kUint32: return f(TypeTag<uint32_t>{});
    case DataType::kInt64: return f(TypeTag<int64_t>{});
    case DataType::kUint64: return f(TypeTag<uint64_t>{});
    default: return UnsupportedDtype(dtype);
  }
}

// Floats and integers (bool and float16 excluded).
template <typename F>
Status VisitNumeric(DataType dtype, F&& f) {
  if (dtype == DataType::kFloat32 || dtype == DataType::kFloat64) return VisitFloat(dtype, f);
  return VisitInteger(dtype, f);
}

// Element types moved as bytes by data-movement ops: dispatch on the element size only.
template <typename F>
Status VisitBySize(DataType dtype, F&& f) {
  switch (DataTypeSize(dtype)) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    case 8: return f(TypeTag<uint64_t>{});
    default: return UnsupportedDtype(dtype);
  }
}

}  // namespace edgeai::cpu
