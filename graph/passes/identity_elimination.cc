// Identity elimination: Identity, and Dropout when it is the identity (inference: no training_mode input or a
// constant false one, mask output unused), are removed and their consumers read the input directly. Graph
// outputs keep their names: when the removed node's output is a graph output, the input's producer is made
// to write that value instead; when that is impossible (the input is a graph input, a constant or itself a
// graph output) the node stays.
#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

bool IsInferenceDropout(const Graph& graph, const Node& node, const std::vector<int>& uses) {
  if (node.outputs.size() > 1 && node.outputs[1] >= 0 && uses[node.outputs[1]] > 0) return false;
  if (node.opset < 12 || node.inputs.size() < 3 || node.inputs[2] < 0) return true;
  const Tensor* training = rewrite::ConstantOf(graph, node.inputs[2]);
  return training != nullptr && training->dtype() == DataType::kBool && training->NumElements() == 1 &&
         !*training->data<bool>();
}

class IdentityEliminationPass final : public Pass {
 public:
  const char* name() const override { return "identity_elimination"; }
  OptLevel level() const override { return OptLevel::kBasic; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& node = graph.nodes[n];
      if (!node.domain.empty() || node.inputs.empty() || node.inputs[0] < 0 || node.outputs.empty() ||
          node.outputs[0] < 0) {
        continue;
      }
      bool removable = node.op_type == "Identity" ||
                       (node.op_type == "Dropout" && IsInferenceDropout(graph, node, rewrite::UseCounts(graph)));
      if (removable && Bypass(graph, static_cast<int>(n))) changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  static bool Bypass(Graph& graph, int index) {
    const int x = graph.nodes[index].inputs[0];
    const int y = graph.nodes[index].outputs[0];
    if (x == y) return false;
    if (!rewrite::IsGraphOutput(graph, y)) {
      rewrite::RemoveNode(graph, index);
      rewrite::ReplaceInputUses(graph, y, x);
      return true;
    }
    const int producer = graph.values[x].producer;
    if (producer < 0 || rewrite::IsGraphOutput(graph, x)) return false;
    rewrite::RemoveNode(graph, index);
    std::vector<int> outputs = graph.nodes[producer].outputs;
    for (int& id : outputs) {
      if (id == x) id = y;
    }
    rewrite::SetOutputs(graph, producer, outputs);
    rewrite::ReplaceInputUses(graph, x, y);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeIdentityEliminationPass() { return std::make_unique<IdentityEliminationPass>(); }

}  // namespace edgeai
