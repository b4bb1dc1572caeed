// The contract between the graph layer and every kernel of every backend.
//
// An op is described once by an OpDef: its key (op type, domain, inclusive opset range, accepted dtypes), a
// shape inference function and a kernel factory. The same inference function runs twice:
//   - at load time, on what is statically known (dims may be -1, values known only for constants), to check the
//     graph and report shapes;
//   - at run time, on the concrete input tensors, to size the outputs before the kernel computes.
// A kernel is created once per node at load time (attributes parsed and validated, weights may be prepacked)
// and then only computes: Compute must not keep per-call state in the kernel, since one compiled model may run
// on several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/op_attributes.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"

namespace edgeai {

class ThreadPool;

// What shape inference knows of one value: its dtype and, when the rank is known, its dims (-1 = unknown).
struct ValueType {
  DataType dtype = DataType::kUndefined;
  bool rank_known = false;
  Shape dims;

  static ValueType Of(DataType dtype, const Shape& dims) { return ValueType{dtype, true, dims}; }
  static ValueType UnknownRank(DataType dtype) { return ValueType{dtype, false, Shape{}}; }
  bool IsFullyKnown() const;
  std::string ToString() const;  // "float32[1,?,256]" or "float32[*]"
};

// The view of one node that shape inference and kernel factories get.
class InferenceContext {
 public:
  InferenceContext(std::string_view node_name, std::string_view op_type, int opset, const AttributeMap& attrs,
                   std::vector<const ValueType*> inputs, std::vector<const Tensor*> input_values,
                   size_t num_outputs);

  std::string_view node_name() const { return node_name_; }
  std::string_view op_type() const { return op_type_; }
  int opset() const { return opset_; }
  const AttributeMap& attrs() const { return attrs_; }

  // Declared inputs, including absent optional ones in the middle of the list.
  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  // Precondition: has_input(i).
  const ValueType& input(size_t i) const { return *inputs_[i]; }
  // The input's value when known (a constant at load time; the real tensor at run time), else nullptr.
  // The executor notes which values inference reads: an output shape that depends on input data cannot be
  // planned ahead from the input shapes alone.
  const Tensor* input_value(size_t i) const {
    if (i >= values_.size()) return nullptr;
    if (values_[i] != nullptr) values_read_ |= uint64_t{1} << (i < 63 ? i : 63);
    return values_[i];
  }
  // Bit i set when input_value(i) returned a value since the last Reset (bit 63 stands for all inputs >= 63).
  uint64_t values_read() const { return values_read_; }

  size_t num_outputs() const { return outputs_.size(); }
  ValueType& output(size_t i) { return outputs_[i]; }
  const ValueType& output(size_t i) const { return outputs_[i]; }

  // An invalid_argument Status naming this node: "<OpType> node '<name>': <message>".
  Status Error(std::string_view message) const;
  // Error(...) unless input i is present, for required inputs.
  Status RequireInput(size_t i) const;

  // Reused by the executor without allocating: rebinds the inputs (same count as at construction) and clears
  // the outputs.
  void Reset(const ValueType* const* inputs, const Tensor* const* input_values);
  std::vector<ValueType>& outputs() { return outputs_; }

 private:
  std::string_view node_name_;
  std::string_view op_type_;
  int opset_;
  const AttributeMap& attrs_;
  std::vector<const ValueType*> inputs_;
  std::vector<const Tensor*> values_;
  std::vector<ValueType> outputs_;
  mutable uint64_t values_read_ = 0;
};

// What a kernel sees while computing: its inputs and the outputs it fills. Implemented by the executor.
class KernelContext {
 public:
  virtual ~KernelContext() = default;
  virtual size_t num_inputs() const = 0;
  // nullptr for an absent optional input.
  virtual const Tensor* input(size_t i) const = 0;
  virtual size_t num_outputs() const = 0;
  // The types shape inference produced for this run (dims concrete unless data-dependent).
  virtual const ValueType& inferred_output(size_t i) const = 0;
  // Storage for output i with `shape` and the inferred dtype. Calling it again for the same output returns
  // the same tensor (reshaped when the element count matches).
  virtual Result<Tensor*> Output(size_t i, const Shape& shape) = 0;
  // Output(i, inferred shape); an error when inference left the shape unknown.
  Result<Tensor*> Output(size_t i);
  virtual const ThreadPool& pool() const = 0;
  // "<OpType> node '<name>'", for error messages.
  virtual std::string_view node_label() const = 0;
  // An invalid_argument Status prefixed with node_label().
  Status Error(std::string_view message) const;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status Compute(KernelContext& ctx) const = 0;
};

// Inference of one node; fills ctx.output(i) for every output (dtype at least).
using InferFn = Status (*)(InferenceContext& ctx);
// Creates the kernel for one node, given the load-time inference context (attributes, input types, constant
// inputs such as weights, inferred outputs). Invalid attributes are reported here, at load time.
using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const InferenceContext& ctx);

constexpr int kMaxOpset = std::numeric_limits<int>::max();

// A buffer an output may share with an input, so that the executor's memory plan can skip a copy or a
// buffer. It is a permission, never a promise: in a recording run, with dynamic shapes or when the input is
// a graph input, a constant or a graph output, the output gets its own memory, and the kernel must work both
// ways (it sees the sharing as ctx.Output returning the input's data pointer).
struct InPlace {
  int output = 0;
  int input = 0;
  // A view (Reshape, Flatten, Squeeze, Unsqueeze, Identity): the output is the input's bytes unchanged, so
  // they may share memory while both are read; the kernel skips its copy when they already do.
  // Not a view (in place): output element k depends only on input element k of the same dtype (unary and
  // same-shape binary elementwise ops), so the output may overwrite the input once nothing else reads it.
  bool view = false;
};

struct OpDef {
  std::string op_type;
  std::string domain;  // "" is ai.onnx (also spelled "ai.onnx" in models)
  int since_version = 1;
  int until_version = kMaxOpset;  // inclusive
  std::vector<DataType> types;    // accepted dtypes of input `type_input`; empty accepts any
  int type_input = 0;
  InferFn infer = nullptr;
  KernelFactory create = nullptr;
  std::vector<InPlace> in_place{};  // outputs that may share an input's buffer, in order of preference
};

// Convenience factory for kernels with a default constructor and `Status Init(const InferenceContext&)`.
template <typename K>
Result<std::unique_ptr<Kernel>> MakeKernel(const InferenceContext& ctx) {
  auto kernel = std::make_unique<K>();
  EDGEAI_RETURN_IF_ERROR(kernel->Init(ctx));
  return std::unique_ptr<Kernel>(std::move(kernel));
}

}  // namespace edgeai
