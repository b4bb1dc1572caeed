// Running single ops outside a graph: the kernel-test harness and the engine of constant folding.
// HeapKernelContext is the simplest KernelContext: outputs are freshly allocated owning tensors.
#pragma once

#include <string>
#include <vector>

#include "backend/kernel.h"
#include "backend/op_registry.h"
#include "backend/thread_pool.h"

namespace edgeai {

class HeapKernelContext : public KernelContext {
 public:
  HeapKernelContext(std::string label, std::vector<const Tensor*> inputs, const std::vector<ValueType>& inferred,
                    const ThreadPool& pool);
  size_t num_inputs() const override { return inputs_.size(); }
  const Tensor* input(size_t i) const override { return i < inputs_.size() ? inputs_[i] : nullptr; }
  size_t num_outputs() const override { return inferred_.size(); }
  const ValueType& inferred_output(size_t i) const override { return inferred_[i]; }
  Result<Tensor*> Output(size_t i, const Shape& shape) override;
  using KernelContext::Output;
  const ThreadPool& pool() const override { return pool_; }
  std::string_view node_label() const override { return label_; }

  // Outputs the kernel produced; an output it never requested stays undefined.
  std::vector<Tensor>& outputs() { return outputs_; }

 private:
  std::string label_;
  std::vector<const Tensor*> inputs_;
  const std::vector<ValueType>& inferred_;
  const ThreadPool& pool_;
  std::vector<Tensor> outputs_;
};

struct SingleOp {
  std::string op_type;
  int opset = 17;
  AttributeMap attrs;
  std::string domain;
  std::string name = "test";
};

// Infers, creates and computes `op` on `inputs` (an undefined Tensor stands for an absent optional input).
// Errors from any step are returned as they are.
Result<std::vector<Tensor>> RunSingleOp(const OpRegistry& registry, const SingleOp& op,
                                        const std::vector<Tensor>& inputs, size_t num_outputs,
                                        const ThreadPool& pool);

}  // namespace edgeai
