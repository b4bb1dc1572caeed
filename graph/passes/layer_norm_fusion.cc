// LayerNorm fusion: the decomposition exporters emit for a layer norm over the last axis,
//   m = ReduceMean(x, [-1]); d = x - m; v = ReduceMean(d ^ 2, [-1]); n = d / Sqrt(v + eps); y = n * gamma + beta
// (d*d for d^2 accepted; the Mul and Add of gamma and beta each optional), becomes one com.edgeai
// LayerNormalization(x, gamma, beta) with axis -1 and epsilon eps: one pass over each row instead of nine
// full-tensor ops. The intermediates must have no other readers and must not be graph outputs.
#include <cmath>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

// ReduceMean over just the last axis of a rank-`rank` input, keeping dims.
bool ReducesLastAxis(const Graph& graph, const Node& node, int64_t rank) {
  if (node.attrs.GetInt("keepdims", 1) != 1 || node.outputs.size() != 1) return false;
  std::vector<int64_t> axes;
  if (node.opset < 18) {
    axes = node.attrs.GetInts("axes");
  } else {
    const Tensor* t = node.inputs.size() > 1 ? rewrite::ConstantOf(graph, node.inputs[1]) : nullptr;
    if (t == nullptr || t->dtype() != DataType::kInt64) return false;
    axes.assign(t->data<int64_t>(), t->data<int64_t>() + t->NumElements());
  }
  return axes.size() == 1 && (axes[0] == -1 || axes[0] == rank - 1);
}

// gamma or beta: a constant that broadcasts onto the last axis without changing the output's rank.
bool IsAffineParam(const Graph& graph, int value, int64_t rank, int64_t last) {
  const Tensor* t = rewrite::ConstantOf(graph, value);
  if (t == nullptr || t->dtype() != DataType::kFloat32 || static_cast<int64_t>(t->rank()) > rank) return false;
  for (size_t i = 0; i + 1 < t->rank(); ++i) {
    if (t->shape()[i] != 1) return false;
  }
  int64_t d = t->rank() == 0 ? 1 : t->shape().back();
  return d == 1 || d == last;
}

struct LayerNormMatch {
  std::vector<int> nodes;  // every node of the pattern, to remove
  int x = -1, gamma = -1, beta = -1, y = -1;
  float epsilon = 0;
};

bool MatchLayerNorm(const Graph& graph, const rewrite::Matcher& m, int mean1, LayerNormMatch* out) {
  const Node& rm1 = graph.nodes[mean1];
  if (rm1.inputs.empty() || rm1.inputs[0] < 0 || rm1.outputs.size() != 1) return false;
  const int x = rm1.inputs[0];
  const ValueType& xt = graph.values[x].type;
  if (xt.dtype != DataType::kFloat32 || !xt.rank_known || xt.dims.rank() == 0) return false;
  const int64_t rank = static_cast<int64_t>(xt.dims.rank());
  if (!ReducesLastAxis(graph, rm1, rank)) return false;
  int sub = m.SoleConsumer(rm1.outputs[0], "Sub");
  if (sub < 0 || graph.nodes[sub].inputs[0] != x || graph.nodes[sub].inputs[1] != rm1.outputs[0]) return false;
  const int d = graph.nodes[sub].outputs[0];
  // d feeds the square (Pow(d, 2) or Mul(d, d)) and the division, nothing else.
  if (m.uses(d) != static_cast<int>(m.consumers(d).size())) return false;
  int square = -1, div = -1;
  bool self_mul = false;
  for (int c : m.consumers(d)) {
    const Node& node = graph.nodes[c];
    double two;
    if (node.op_type == "Pow" && node.inputs.size() == 2 && node.inputs[0] == d &&
        rewrite::ScalarConstant(graph, node.inputs[1], &two) && two == 2.0) {
      square = c;
    } else if (node.op_type == "Mul" && node.inputs.size() == 2 && node.inputs[0] == d && node.inputs[1] == d) {
      square = c;
      self_mul = true;
    } else if (node.op_type == "Div" && node.inputs.size() == 2 && node.inputs[0] == d) {
      div = c;
    }
  }
  if (m.uses(d) != (self_mul ? 3 : 2)) return false;
  if (square < 0 || div < 0 || !graph.nodes[square].domain.empty() || !graph.nodes[div].domain.empty()) return false;
  int rm2 = m.SoleConsumer(graph.nodes[square].outputs[0], "ReduceMean");
  if (rm2 < 0 || !ReducesLastAxis(graph, graph.nodes[rm2], rank)) return false;
  int add_eps = m.SoleConsumer(graph.nodes[rm2].outputs[0], "Add");
  if (add_eps < 0) return false;
  double eps;
  const int eps_id = rewrite::OtherInput(graph.nodes[add_eps], graph.nodes[rm2].outputs[0]);
  // A one-element epsilon of higher rank than x would broadcast the output to that rank.
  if (!rewrite::ScalarConstant(graph, eps_id, &eps)) return false;
  if (static_cast<int64_t>(graph.values[eps_id].constant.rank()) > rank) return false;
  int sqrt = m.SoleConsumer(graph.nodes[add_eps].outputs[0], "Sqrt");
  if (sqrt < 0 || m.SoleConsumer(graph.nodes[sqrt].outputs[0], "Div") != div) return false;
  if (graph.nodes[div].inputs[1] != graph.nodes[sqrt].outputs[0]) return false;
  out->nodes = {mean1, sub, square, rm2, add_eps, sqrt, div};
  out->x = x;
  out->epsilon = static_cast<float>(eps);
  int tail = graph.nodes[div].outputs[0];
  const int64_t last = xt.dims[rank - 1];
  int mul = m.SoleConsumer(tail, "Mul");
  if (mul >= 0 && IsAffineParam(graph, rewrite::OtherInput(graph.nodes[mul], tail), rank, last)) {
    out->gamma = rewrite::OtherInput(graph.nodes[mul], tail);
    out->nodes.push_back(mul);
    tail = graph.nodes[mul].outputs[0];
    int add = m.SoleConsumer(tail, "Add");
    if (add >= 0 && IsAffineParam(graph, rewrite::OtherInput(graph.nodes[add], tail), rank, last)) {
      out->beta = rewrite::OtherInput(graph.nodes[add], tail);
      out->nodes.push_back(add);
      tail = graph.nodes[add].outputs[0];
    }
  }
  // Every intermediate read once (d twice or thrice, checked above) and none a graph output.
  for (size_t i = 0; i + 1 < out->nodes.size(); ++i) {
    int v = graph.nodes[out->nodes[i]].outputs[0];
    if (rewrite::IsGraphOutput(graph, v)) return false;
  }
  out->y = tail;
  return true;
}

class LayerNormFusionPass final : public Pass {
 public:
  const char* name() const override { return "layer_norm_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const rewrite::Matcher matcher(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& node = graph.nodes[n];
      if (node.op_type != "ReduceMean" || !node.domain.empty()) continue;
      LayerNormMatch match;
      if (!MatchLayerNorm(graph, matcher, static_cast<int>(n), &match)) continue;
      if (!Rewrite(graph, match)) continue;
      changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  static bool Rewrite(Graph& graph, const LayerNormMatch& match) {
    for (int n : match.nodes) {
      if (rewrite::IsRemoved(graph.nodes[n])) return false;  // overlapping an earlier match
    }
    int gamma = match.gamma;
    if (gamma < 0) {
      const ValueType& xt = graph.values[match.x].type;
      int64_t last = xt.dims[xt.dims.rank() - 1];
      if (last < 0) return false;
      gamma = rewrite::AddConstant(graph, graph.values[match.x].name + "_ln_scale",
                                   Tensor::FromVector<float>(Shape{last}, std::vector<float>(last, 1.0f)));
    }
    const int first = match.nodes[0];
    const int opset = graph.nodes[first].opset;
    const std::string name = graph.nodes[first].name;
    for (int n : match.nodes) rewrite::RemoveNode(graph, n);
    Node& ln = graph.nodes[first];
    ln.op_type = "LayerNormalization";
    ln.domain = kEdgeAIDomain;
    ln.opset = opset;
    ln.name = name;
    ln.inputs = {match.x, gamma};
    if (match.beta >= 0) ln.inputs.push_back(match.beta);
    ln.attrs.Set("axis", IntAttr(-1));
    ln.attrs.Set("epsilon", FloatAttr(match.epsilon));
    rewrite::SetOutputs(graph, first, {match.y});
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeLayerNormFusionPass() { return std::make_unique<LayerNormFusionPass>(); }

}  // namespace edgeai
