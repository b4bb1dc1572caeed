// Element types of tensors. The numeric values follow ONNX's TensorProto.DataType so that import is a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgeai {

enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,  // recognised so errors can name it; no kernel computes on strings
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString.
size_t DataTypeSize(DataType type);
// "float32", "int64", ...; "undefined" for unknown values.
std::string_view DataTypeName(DataType type);
// True for the values listed above (an ONNX enum value edgeai knows).
bool IsKnownDataType(int32_t onnx_value);

// IEEE 754 half precision, stored as its 16 bits.
struct Float16 {
  uint16_t bits = 0;
};
float HalfToFloat(uint16_t bits);
uint16_t FloatToHalf(float value);

// Compile-time map from C++ element types to DataType.
template <typename T>
struct DataTypeOf;
template <> struct DataTypeOf<float> { static constexpr DataType value = DataType::kFloat32; };
template <> struct DataTypeOf<double> { static constexpr DataType value = DataType::kFloat64; };
template <> struct DataTypeOf<int8_t> { static constexpr DataType value = DataType::kInt8; };
template <> struct DataTypeOf<uint8_t> { static constexpr DataType value = DataType::kUint8; };
template <> struct DataTypeOf<int16_t> { static constexpr DataType value = DataType::kInt16; };
template <> struct DataTypeOf<uint16_t> { static constexpr DataType value = DataType::kUint16; };
template <> struct DataTypeOf<int32_t> { static constexpr DataType value = DataType::kInt32; };
template <> struct DataTypeOf<uint32_t> { static constexpr DataType value = DataType::kUint32; };
template <> struct DataTypeOf<int64_t> { static constexpr DataType value = DataType::kInt64; };
template <> struct DataTypeOf<uint64_t> { static constexpr DataType value = DataType::kUint64; };
template <> struct DataTypeOf<bool> { static constexpr DataType value = DataType::kBool; };
template <> struct DataTypeOf<Float16> { static constexpr DataType value = DataType::kFloat16; };

}  // namespace edgeai
