#include "graph/subgraph.h"

#include "graph/shape_inference.h"

namespace edgeai {

GraphSubgraph::GraphSubgraph(std::string label, Graph body, std::vector<int> capture_positions)
    : label_(std::move(label)),
      body_(std::make_shared<Graph>(std::move(body))),
      capture_positions_(std::move(capture_positions)) {}

// ONNX lets a body leave the types of its inputs to the op that runs it, as ONNX's own inference does: Loop
// passes (int64 iteration, bool condition, carried values...), Scan (states..., scan slices...), Scan-8 the
// same after its sequence_lens input. Only the dtype is seeded: carried shapes may change between iterations.
void GraphSubgraph::SeedBodyInputTypes(const Node& node, const std::vector<const ValueType*>& node_input_types) {
  auto seed = [&](size_t body_input, DataType dtype) {
    if (body_input >= body_->inputs.size() || dtype == DataType::kUndefined) return;
    ValueType& type = body_->values[body_->inputs[body_input]].type;
    if (type.dtype == DataType::kUndefined) type.dtype = dtype;
  };
  auto node_dtype = [&](size_t i) {
    return i < node_input_types.size() && node_input_types[i] ? node_input_types[i]->dtype : DataType::kUndefined;
  };
  if (!node.domain.empty()) return;
  if (node.op_type == "Loop") {
    seed(0, DataType::kInt64);
    seed(1, DataType::kBool);
    for (size_t i = 2; i < body_->inputs.size(); ++i) seed(i, node_dtype(i));
  } else if (node.op_type == "Scan") {
    size_t first = node.opset < 9 ? 1 : 0;
    for (size_t i = 0; i < body_->inputs.size(); ++i) seed(i, node_dtype(first + i));
  }
}

Status GraphSubgraph::Infer(const Node& node, const std::vector<const ValueType*>& node_input_types,
                            const OpRegistry& registry) {
  SeedBodyInputTypes(node, node_input_types);
  for (size_t i = 0; i < body_->captures.size(); ++i) {
    size_t pos = static_cast<size_t>(capture_positions_[i]);
    if (pos < node_input_types.size() && node_input_types[pos] != nullptr) {
      body_->values[body_->captures[i]].type = *node_input_types[pos];
    }
  }
  Result<std::vector<int>> order = body_->TopologicalOrder();
  if (!order.ok()) return order.status().WithContext(label_);
  Status s = InferGraphShapes(*body_, *order, registry);
  return s.ok() ? s : s.WithContext(label_);
}

Status GraphSubgraph::Compile(const OpRegistry& registry, const ThreadPool& pool, RunLimits limits) {
  Result<std::unique_ptr<Executor>> exec = Executor::Create(body_, registry, pool, limits);
  if (!exec.ok()) return exec.status().WithContext(label_);
  executor_ = std::move(exec).value();
  return Status::Ok();
}

Result<std::vector<Tensor>> GraphSubgraph::Run(const std::vector<const Tensor*>& inputs,
                                               const KernelContext& ctx) const {
  if (!executor_) return Internal(label_ + " was not compiled");
  if (inputs.size() != body_->inputs.size()) {
    return Internal(label_ + " expects " + std::to_string(body_->inputs.size()) + " inputs, got " +
                    std::to_string(inputs.size()));
  }
  NamedTensors named;
  for (size_t i = 0; i < inputs.size(); ++i) named[body_->values[body_->inputs[i]].name] = *inputs[i];
  for (size_t i = 0; i < body_->captures.size(); ++i) {
    const Tensor* t = ctx.input(static_cast<size_t>(capture_positions_[i]));
    if (t == nullptr) return Internal(label_ + ": captured value '" + body_->values[body_->captures[i]].name + "' is missing");
    named[body_->values[body_->captures[i]].name] = *t;
  }
  Result<NamedTensors> out = executor_->Run(named);
  if (!out.ok()) return out.status().WithContext(label_);
  std::vector<Tensor> results;
  results.reserve(body_->outputs.size());
  for (int id : body_->outputs) results.push_back(out->at(body_->values[id].name));
  return results;
}

std::vector<GraphSubgraph*> SubgraphsOf(const Node& node) {
  std::vector<GraphSubgraph*> found;
  for (const auto& [name, attr] : node.attrs.all()) {
    if (attr.kind != Attribute::Kind::kGraph) continue;
    if (auto* g = dynamic_cast<GraphSubgraph*>(attr.graph.get())) found.push_back(g);
  }
  return found;
}

}  // namespace edgeai
