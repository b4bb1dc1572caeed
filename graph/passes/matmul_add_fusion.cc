// MatMul + Add(constant bias) fusion. With a 2-D A and a 2-D B, and a bias that broadcasts as a row ([N],
// [1, N] or one element), MatMul -> Add becomes Gemm(A, B, bias). With A of higher rank (a transformer's
// [seq, batch, features] activations) it becomes com.edgeai FusedMatMul(A, B, bias), which adds the bias while
// the output is still in cache; the activation fusion may later give it an activation too.
#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

bool IsFloat(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }

// A bias that Add broadcasts onto [.., N] without changing the output shape.
bool IsRowBias(const Tensor& bias, int64_t n, size_t max_rank) {
  if (bias.rank() > max_rank) return false;
  if (bias.NumElements() == 1) return true;
  if (bias.NumElements() != n || bias.rank() == 0 || bias.shape().back() != n) return false;
  return true;
}

class MatMulAddFusionPass final : public Pass {
 public:
  const char* name() const override { return "matmul_add_fusion"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    const std::vector<int> uses = rewrite::UseCounts(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& add = graph.nodes[n];
      if (add.op_type != "Add" || !add.domain.empty() || add.opset < 7 || add.inputs.size() != 2 ||
          add.outputs.size() != 1) {
        continue;
      }
      for (int side = 0; side < 2; ++side) {
        if (Fuse(graph, static_cast<int>(n), add.inputs[side], add.inputs[1 - side], uses)) {
          changed = true;
          break;
        }
      }
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  static bool Fuse(Graph& graph, int add, int product, int bias_id, const std::vector<int>& uses) {
    int mm = rewrite::ProducerOf(graph, product, "MatMul");
    const Tensor* bias = rewrite::ConstantOf(graph, bias_id);
    if (mm < 0 || bias == nullptr || uses[product] != 1 || rewrite::IsGraphOutput(graph, product)) return false;
    const Node& matmul = graph.nodes[mm];
    if (matmul.inputs.size() != 2 || matmul.inputs[0] < 0 || matmul.inputs[1] < 0) return false;
    const ValueType& a = graph.values[matmul.inputs[0]].type;
    const ValueType& b = graph.values[matmul.inputs[1]].type;
    if (!a.rank_known || !b.rank_known || b.dims.rank() != 2 || a.dims.rank() < 2 || b.dims[1] < 0) return false;
    if (!IsFloat(a.dtype) || a.dtype != b.dtype || bias->dtype() != a.dtype) return false;
    const bool two_d = a.dims.rank() == 2;
    if (!IsRowBias(*bias, b.dims[1], two_d ? 2 : 1)) return false;
    const int y = graph.nodes[add].outputs[0];
    rewrite::RemoveNode(graph, add);
    Node& fused = graph.nodes[mm];
    fused.inputs.push_back(bias_id);
    if (two_d) {
      fused.op_type = "Gemm";
    } else {
      fused.op_type = "FusedMatMul";
      fused.domain = kEdgeAIDomain;
    }
    rewrite::SetOutputs(graph, mm, {y});
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeMatMulAddFusionPass() { return std::make_unique<MatMulAddFusionPass>(); }

}  // namespace edgeai
