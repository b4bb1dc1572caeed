// Helpers shared by the CPU kernel tests: building attributes and tensors, running one op, reading values
// back and comparing them, and running load-time inference on partially known inputs.
#pragma once

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"

namespace edgeai::test {

inline const ThreadPool& TestPool() {
  static ThreadPool pool(2);
  return pool;
}

// The attribute constructors of backend/op_attributes.h, under the names these tests have always used.
using edgeai::FloatAttr;
using edgeai::FloatsAttr;
using edgeai::IntAttr;
using edgeai::IntsAttr;
using edgeai::StringAttr;
using edgeai::StringsAttr;
using edgeai::TensorAttr;

inline Tensor I64(const Shape& shape, const std::vector<int64_t>& v) { return Tensor::FromVector<int64_t>(shape, v); }
inline Tensor I64s(const std::vector<int64_t>& v) { return I64(Shape{static_cast<int64_t>(v.size())}, v); }
inline Tensor I32s(const std::vector<int32_t>& v) {
  return Tensor::FromVector<int32_t>(Shape{static_cast<int64_t>(v.size())}, v);
}
inline Tensor F32(const Shape& shape, const std::vector<float>& v) { return Tensor::FromVector<float>(shape, v); }

// n floats uniform in [-1, 1), reproducible from `seed`.
inline std::vector<float> RandomFloats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}
inline Tensor RandomF32(const Shape& shape, uint32_t seed) {
  return Tensor::FromVector(shape, RandomFloats(shape.NumElements(), seed));
}

// 0, 1, 2, ... as T.
template <typename T>
Tensor Iota(const Shape& shape) {
  std::vector<T> v(static_cast<size_t>(shape.NumElements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i);
  return Tensor::FromVector<T>(shape, v);
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}
// Values<T> after requiring that `t` holds T.
template <typename T>
std::vector<T> TypedValues(const Tensor& t) {
  REQUIRE(t.dtype() == DataTypeOf<T>::value);
  return Values<T>(t);
}

inline SingleOp MakeSingleOp(const std::string& type, int opset, const AttributeMap& attrs = {}) {
  SingleOp op;
  op.op_type = type;
  op.opset = opset;
  op.attrs = attrs;
  return op;
}

// Runs `op` on the CPU registry with the shared test pool.
inline Result<std::vector<Tensor>> Run(const SingleOp& op, const std::vector<Tensor>& inputs, size_t outputs = 1) {
  return RunSingleOp(CpuOpRegistry(), op, inputs, outputs, TestPool());
}
inline Result<std::vector<Tensor>> RunOp(const std::string& op_type, int opset, const AttributeMap& attrs,
                                         const std::vector<Tensor>& inputs, size_t outputs = 1) {
  return Run(MakeSingleOp(op_type, opset, attrs), inputs, outputs);
}

// Checks shape and values: floating point within `eps` relative or `margin` absolute, integers exactly.
template <typename T>
void CheckValues(const Tensor& t, const Shape& shape, const std::vector<T>& expected, double eps = 1e-5,
                 double margin = 1e-6) {
  REQUIRE(t.shape() == shape);
  REQUIRE(t.NumElements() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    if constexpr (std::is_floating_point_v<T>) {
      CHECK(t.data<T>()[i] == Approx(expected[i]).epsilon(eps).margin(margin));
    } else {
      CHECK(t.data<T>()[i] == expected[i]);
    }
  }
}

// Checks the float values of `t` against `expected` within `margin` absolute.
inline void CheckClose(const Tensor& t, const std::vector<float>& expected, double margin = 1e-5) {
  REQUIRE(t.NumElements() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) CHECK(t.data<float>()[i] == Approx(expected[i]).margin(margin));
}

struct OpCall {
  std::string op;
  int opset = 17;
  AttributeMap attrs;

  OpCall(std::string op_type, int version = 17) : op(std::move(op_type)), opset(version) {}
  OpCall& Attr(const std::string& name, Attribute a) {
    attrs.Set(name, std::move(a));
    return *this;
  }
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs, size_t outputs = 1) const {
    return RunOp(op, opset, attrs, inputs, outputs);
  }
  // The single output; fails the test when the op fails.
  Tensor Run1(const std::vector<Tensor>& inputs) const {
    auto r = Run(inputs);
    if (!r.ok()) {
      FAIL_CHECK(r.status().ToString());
      return Tensor();
    }
    return (*r)[0];
  }
  // Load-time inference: `values[i]` is the known value of input i or nullptr.
  // `values_read`, when given, receives the bits of the inputs whose values inference looked at.
  Result<std::vector<ValueType>> Infer(const std::vector<ValueType>& inputs, const std::vector<const Tensor*>& values,
                                       size_t outputs = 1, uint64_t* values_read = nullptr) const {
    std::vector<DataType> dtypes;
    std::vector<const ValueType*> ptrs;
    for (const ValueType& v : inputs) {
      dtypes.push_back(v.dtype);
      ptrs.push_back(v.dtype == DataType::kUndefined ? nullptr : &v);
    }
    auto def = CpuOpRegistry().Find("", op, opset, dtypes);
    if (!def.ok()) return def.status();
    InferenceContext ctx("test", op, opset, attrs, ptrs, values, outputs);
    Status status = (*def)->infer(ctx);
    if (values_read) *values_read = ctx.values_read();
    if (!status.ok()) return status;
    return ctx.outputs();
  }
};

inline bool Contains(const Status& s, const std::string& text) { return s.message().find(text) != std::string::npos; }

}  // namespace edgeai::test
