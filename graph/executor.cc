#include "graph/executor.h"

#include <algorithm>
#include <chrono>

#include "backend/op_runner.h"
#include "graph/shape_inference.h"
#include "graph/subgraph.h"

namespace edgeai {

Result<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Graph> graph, const OpRegistry& registry,
                                                   const ThreadPool& pool, RunLimits limits) {
  std::unique_ptr<Executor> exec(new Executor(graph, pool, limits));
  EDGEAI_ASSIGN_OR_RETURN(std::vector<int> order, graph->TopologicalOrder());
  std::vector<int> last_use(graph->values.size(), -1);
  for (size_t s = 0; s < order.size(); ++s) {
    const Node& node = graph->nodes[order[s]];
    Step step;
    step.node = order[s];
    EDGEAI_ASSIGN_OR_RETURN(step.def, ResolveOpDef(*graph, node, registry));
    for (GraphSubgraph* body : SubgraphsOf(node)) EDGEAI_RETURN_IF_ERROR(body->Compile(registry, pool, limits));
    std::vector<const ValueType*> types;
    std::vector<const Tensor*> values;
    for (int id : node.inputs) {
      types.push_back(id < 0 ? nullptr : &graph->values[id].type);
      values.push_back(id >= 0 && graph->values[id].is_constant() ? &graph->values[id].constant : nullptr);
      if (id >= 0) last_use[id] = static_cast<int>(s);
    }
    InferenceContext ctx(node.name, node.op_type, node.opset, node.attrs, types, values, node.outputs.size());
    EDGEAI_RETURN_IF_ERROR(step.def->infer(ctx));
    EDGEAI_ASSIGN_OR_RETURN(step.kernel, step.def->create(ctx));
    exec->steps_.push_back(std::move(step));
  }
  for (int id : graph->outputs) last_use[id] = static_cast<int>(order.size());  // never released
  for (size_t id = 0; id < last_use.size(); ++id) {
    const Value& v = graph->values[id];
    if (last_use[id] >= 0 && last_use[id] < static_cast<int>(order.size()) && !v.is_constant()) {
      exec->steps_[last_use[id]].release_after.push_back(static_cast<int>(id));
    }
  }
  return exec;
}

Status Executor::BindInputs(const NamedTensors& inputs, std::vector<Tensor>* values) const {
  for (const auto& [name, tensor] : inputs) {
    int id = graph_->FindValue(name);
    if (id < 0 || !graph_->IsBound(id)) {
      std::string names;
      for (int in : graph_->inputs) names += (names.empty() ? "" : ", ") + graph_->values[in].name;
      return InvalidArgument("unknown input '" + name + "' (model inputs: " + names + ")");
    }
  }
  for (int id : graph_->inputs) {
    const Value& v = graph_->values[id];
    auto it = inputs.find(v.name);
    if (it == inputs.end()) return InvalidArgument("missing input '" + v.name + "'");
    const Tensor& t = it->second;
    auto mismatch = [&] {
      return InvalidArgument("input '" + v.name + "': expected " + graph_->Describe(id).Describe() + ", got " +
                             t.Describe());
    };
    if (!t.defined() || t.dtype() != v.type.dtype) return mismatch();
    if (v.type.rank_known) {
      if (t.rank() != v.type.dims.rank()) return mismatch();
      for (size_t i = 0; i < t.rank(); ++i) {
        if (v.type.dims[i] >= 0 && v.type.dims[i] != t.shape()[i]) return mismatch();
      }
    }
    if (t.NumElements() > limits_.max_tensor_elements) {
      return ResourceExhausted("input '" + v.name + "' has " + std::to_string(t.NumElements()) +
                               " elements, over the limit of " + std::to_string(limits_.max_tensor_elements));
    }
    (*values)[id] = t;
  }
  for (int id : graph_->captures) {
    auto it = inputs.find(graph_->values[id].name);
    if (it == inputs.end()) return Internal("captured value '" + graph_->values[id].name + "' was not bound");
    (*values)[id] = it->second;
  }
  return Status::Ok();
}

Status Executor::RunStep(const Step& step, std::vector<Tensor>* values) const {
  const Node& node = graph_->nodes[step.node];
  std::vector<ValueType> types(node.inputs.size());
  std::vector<const ValueType*> type_ptrs(node.inputs.size(), nullptr);
  std::vector<const Tensor*> inputs(node.inputs.size(), nullptr);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int id = node.inputs[i];
    if (id < 0) continue;
    const Tensor* t = graph_->values[id].is_constant() ? &graph_->values[id].constant : &(*values)[id];
    if (!t->defined()) return Internal(node.Label() + ": input '" + graph_->values[id].name + "' was not computed");
    types[i] = ValueType::Of(t->dtype(), t->shape());
    type_ptrs[i] = &types[i];
    inputs[i] = t;
  }
  InferenceContext ctx(node.name, node.op_type, node.opset, node.attrs, type_ptrs, inputs, node.outputs.size());
  EDGEAI_RETURN_IF_ERROR(step.def->infer(ctx));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const ValueType& out = ctx.output(i);
    if (out.IsFullyKnown() && out.dims.NumElements() > limits_.max_tensor_elements) {
      return ResourceExhausted(node.Label() + ": output #" + std::to_string(i) + " " + out.ToString() +
                               " exceeds the tensor size limit");
    }
  }
  HeapKernelContext kctx(node.Label(), inputs, ctx.outputs(), pool_);
  auto start = limits_.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  EDGEAI_RETURN_IF_ERROR(step.kernel->Compute(kctx));
  if (limits_.profile) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
    step.stats[0].fetch_add(ns.count(), std::memory_order_relaxed);
    step.stats[1].fetch_add(1, std::memory_order_relaxed);
  }
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int id = node.outputs[i];
    if (id < 0) continue;
    Tensor& produced = kctx.outputs()[i];
    if (!produced.defined()) return Internal(node.Label() + " did not produce output '" + graph_->values[id].name + "'");
    (*values)[id] = std::move(produced);
  }
  for (int id : step.release_after) (*values)[id] = Tensor();
  return Status::Ok();
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

Result<NamedTensors> Executor::Run(const NamedTensors& inputs) const {
  std::vector<Tensor> values(graph_->values.size());
  EDGEAI_RETURN_IF_ERROR(BindInputs(inputs, &values));
  Status status;
  pool_.Execute([&] {
    for (const Step& step : steps_) {
      status = RunStep(step, &values);
      if (!status.ok()) return;
    }
  });
  EDGEAI_RETURN_IF_ERROR(status);
  NamedTensors outputs;
  for (int id : graph_->outputs) {
    const Value& v = graph_->values[id];
    const Tensor& t = v.is_constant() ? v.constant : values[id];
    // Outputs that alias a constant or a caller's input are copied so the caller owns every result.
    bool aliased = v.is_constant() || !t.owns_data() || graph_->IsBound(id);
    if (aliased) {
      EDGEAI_ASSIGN_OR_RETURN(outputs[v.name], t.Clone());
    } else {
      outputs[v.name] = t;
    }
  }
  return outputs;
}

}  // namespace edgeai
