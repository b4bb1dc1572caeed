// Activation fusion: Conv, Gemm or MatMul (or an already fused com.edgeai node without an activation) whose
// output is read only by one activation node becomes com.edgeai FusedConv / FusedGemm / FusedMatMul with
// attributes activation (the activation's op type) and activation_params: Relu, Sigmoid, Tanh, HardSwish (no
// params), LeakyRelu [alpha], HardSigmoid [alpha, beta], Clip [min, max] (constant bounds only). The fused
// kernel applies the activation to the output in place while it is still in cache.
#include <limits>
#include <string>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

// The activation of `node` and its parameters, when it is one the fused kernels apply.
bool ReadActivation(const Graph& graph, const Node& node, std::vector<float>* params) {
  const std::string& op = node.op_type;
  if (!node.domain.empty() || node.inputs.empty() || node.outputs.size() != 1) return false;
  params->clear();
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish") return node.inputs.size() == 1;
  if (op == "LeakyRelu") {
    params->push_back(node.attrs.GetFloat("alpha", 0.01f));
    return true;
  }
  if (op == "HardSigmoid") {
    params->push_back(node.attrs.GetFloat("alpha", 0.2f));
    params->push_back(node.attrs.GetFloat("beta", 0.5f));
    return true;
  }
  if (op != "Clip") return false;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  if (node.opset < 11) {
    lo = node.attrs.GetFloat("min", lo);
    hi = node.attrs.GetFloat("max", hi);
  } else {
    for (size_t i = 1; i < node.inputs.size() && i <= 2; ++i) {
      if (node.inputs[i] < 0) continue;
      double bound;
      if (!rewrite::ScalarConstant(graph, node.inputs[i], &bound)) return false;
      (i == 1 ? lo : hi) = static_cast<float>(bound);
    }
  }
  params->push_back(lo);
  params->push_back(hi);
  return true;
}

// "FusedConv" for a Conv, or the fused op itself when it has no activation yet; empty when not fusable.
std::string FusedName(const Node& node) {
  if (node.domain.empty()) {
    if (node.op_type == "Conv" || node.op_type == "Gemm" || node.op_type == "MatMul") return "Fused" + node.op_type;
    return "";
  }
  if (node.domain != kEdgeAIDomain) return "";
  if (node.op_type != "FusedConv" && node.op_type != "FusedGemm" && node.op_type != "FusedMatMul") return "";
  return node.attrs.GetString("activation", "").empty() ? node.op_type : "";
}

class ActivationFusionPass final : public Pass {
 public:
  const char* name() const override { return "activation_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const std::vector<int> uses = rewrite::UseCounts(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& act = graph.nodes[n];
      std::vector<float> params;
      if (!ReadActivation(graph, act, &params) || act.inputs[0] < 0) continue;
      const int x = act.inputs[0];
      const int producer = graph.values[x].producer;
      if (producer < 0 || uses[x] != 1 || rewrite::IsGraphOutput(graph, x)) continue;
      const DataType dtype = graph.values[x].type.dtype;
      if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64) continue;
      std::string fused = FusedName(graph.nodes[producer]);
      if (fused.empty() || graph.nodes[producer].outputs.size() != 1) continue;
      const int y = act.outputs[0];
      Attribute activation = StringAttr(act.op_type);  // before RemoveNode clears it
      rewrite::RemoveNode(graph, static_cast<int>(n));
      Node& target = graph.nodes[producer];
      target.op_type = fused;
      target.domain = kEdgeAIDomain;
      target.attrs.Set("activation", std::move(activation));
      target.attrs.Set("activation_params", FloatsAttr(params));
      rewrite::SetOutputs(graph, producer, {y});
      changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeActivationFusionPass() { return std::make_unique<ActivationFusionPass>(); }

}  // namespace edgeai
