#include "backend/kernel.h"

#include <algorithm>

namespace edgeai {

bool ValueType::IsFullyKnown() const {
  if (!rank_known) return false;
  for (int64_t d : dims) {
    if (d < 0) return false;
  }
  return true;
}

std::string ValueType::ToString() const {
  return std::string(DataTypeName(dtype)) + (rank_known ? dims.ToString() : std::string("[*]"));
}

InferenceContext::InferenceContext(std::string_view node_name, std::string_view op_type, int opset,
                                   const AttributeMap& attrs, std::vector<const ValueType*> inputs,
                                   std::vector<const Tensor*> input_values, size_t num_outputs)
    : node_name_(node_name),
      op_type_(op_type),
      opset_(opset),
      attrs_(attrs),
      inputs_(std::move(inputs)),
      values_(std::move(input_values)),
      outputs_(num_outputs) {}

void InferenceContext::Reset(const ValueType* const* inputs, const Tensor* const* input_values) {
  std::copy(inputs, inputs + inputs_.size(), inputs_.begin());
  std::copy(input_values, input_values + values_.size(), values_.begin());
  for (ValueType& out : outputs_) {
    out.dtype = DataType::kUndefined;
    out.rank_known = false;
    out.dims.resize(0);
  }
  values_read_ = 0;
}

Status InferenceContext::Error(std::string_view message) const {
  return InvalidArgument(std::string(op_type_) + " node '" + std::string(node_name_) + "': " +
                         std::string(message));
}

Status InferenceContext::RequireInput(size_t i) const {
  if (has_input(i)) return Status::Ok();
  return Error("missing required input #" + std::to_string(i));
}

Result<Tensor*> KernelContext::Output(size_t i) {
  const ValueType& type = inferred_output(i);
  if (!type.IsFullyKnown()) {
    return Internal(std::string(node_label()) + ": output #" + std::to_string(i) +
                    " has no inferred shape (" + type.ToString() + ")");
  }
  return Output(i, type.dims);
}

Status KernelContext::Error(std::string_view message) const {
  return InvalidArgument(std::string(node_label()) + ": " + std::string(message));
}

}  // namespace edgeai
