// Transpose -> (scale) -> MatMul -> Transpose into com.edgeai.TransposeMatMul (backend/cpu/transpose_matmul.cc).
//
// Multi-head attention as PyTorch exports it splits each head out of Q, K and V with Transposes ([seq, heads,
// d] -> [heads, seq, d], K to [heads, d, seq]), scales Q by a constant Div, and transposes the heads' product
// back for the output projection. Each Transpose copies its tensor; the GEMM can instead read every head's
// matrix in place with strides, and write its product where the Transpose would have put it. Here a MatMul
// absorbs a Transpose feeding either input (when the source's last axis stays among the matrix axes, so that
// the matrices are strided, not scattered), a Div or Mul by a scalar constant on the way (as alpha), and a
// Transpose reading its output (when it keeps the last axis last). The absorbed nodes must feed nothing else.
#include <cmath>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

class TransposeMatMulFusionPass final : public Pass {
 public:
  const char* name() const override { return "transpose_matmul_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const rewrite::Matcher match(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& node = graph.nodes[n];
      if (node.op_type != "MatMul" || !node.domain.empty() || node.inputs.size() != 2 || node.outputs.size() != 1 ||
          node.inputs[0] < 0 || node.inputs[1] < 0) {
        continue;
      }
      changed = Fuse(graph, match, static_cast<int>(n)) || changed;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  struct Input {
    int source = -1;              // what the fused node reads
    std::vector<int64_t> perm;    // empty: none folded
    double scale = 1.0;
    std::vector<int> absorbed;    // nodes to remove
  };

  static int Rank(const Graph& graph, int value) {
    const ValueType& t = graph.values[value].type;
    return t.rank_known ? static_cast<int>(t.dims.rank()) : -1;
  }

  // A Transpose whose perm keeps its input's last axis among the last two, or -1.
  static int StridedTranspose(const Graph& graph, const rewrite::Matcher& match, int value) {
    const int t = rewrite::ProducerOf(graph, value, "Transpose");
    if (t < 0 || match.uses(value) != 1 || rewrite::IsGraphOutput(graph, value)) return -1;
    const Node& node = graph.nodes[t];
    const std::vector<int64_t> perm = node.attrs.GetInts("perm");
    const int rank = static_cast<int>(perm.size());
    if (rank < 2 || node.inputs.empty() || node.inputs[0] < 0 || Rank(graph, node.inputs[0]) != rank) return -1;
    return perm[rank - 1] == rank - 1 || perm[rank - 2] == rank - 1 ? t : -1;
  }

  static Input Trace(const Graph& graph, const rewrite::Matcher& match, int value) {
    Input in;
    in.source = value;
    // A scalar Div or Mul first (it may sit on either side of the Transpose: elementwise by a scalar commutes).
    for (int step = 0; step < 2; ++step) {
      const int t = StridedTranspose(graph, match, in.source);
      if (t >= 0 && in.perm.empty()) {
        in.perm = graph.nodes[t].attrs.GetInts("perm");
        in.absorbed.push_back(t);
        in.source = graph.nodes[t].inputs[0];
        continue;
      }
      int scale_node = rewrite::ProducerOf(graph, in.source, "Div");
      const bool div = scale_node >= 0;
      if (!div) scale_node = rewrite::ProducerOf(graph, in.source, "Mul");
      if (scale_node < 0 || match.uses(in.source) != 1 || rewrite::IsGraphOutput(graph, in.source)) break;
      const Node& s = graph.nodes[scale_node];
      if (s.inputs.size() != 2 || s.inputs[0] < 0 || s.inputs[1] < 0) break;
      double c = 0;
      int x = -1;
      if (rewrite::ScalarConstant(graph, s.inputs[1], &c)) {
        x = s.inputs[0];
      } else if (!div && rewrite::ScalarConstant(graph, s.inputs[0], &c)) {
        x = s.inputs[1];
      }
      const int constant = div || x == s.inputs[0] ? s.inputs[1] : s.inputs[0];
      const Tensor* k = x < 0 ? nullptr : rewrite::ConstantOf(graph, constant);
      // The scalar must not broadcast the product to a higher rank, nor change its dtype.
      if (x < 0 || k == nullptr || k->dtype() != DataType::kFloat32 ||
          k->rank() > static_cast<size_t>(Rank(graph, x)) || !std::isfinite(c) || (div && c == 0.0)) {
        break;
      }
      in.scale *= div ? 1.0 / c : c;
      in.absorbed.push_back(scale_node);
      in.source = x;
    }
    return in;
  }

  static bool Fuse(Graph& graph, const rewrite::Matcher& match, int mm) {
    const Node& node = graph.nodes[mm];
    const int ra = Rank(graph, node.inputs[0]), rb = Rank(graph, node.inputs[1]);
    const int y = node.outputs[0];
    if (ra < 2 || rb < 2 || graph.values[node.inputs[0]].type.dtype != DataType::kFloat32 ||
        graph.values[node.inputs[1]].type.dtype != DataType::kFloat32) {
      return false;
    }
    Input a = Trace(graph, match, node.inputs[0]);
    Input b = Trace(graph, match, node.inputs[1]);
    // A Transpose reading the product, keeping its last axis last.
    std::vector<int64_t> perm_y;
    int out_transpose = -1, out = y;
    const int reader = match.SoleConsumer(y, "Transpose");
    if (reader >= 0 && !rewrite::IsRemoved(graph.nodes[reader])) {
      perm_y = graph.nodes[reader].attrs.GetInts("perm");
      const int64_t r = static_cast<int64_t>(perm_y.size());
      if (r == std::max(ra, rb) && perm_y[r - 1] == r - 1) {
        out_transpose = reader;
        out = graph.nodes[reader].outputs[0];
      } else {
        perm_y.clear();
      }
    }
    if (a.absorbed.empty() && b.absorbed.empty() && out_transpose < 0) return false;
    Node& fused = graph.nodes[mm];
    fused.op_type = "TransposeMatMul";
    fused.domain = kEdgeAIDomain;
    fused.opset = 1;
    fused.inputs = {a.source, b.source};
    if (!a.perm.empty()) fused.attrs.Set("perm_a", IntsAttr(a.perm));
    if (!b.perm.empty()) fused.attrs.Set("perm_b", IntsAttr(b.perm));
    if (!perm_y.empty()) fused.attrs.Set("perm_y", IntsAttr(perm_y));
    const double alpha = a.scale * b.scale;
    if (alpha != 1.0) fused.attrs.Set("alpha", FloatAttr(static_cast<float>(alpha)));
    for (int n : a.absorbed) rewrite::RemoveNode(graph, n);
    for (int n : b.absorbed) rewrite::RemoveNode(graph, n);
    if (out_transpose >= 0) {
      rewrite::RemoveNode(graph, out_transpose);
      rewrite::SetOutputs(graph, mm, {out});
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeTransposeMatMulFusionPass() { return std::make_unique<TransposeMatMulFusionPass>(); }

}  // namespace edgeai
