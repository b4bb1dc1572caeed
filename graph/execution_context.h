// ExecutionContext: the state of one run of an Executor (values, per-step inference state, the memory plan
// and its arena), reused from run to run so that a warm run allocates nothing. It is also the KernelContext
// kernels see. Not thread safe: the Executor hands each concurrent run its own context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/kernel.h"
#include "graph/executor.h"
#include "memory/arena.h"
#include "memory/buffer_planner.h"

namespace edgeai {

class ExecutionContext : public KernelContext {
 public:
  explicit ExecutionContext(const Executor& executor);
  Status Run(const NamedTensors& inputs, NamedTensors* outputs, const ThreadPool& pool);

  size_t num_inputs() const override { return state().inputs.size(); }
  const Tensor* input(size_t i) const override { return i < state().inputs.size() ? state().inputs[i] : nullptr; }
  size_t num_outputs() const override { return step().output_slots.size(); }
  const ValueType& inferred_output(size_t i) const override { return (*current_types_)[i]; }
  Result<Tensor*> Output(size_t i, const Shape& shape) override;
  using KernelContext::Output;
  const ThreadPool& pool() const override { return *pool_; }
  std::string_view node_label() const override { return state().label; }

 private:
  struct StepState {
    std::string label;
    std::vector<ValueType> input_types;
    std::vector<const ValueType*> type_ptrs;
    std::vector<const Tensor*> inputs;
    std::unique_ptr<InferenceContext> infer;
    bool static_shapes = false;           // the plan's output types hold for this signature
    std::vector<ValueType> planned_types;
  };

  const Executor::Step& step() const { return exec_.steps()[current_]; }
  const StepState& state() const { return states_[current_]; }
  Status BindInputs(const NamedTensors& inputs, NamedTensors* outputs);
  Status RunStep(size_t index);
  void NoteStaticness(size_t index);
  Status BuildPlan();
  int64_t PlanSharing(const std::vector<int>& request_of, std::vector<BufferRequest>* requests);
  bool MayUsePlannedBytes(int slot, DataType dtype, int64_t bytes);
  Status CollectOutputs(NamedTensors* outputs);
  // The slot's bytes in this run's layout.
  uint8_t* PlannedBytes(int slot) {
    return use_spread_ ? spread_arena_.data() + spread_offset_[slot] : arena_.data() + slot_offset_[slot];
  }

  const Executor& exec_;
  const Graph& graph_;
  std::vector<StepState> states_;
  std::vector<Tensor> values_;                 // per slot
  std::vector<const Tensor*> caller_outputs_;  // per slot: the caller's tensor to fill, if any

  // The memory plan, valid for the input shapes in signature_.
  bool recording_ = true;
  std::vector<Shape> signature_;
  std::vector<int64_t> slot_bytes_;
  std::vector<int64_t> slot_offset_;  // -1: not planned
  std::vector<int> slot_first_use_;
  std::vector<int> slot_shared_input_;  // the producing step's input whose buffer the value shares; -1: none
  std::vector<char> value_static_;    // the value's data is fixed by the input shapes
  std::vector<char> shape_static_;    // the value's shape is fixed by the input shapes
  Arena arena_;
  // The spread layout: no bytes reused between tensors (see BuildPlan); for plans up to kMaxSpreadBytes.
  static constexpr int64_t kMaxSpreadBytes = int64_t{48} << 20;
  bool spread_ready_ = false;
  bool use_spread_ = false;  // this run's layout
  std::vector<int64_t> spread_offset_;
  Arena spread_arena_;

  const ThreadPool* pool_ = nullptr;  // the current run's
  size_t current_ = 0;
  const std::vector<ValueType>* current_types_ = nullptr;
};

}  // namespace edgeai
