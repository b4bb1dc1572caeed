// GELU fusion: the exact (erf) GELU as exporters decompose it, x * 0.5 * (1 + Erf(x / sqrt(2))), becomes one
// com.edgeai Gelu(x). Accepted: x / sqrt(2) or x * (1 / sqrt(2)); the three orders of the final products
// ((x * a) * 0.5, x * (a * 0.5), (x * 0.5) * a with a = 1 + Erf(..)); operands of Add and Mul in either order.
#include <cmath>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

// A one-element constant near `expected` of rank 0 or 1: with x of rank >= 1 it cannot broadcast the result.
bool IsConstant(const Graph& graph, int value, double expected, double tolerance) {
  double v;
  return rewrite::ScalarConstant(graph, value, &v) && std::fabs(v - expected) <= tolerance &&
         graph.values[value].constant.rank() <= 1;
}

bool IsNode(const Graph& graph, int node, const char* op) {
  return node >= 0 && graph.nodes[node].op_type == op && graph.nodes[node].domain.empty();
}

struct GeluMatch {
  std::vector<int> nodes;
  int x = -1, y = -1;
};

// x from the Erf's input t = x / sqrt(2) or x * 0.7071..: the scaling node, or -1.
int ScaledInput(const Graph& graph, const rewrite::Matcher& m, int t, int* x) {
  int p = t >= 0 ? graph.values[t].producer : -1;
  if (p < 0 || m.uses(t) != 1 || graph.nodes[p].inputs.size() != 2) return -1;
  const Node& node = graph.nodes[p];
  if (IsNode(graph, p, "Div") && IsConstant(graph, node.inputs[1], std::sqrt(2.0), 1e-4)) {
    *x = node.inputs[0];
    return p;
  }
  if (!IsNode(graph, p, "Mul")) return -1;
  for (int side = 0; side < 2; ++side) {
    if (IsConstant(graph, node.inputs[side], std::sqrt(0.5), 1e-5)) {
      *x = node.inputs[1 - side];
      return p;
    }
  }
  return -1;
}

// The tail after a = 1 + Erf(..): (x * a) * 0.5, x * (a * 0.5) or (x * 0.5) * a.
bool MatchTail(const Graph& graph, const rewrite::Matcher& m, int a, int x, GeluMatch* out) {
  int m1 = m.SoleConsumer(a, "Mul");
  if (m1 < 0) return false;
  const int other = rewrite::OtherInput(graph.nodes[m1], a);
  const int h = graph.nodes[m1].outputs[0];
  if (other == x) {  // (x * a) * 0.5
    int m2 = m.SoleConsumer(h, "Mul");
    if (m2 < 0 || !IsConstant(graph, rewrite::OtherInput(graph.nodes[m2], h), 0.5, 0)) return false;
    out->nodes.insert(out->nodes.end(), {m1, m2});
    out->y = graph.nodes[m2].outputs[0];
    return true;
  }
  if (IsConstant(graph, other, 0.5, 0)) {  // x * (a * 0.5)
    int m2 = m.SoleConsumer(h, "Mul");
    if (m2 < 0 || rewrite::OtherInput(graph.nodes[m2], h) != x) return false;
    out->nodes.insert(out->nodes.end(), {m1, m2});
    out->y = graph.nodes[m2].outputs[0];
    return true;
  }
  // (x * 0.5) * a: the half is its own node reading x.
  int half = other >= 0 ? graph.values[other].producer : -1;
  if (!IsNode(graph, half, "Mul") || m.uses(other) != 1) return false;
  if (rewrite::OtherInput(graph.nodes[half], x) < 0 ||
      !IsConstant(graph, rewrite::OtherInput(graph.nodes[half], x), 0.5, 0)) {
    return false;
  }
  out->nodes.insert(out->nodes.end(), {half, m1});
  out->y = h;
  return true;
}

bool MatchGelu(const Graph& graph, const rewrite::Matcher& m, int erf, GeluMatch* out) {
  const Node& e = graph.nodes[erf];
  if (e.inputs.size() != 1 || e.outputs.size() != 1) return false;
  int x = -1;
  int scale = ScaledInput(graph, m, e.inputs[0], &x);
  if (scale < 0 || x < 0) return false;
  const ValueType& xt = graph.values[x].type;
  if (xt.dtype != DataType::kFloat32 || !xt.rank_known || xt.dims.rank() == 0) return false;
  int add = m.SoleConsumer(e.outputs[0], "Add");
  if (add < 0 || !IsConstant(graph, rewrite::OtherInput(graph.nodes[add], e.outputs[0]), 1.0, 0)) return false;
  out->nodes = {scale, erf, add};
  out->x = x;
  return MatchTail(graph, m, graph.nodes[add].outputs[0], x, out);
}

class GeluFusionPass final : public Pass {
 public:
  const char* name() const override { return "gelu_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const rewrite::Matcher matcher(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (!IsNode(graph, static_cast<int>(n), "Erf")) continue;
      GeluMatch match;
      if (!MatchGelu(graph, matcher, static_cast<int>(n), &match)) continue;
      bool overlaps = false;
      for (int node : match.nodes) overlaps = overlaps || rewrite::IsRemoved(graph.nodes[node]);
      if (overlaps) continue;
      const int erf = static_cast<int>(n);
      const int opset = graph.nodes[erf].opset;
      for (int node : match.nodes) rewrite::RemoveNode(graph, node);
      Node& gelu = graph.nodes[erf];
      gelu.op_type = "Gelu";
      gelu.domain = kEdgeAIDomain;
      gelu.opset = opset;
      gelu.inputs = {match.x};
      rewrite::SetOutputs(graph, erf, {match.y});
      changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeGeluFusionPass() { return std::make_unique<GeluFusionPass>(); }

}  // namespace edgeai
