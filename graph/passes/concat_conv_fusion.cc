// Concat -> 1x1 Conv fusion: a Concat along channels (axis 1 of rank-4 tensors) read only by one pointwise
// Conv or FusedConv (1x1, stride 1, no padding, one group, constant float32 weights) becomes com.edgeai
// ConcatConv, whose GEMM reads each channel from the part that holds it: the concatenation is never written
// (SqueezeNet's fire modules, Inception-style blocks feeding a 1x1 convolution).
#include <string>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

constexpr size_t kMaxParts = 8;  // ConcatConv's limit (backend/cpu/concat_conv.cc)

bool ChannelConcat(const Graph& graph, const Node& node) {
  if (!node.domain.empty() || node.op_type != "Concat" || node.outputs.size() != 1) return false;
  if (node.inputs.size() < 2 || node.inputs.size() > kMaxParts) return false;
  for (int v : node.inputs) {
    if (v < 0) return false;
    const ValueType& t = graph.values[v].type;
    if (t.dtype != DataType::kFloat32 || !t.rank_known || t.dims.rank() != 4) return false;
  }
  const int64_t axis = node.attrs.GetInt("axis", 0);
  return axis == 1 || axis == -3;
}

bool PointwiseConvOf(const Graph& graph, const Node& node, int x) {
  const bool conv = node.domain.empty() && node.op_type == "Conv";
  const bool fused = node.domain == kEdgeAIDomain && node.op_type == "FusedConv";
  if ((!conv && !fused) || node.inputs.size() < 2 || node.inputs[0] != x || node.outputs.size() != 1) return false;
  const Tensor* w = rewrite::ConstantOf(graph, node.inputs[1]);
  if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() != 4 || w->shape()[2] != 1 ||
      w->shape()[3] != 1) {
    return false;
  }
  if (node.attrs.GetInt("group", 1) != 1) return false;
  const std::string auto_pad = node.attrs.GetString("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && !auto_pad.empty()) return false;
  for (int64_t s : node.attrs.GetInts("strides", {1, 1})) {
    if (s != 1) return false;
  }
  for (int64_t p : node.attrs.GetInts("pads", {0, 0, 0, 0})) {
    if (p != 0) return false;
  }
  return true;
}

class ConcatConvFusionPass final : public Pass {
 public:
  const char* name() const override { return "concat_conv_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const rewrite::Matcher match(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& concat = graph.nodes[n];
      if (rewrite::IsRemoved(concat) || !ChannelConcat(graph, concat)) continue;
      const int x = concat.outputs[0];
      if (match.uses(x) != 1 || rewrite::IsGraphOutput(graph, x) || match.consumers(x).size() != 1) continue;
      const int c = match.consumers(x)[0];
      if (rewrite::IsRemoved(graph.nodes[c]) || !PointwiseConvOf(graph, graph.nodes[c], x)) continue;
      const std::vector<int> parts = concat.inputs;
      Node& conv = graph.nodes[c];
      std::vector<int> inputs = {conv.inputs[1], conv.inputs.size() > 2 ? conv.inputs[2] : -1};
      inputs.insert(inputs.end(), parts.begin(), parts.end());
      AttributeMap attrs;
      for (const char* a : {"activation", "activation_params"}) {
        if (const Attribute* v = conv.attrs.Find(a)) attrs.Set(a, *v);
      }
      conv.op_type = "ConcatConv";
      conv.domain = kEdgeAIDomain;
      conv.opset = 1;
      conv.attrs = std::move(attrs);
      conv.inputs = std::move(inputs);
      rewrite::RemoveNode(graph, static_cast<int>(n));
      changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeConcatConvFusionPass() { return std::make_unique<ConcatConvFusionPass>(); }

}  // namespace edgeai
