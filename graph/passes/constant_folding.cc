// Constant folding: a node whose inputs are all constants is run once, at load time, with the same kernel that
// would run it later, and its outputs become constants. Nodes are visited in topological order, so a whole
// chain of foldable nodes goes in one run. Left alone: random ops, nodes with graph attributes, nodes without
// inputs, ops outside ai.onnx and com.edgeai, and nodes whose outputs would be larger than
// PassContext::max_folded_bytes. A node whose kernel fails is left for run time to report.
#include <algorithm>
#include <string>

#include "backend/op_runner.h"
#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

bool IsFoldableOp(const Node& node) {
  static const char* const kNondeterministic[] = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                  "RandomUniformLike", "Multinomial", "Bernoulli"};
  if (!node.domain.empty() && node.domain != kEdgeAIDomain) return false;
  for (const char* op : kNondeterministic) {
    if (node.op_type == op) return false;
  }
  for (const auto& [name, attr] : node.attrs.all()) {
    if (attr.kind == Attribute::Kind::kGraph) return false;
  }
  return true;
}

bool InputsConstant(const Graph& graph, const Node& node) {
  bool any = false;
  for (int id : node.inputs) {
    if (id < 0) continue;
    if (!graph.values[id].is_constant()) return false;
    any = true;
  }
  return any;
}

// Whether inference already knows that the outputs take more than `limit` bytes (without overflowing on
// absurd shapes).
bool KnownTooLarge(const Graph& graph, const Node& node, int64_t limit) {
  int64_t total = 0;
  for (int id : node.outputs) {
    if (id < 0) continue;
    const ValueType& t = graph.values[id].type;
    if (!t.IsFullyKnown() || t.dtype == DataType::kUndefined) continue;
    int64_t bytes = static_cast<int64_t>(DataTypeSize(t.dtype));
    for (int64_t d : t.dims) {
      if (d == 0) {
        bytes = 0;
        break;
      }
      if (bytes > limit / d) return true;
      bytes *= d;
    }
    total += bytes;
    if (total > limit) return true;
  }
  return false;
}

class ConstantFoldingPass final : public Pass {
 public:
  const char* name() const override { return "constant_folding"; }
  OptLevel level() const override { return OptLevel::kBasic; }

  Result<bool> Run(Graph& graph, const PassContext& ctx) override {
    EDGEAI_ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    bool changed = false;
    for (int index : order) {
      if (TryFold(graph, index, ctx)) {
        rewrite::RemoveNode(graph, index);
        changed = true;
      }
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  static bool TryFold(Graph& graph, int index, const PassContext& ctx) {
    const Node& node = graph.nodes[index];
    if (!IsFoldableOp(node) || !InputsConstant(graph, node)) return false;
    if (node.op_type == "Identity" && node.domain.empty() && node.outputs.size() == 1 && node.outputs[0] >= 0) {
      // Shares the data instead of copying it (transformer exports repeat weights through Identity nodes).
      Value& out = graph.values[node.outputs[0]];
      out.constant = graph.values[node.inputs[0]].constant;
      out.type = ValueType::Of(out.constant.dtype(), out.constant.shape());
      return true;
    }
    if (KnownTooLarge(graph, node, ctx.max_folded_bytes)) return false;
    std::vector<Tensor> inputs;
    inputs.reserve(node.inputs.size());
    for (int id : node.inputs) inputs.push_back(id < 0 ? Tensor() : graph.values[id].constant);
    SingleOp op{node.op_type, node.opset, node.attrs, node.domain, node.name};
    Result<std::vector<Tensor>> outputs = RunSingleOp(ctx.registry, op, inputs, node.outputs.size(), ctx.pool);
    if (!outputs.ok()) return false;
    int64_t bytes = 0;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] < 0) continue;
      if (i >= outputs->size() || !(*outputs)[i].defined()) return false;
      Tensor& t = (*outputs)[i];
      bytes += static_cast<int64_t>(t.ByteSize());
      // A kernel's output may view another tensor; a constant must own its bytes.
      if (!t.owns_data()) {
        Result<Tensor> copy = t.Clone();
        if (!copy.ok()) return false;
        t = std::move(copy).value();
      }
    }
    if (bytes > ctx.max_folded_bytes) return false;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      int id = node.outputs[i];
      if (id < 0) continue;
      Value& v = graph.values[id];
      Tensor& t = (*outputs)[i];
      v.type = ValueType::Of(t.dtype(), t.shape());
      v.constant = std::move(t);
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeConstantFoldingPass() { return std::make_unique<ConstantFoldingPass>(); }

}  // namespace edgeai
