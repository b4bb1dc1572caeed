#include "graph/executor.h"

#include <algorithm>

#include "graph/execution_context.h"
#include "graph/shape_inference.h"
#include "graph/subgraph.h"

namespace edgeai {

Result<MemoryLayout> ParseMemoryLayout(const std::string& text) {
  if (text == "auto") return MemoryLayout::kAuto;
  if (text == "reuse") return MemoryLayout::kReuse;
  if (text == "spread") return MemoryLayout::kSpread;
  return InvalidArgument("memory_layout must be auto, reuse or spread, got '" + text + "'");
}

namespace {

bool IsGraphOutput(const Graph& graph, int id) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end();
}

// The OpDef's sharings that can apply in this graph: both tensors must be arena intermediates. Graph inputs,
// captures and constants belong to someone else (the caller, an enclosing graph, the model), and graph
// outputs must own their memory, since they outlive the run whose arena would hold them.
std::vector<InPlace> ArenaSharings(const Graph& graph, const Node& node, const OpDef& def) {
  std::vector<InPlace> found;
  for (const InPlace& share : def.in_place) {
    if (share.output < 0 || share.input < 0 || static_cast<size_t>(share.output) >= node.outputs.size() ||
        static_cast<size_t>(share.input) >= node.inputs.size()) {
      continue;
    }
    int in = node.inputs[share.input];
    int out = node.outputs[share.output];
    if (in < 0 || out < 0 || graph.values[in].is_constant() || graph.IsBound(in) || IsGraphOutput(graph, in) ||
        IsGraphOutput(graph, out)) {
      continue;
    }
    found.push_back(share);
  }
  return found;
}

}  // namespace

Executor::Executor(std::shared_ptr<const Graph> graph, const ThreadPool& pool, RunLimits limits)
    : graph_(std::move(graph)), pool_(pool), limits_(limits) {}

Executor::~Executor() = default;

Result<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Graph> graph, const OpRegistry& registry,
                                                   const ThreadPool& pool, RunLimits limits) {
  std::unique_ptr<Executor> exec(new Executor(graph, pool, limits));
  EDGEAI_ASSIGN_OR_RETURN(std::vector<int> order, graph->TopologicalOrder());
  std::vector<int> last_use(graph->values.size(), -1);
  size_t next_slot = graph->values.size();
  for (size_t s = 0; s < order.size(); ++s) {
    const Node& node = graph->nodes[order[s]];
    Step step;
    step.node = order[s];
    step.shape_only = node.domain.empty() && (node.op_type == "Shape" || node.op_type == "Size");
    EDGEAI_ASSIGN_OR_RETURN(step.def, ResolveOpDef(*graph, node, registry));
    for (GraphSubgraph* body : SubgraphsOf(node)) EDGEAI_RETURN_IF_ERROR(body->Compile(registry, pool, limits));
    std::vector<const ValueType*> types;
    std::vector<const Tensor*> values;
    for (int id : node.inputs) {
      types.push_back(id < 0 ? nullptr : &graph->values[id].type);
      values.push_back(id >= 0 && graph->values[id].is_constant() ? &graph->values[id].constant : nullptr);
      if (id >= 0) last_use[id] = static_cast<int>(s);
    }
    for (int id : node.outputs) step.output_slots.push_back(id >= 0 ? id : static_cast<int>(next_slot++));
    step.in_place = ArenaSharings(*graph, node, *step.def);
    InferenceContext ctx(node.name, node.op_type, node.opset, node.attrs, types, values, node.outputs.size());
    EDGEAI_RETURN_IF_ERROR(step.def->infer(ctx));
    EDGEAI_ASSIGN_OR_RETURN(step.kernel, step.def->create(ctx));
    exec->steps_.push_back(std::move(step));
  }
  exec->num_slots_ = next_slot;
  for (int id : graph->outputs) last_use[id] = static_cast<int>(order.size());  // never released
  for (size_t id = 0; id < last_use.size(); ++id) {
    const Value& v = graph->values[id];
    if (last_use[id] >= 0 && last_use[id] < static_cast<int>(order.size()) && !v.is_constant()) {
      exec->steps_[last_use[id]].release_after.push_back(static_cast<int>(id));
    }
  }
  return exec;
}

std::unique_ptr<ExecutionContext> Executor::AcquireContext() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_contexts_.empty()) {
      std::unique_ptr<ExecutionContext> context = std::move(idle_contexts_.back());
      idle_contexts_.pop_back();
      return context;
    }
  }
  return std::make_unique<ExecutionContext>(*this);
}

void Executor::ReleaseContext(std::unique_ptr<ExecutionContext> context) const {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_contexts_.push_back(std::move(context));
}

Status Executor::Run(const NamedTensors& inputs, NamedTensors* outputs) const {
  return Run(inputs, outputs, pool_);
}

Status Executor::Run(const NamedTensors& inputs, NamedTensors* outputs, const ThreadPool& pool) const {
  std::unique_ptr<ExecutionContext> context = AcquireContext();
  Status status = context->Run(inputs, outputs, pool);
  ReleaseContext(std::move(context));
  return status;
}

Result<NamedTensors> Executor::Run(const NamedTensors& inputs) const {
  NamedTensors outputs;
  EDGEAI_RETURN_IF_ERROR(Run(inputs, &outputs));
  return outputs;
}

void Executor::RecordPlan(const MemoryPlanStats& stats) const {
  std::lock_guard<std::mutex> lock(mutex_);
  last_plan_ = stats;
}

MemoryPlanStats Executor::memory_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_plan_;
}

std::vector<OpTiming> Executor::Timings() const {
  std::vector<OpTiming> timings;
  if (!limits_.profile) return timings;
  for (const Step& step : steps_) {
    const Node& node = graph_->nodes[step.node];
    timings.push_back(OpTiming{node.name, node.op_type, step.stats[0].load() / 1e6, step.stats[1].load()});
  }
  return timings;
}

void Executor::ResetTimings() {
  for (const Step& step : steps_) {
    step.stats[0].store(0);
    step.stats[1].store(0);
  }
}

}  // namespace edgeai
