#include "backend/op_runner.h"

namespace edgeai {

HeapKernelContext::HeapKernelContext(std::string label, std::vector<const Tensor*> inputs,
                                     const std::vector<ValueType>& inferred, const ThreadPool& pool)
    : label_(std::move(label)),
      inputs_(std::move(inputs)),
      inferred_(inferred),
      pool_(pool),
      outputs_(inferred.size()) {}

Result<Tensor*> HeapKernelContext::Output(size_t i, const Shape& shape) {
  if (i >= outputs_.size()) return Internal(label_ + ": output #" + std::to_string(i) + " out of range");
  Tensor& out = outputs_[i];
  if (out.defined() && out.NumElements() == shape.NumElements()) {
    EDGEAI_ASSIGN_OR_RETURN(out, out.Reshaped(shape));
    return &out;
  }
  DataType dtype = inferred_[i].dtype;
  if (dtype == DataType::kUndefined) return Internal(label_ + ": output #" + std::to_string(i) + " has no dtype");
  EDGEAI_ASSIGN_OR_RETURN(out, Tensor::Allocate(dtype, shape));
  return &out;
}

Result<std::vector<Tensor>> RunSingleOp(const OpRegistry& registry, const SingleOp& op,
                                        const std::vector<Tensor>& inputs, size_t num_outputs,
                                        const ThreadPool& pool) {
  std::vector<ValueType> types(inputs.size());
  std::vector<const ValueType*> type_ptrs(inputs.size(), nullptr);
  std::vector<const Tensor*> values(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    types[i] = ValueType::Of(inputs[i].dtype(), inputs[i].shape());
    type_ptrs[i] = &types[i];
    values[i] = &inputs[i];
  }
  std::vector<DataType> dtypes(inputs.size(), DataType::kUndefined);
  for (size_t i = 0; i < inputs.size(); ++i) dtypes[i] = inputs[i].dtype();
  EDGEAI_ASSIGN_OR_RETURN(const OpDef* def, registry.Find(op.domain, op.op_type, op.opset, dtypes));

  InferenceContext ctx(op.name, op.op_type, op.opset, op.attrs, type_ptrs, values, num_outputs);
  EDGEAI_RETURN_IF_ERROR(def->infer(ctx));
  EDGEAI_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, def->create(ctx));
  HeapKernelContext kctx(op.op_type + " node '" + op.name + "'", values, ctx.outputs(), pool);
  Status status;
  pool.Execute([&] { status = kernel->Compute(kctx); });
  EDGEAI_RETURN_IF_ERROR(status);
  return std::move(kctx.outputs());
}

}  // namespace edgeai
