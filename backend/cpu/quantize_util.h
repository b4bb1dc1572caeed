// Helpers shared by the quantization ops (quantize_ops.cc) and the quantized linear ops
// (quantized_linear_ops.cc): the rounding/saturation rule of ONNX quantization and a dtype dispatch over the
// quantized element types.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "backend/cpu/dispatch.h"
#include "backend/op_registry.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {

// int8 and uint8 only: the types of QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger.
template <typename F>
Status Visit8Bit(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kUint8: return f(TypeTag<uint8_t>{});
    case DataType::kInt8: return f(TypeTag<int8_t>{});
    default: return UnsupportedDtype(dtype);
  }
}

// int8 and uint8 (the 8-bit types of QuantizeLinear-10/13, QLinearConv, ...), plus int16/uint16 (QuantizeLinear
// and DequantizeLinear from opset 21), which cost nothing extra through templates.
template <typename F>
Status VisitQuantized(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kUint8: return f(TypeTag<uint8_t>{});
    case DataType::kInt8: return f(TypeTag<int8_t>{});
    case DataType::kUint16: return f(TypeTag<uint16_t>{});
    case DataType::kInt16: return f(TypeTag<int16_t>{});
    default: return UnsupportedDtype(dtype);
  }
}

inline bool IsQuantizedType(DataType dtype) {
  return dtype == DataType::kUint8 || dtype == DataType::kInt8 || dtype == DataType::kUint16 ||
         dtype == DataType::kInt16;
}

// Round to nearest, ties to even, for |v| < 2^22 (float) or 2^51 (double): adding and removing 1.5 * 2^mantissa
// leaves the rounding to the FPU's default mode, which vectorises where std::nearbyint would be a libm call.
inline float RoundHalfEven(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}
inline double RoundHalfEven(double v) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  return (v + kMagic) - kMagic;
}

// saturate(round(v) + zero_point) into Q. Clamping v to [lowest - zp, max - zp] before rounding is the same
// (the bounds are integers and rounding is monotonic) and keeps v small enough for RoundHalfEven. NaN gives
// the lowest value.
template <typename Q, typename C>
inline Q QuantizeValue(C v, int32_t zero_point) {
  static_assert(std::is_floating_point_v<C>, "quantization computes in floating point");
  const C lo = static_cast<C>(int32_t{std::numeric_limits<Q>::lowest()} - zero_point);
  const C hi = static_cast<C>(int32_t{std::numeric_limits<Q>::max()} - zero_point);
  v = v >= lo ? v : lo;
  v = v <= hi ? v : hi;
  return static_cast<Q>(static_cast<int32_t>(RoundHalfEven(v)) + zero_point);
}

// C[m x n] = A[m x k] * B[k x n], row-major and contiguous, wrapping modulo 2^32: the spec lets int32
// accumulation overflow, and unsigned arithmetic makes that defined. Parallel over row blocks of C.
// (quantized_linear_ops.cc)
void IntGemm(int64_t m, int64_t n, int64_t k, const uint32_t* a, const uint32_t* b, uint32_t* c,
             const ThreadPool& pool);


// ConvInteger and QLinearConv (quantized_conv.cc); called by RegisterQuantizedLinearOps.
Status RegisterQuantizedConvOps(OpRegistry& registry);

}  // namespace edgeai::cpu
