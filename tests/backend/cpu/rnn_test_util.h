// Helpers shared by the recurrent-op tests (rnn_test.cc, rnn_reference_test.cc).
#pragma once

#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"

namespace edgeai::rnn_test {

inline Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute FloatAttr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute StringAttr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = v;
  return a;
}
inline Attribute StringsAttr(const std::vector<std::string>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = v;
  return a;
}
inline Attribute FloatsAttr(const std::vector<float>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = v;
  return a;
}

inline SingleOp MakeSingleOp(const std::string& type, int opset) {
  SingleOp op;
  op.op_type = type;
  op.opset = opset;
  return op;
}

inline Result<std::vector<Tensor>> Run(const SingleOp& op, const std::vector<Tensor>& inputs, size_t outputs) {
  static ThreadPool pool(2);
  return RunSingleOp(CpuOpRegistry(), op, inputs, outputs, pool);
}

inline Tensor Lens(const std::vector<int32_t>& lens) {
  return Tensor::FromVector<int32_t>(Shape{static_cast<int64_t>(lens.size())}, lens);
}

}  // namespace edgeai::rnn_test
