// Shape folding: Shape and Size of a value whose static shape is known become constants. Shape -> Gather with
// constant indices folds too when just the gathered dims are known, which is the usual case of a model with a
// symbolic batch dim: the other dims reach Reshape targets through Gather/Unsqueeze/Concat chains that
// constant folding then finishes.
#include <algorithm>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

// The dims a Shape node reports (its start/end window from opset 15), -1 where unknown; false when the input's
// rank is unknown.
bool ShapeWindow(const Graph& graph, const Node& shape, std::vector<int64_t>* dims) {
  if (shape.inputs.empty() || shape.inputs[0] < 0) return false;
  const ValueType& x = graph.values[shape.inputs[0]].type;
  if (!x.rank_known) return false;
  const int64_t rank = static_cast<int64_t>(x.dims.rank());
  int64_t start = shape.opset >= 15 ? shape.attrs.GetInt("start", 0) : 0;
  int64_t end = shape.opset >= 15 ? shape.attrs.GetInt("end", rank) : rank;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  dims->clear();
  for (int64_t i = start; i < end; ++i) dims->push_back(x.dims[static_cast<size_t>(i)]);
  return true;
}

bool AllKnown(const std::vector<int64_t>& dims) {
  return std::all_of(dims.begin(), dims.end(), [](int64_t d) { return d >= 0; });
}

// The dims picked by Gather(shape_of_x, constant indices) along axis 0, when each of them is known.
bool GatheredDims(const Graph& graph, const Node& gather, Tensor* out) {
  if (gather.inputs.size() != 2 || gather.outputs.size() != 1 || gather.attrs.GetInt("axis", 0) != 0) return false;
  int shape_node = rewrite::ProducerOf(graph, gather.inputs[0], "Shape");
  const Tensor* indices = rewrite::ConstantOf(graph, gather.inputs[1]);
  if (shape_node < 0 || indices == nullptr) return false;
  std::vector<int64_t> dims;
  if (!ShapeWindow(graph, graph.nodes[shape_node], &dims)) return false;
  const int64_t n = static_cast<int64_t>(dims.size());
  std::vector<int64_t> picked;
  for (int64_t i = 0; i < indices->NumElements(); ++i) {
    int64_t index;
    if (indices->dtype() == DataType::kInt64) {
      index = indices->data<int64_t>()[i];
    } else if (indices->dtype() == DataType::kInt32) {
      index = indices->data<int32_t>()[i];
    } else {
      return false;
    }
    if (index < -n || index >= n) return false;  // out of range: the kernel reports it at run time
    int64_t dim = dims[static_cast<size_t>(index < 0 ? index + n : index)];
    if (dim < 0) return false;
    picked.push_back(dim);
  }
  *out = Tensor::FromVector<int64_t>(indices->shape(), picked);
  return true;
}

bool FoldedValue(const Graph& graph, const Node& node, Tensor* out) {
  if (!node.domain.empty() || node.outputs.size() != 1 || node.outputs[0] < 0) return false;
  if (node.op_type == "Shape") {
    std::vector<int64_t> dims;
    if (!ShapeWindow(graph, node, &dims) || !AllKnown(dims)) return false;
    *out = Tensor::FromVector<int64_t>(Shape{static_cast<int64_t>(dims.size())}, dims);
    return true;
  }
  if (node.op_type == "Size") {
    if (node.inputs.empty() || node.inputs[0] < 0) return false;
    const ValueType& x = graph.values[node.inputs[0]].type;
    if (!x.IsFullyKnown()) return false;
    *out = Tensor::Scalar<int64_t>(x.dims.NumElements());
    return true;
  }
  if (node.op_type == "Gather") return GatheredDims(graph, node, out);
  return false;
}

class ShapeFoldingPass final : public Pass {
 public:
  const char* name() const override { return "shape_folding"; }
  OptLevel level() const override { return OptLevel::kBasic; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& node = graph.nodes[n];
      if (rewrite::IsRemoved(node)) continue;
      Tensor folded;
      if (!FoldedValue(graph, node, &folded)) continue;
      Value& v = graph.values[node.outputs[0]];
      v.type = ValueType::Of(folded.dtype(), folded.shape());
      v.constant = std::move(folded);
      rewrite::RemoveNode(graph, static_cast<int>(n));
      changed = true;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeShapeFoldingPass() { return std::make_unique<ShapeFoldingPass>(); }

}  // namespace edgeai
