// BatchNormalization folding: an inference BatchNormalization whose input is the sole use of a Conv's output
// (or of a Gemm's with a constant B) and whose scale, bias, mean and variance are constants is folded into that
// node's weights: with s = scale / sqrt(var + epsilon), Conv gets W * s (per output channel) and bias
// (b - mean) * s + B; Gemm gets B * s (per output column) and C' = s * beta * C + B - s * mean, beta 1.
// New constants are made for the new weights: the old ones may be shared with other nodes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

struct BnParams {
  std::vector<double> scale;  // s per channel
  std::vector<double> shift;  // B - s * mean per channel
};

template <typename T>
void ReadParams(const Tensor& scale, const Tensor& bias, const Tensor& mean, const Tensor& var, double epsilon,
                BnParams* p) {
  const int64_t c = scale.NumElements();
  p->scale.resize(c);
  p->shift.resize(c);
  for (int64_t i = 0; i < c; ++i) {
    double s = double(scale.data<T>()[i]) / std::sqrt(double(var.data<T>()[i]) + epsilon);
    p->scale[i] = s;
    p->shift[i] = double(bias.data<T>()[i]) - s * double(mean.data<T>()[i]);
  }
}

// The folded parameters when `bn` is an inference BatchNormalization with constant parameters of `channels`
// elements each, all of `dtype`.
bool FoldableBn(const Graph& graph, const Node& bn, const std::vector<int>& uses, int64_t channels,
                DataType dtype, BnParams* params) {
  if (bn.inputs.size() != 5) return false;
  for (size_t o = 1; o < bn.outputs.size(); ++o) {
    if (bn.outputs[o] >= 0 && uses[bn.outputs[o]] > 0) return false;
  }
  if (bn.attrs.GetInt("training_mode", 0) != 0) return false;
  if (bn.opset < 9 && bn.attrs.GetInt("spatial", 1) == 0) return false;
  const Tensor* t[4];
  for (int i = 0; i < 4; ++i) {
    t[i] = rewrite::ConstantOf(graph, bn.inputs[i + 1]);
    if (t[i] == nullptr || t[i]->dtype() != dtype || t[i]->NumElements() != channels || t[i]->rank() != 1) {
      return false;
    }
  }
  double epsilon = bn.attrs.GetFloat("epsilon", 1e-5f);
  if (dtype == DataType::kFloat32) {
    ReadParams<float>(*t[0], *t[1], *t[2], *t[3], epsilon, params);
  } else {
    ReadParams<double>(*t[0], *t[1], *t[2], *t[3], epsilon, params);
  }
  return true;
}

// W * s along the middle axis of W viewed as [outer, s.size(), inner]; undefined when out of memory.
template <typename T>
Tensor ScaleAlong(const Tensor& w, const std::vector<double>& s, int64_t outer, int64_t inner) {
  Result<Tensor> copy = w.Clone();
  if (!copy.ok()) return Tensor();
  Tensor out = std::move(copy).value();
  T* p = out.data<T>();
  const int64_t c = static_cast<int64_t>(s.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < c; ++k) {
      T* row = p + (o * c + k) * inner;
      for (int64_t i = 0; i < inner; ++i) row[i] = static_cast<T>(row[i] * s[k]);
    }
  }
  return out;
}

template <typename T>
Tensor Vector(const std::vector<double>& v) {
  std::vector<T> data(v.begin(), v.end());
  return Tensor::FromVector<T>(Shape{static_cast<int64_t>(v.size())}, data);
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  return t.dtype() == DataType::kFloat32 ? double(t.data<float>()[i]) : t.data<double>()[i];
}

class BatchNormFoldingPass final : public Pass {
 public:
  const char* name() const override { return "batchnorm_folding"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    // Counts only go down as BNs are folded, so a stale count errs on the safe side.
    const std::vector<int> uses = rewrite::UseCounts(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const Node& bn = graph.nodes[n];
      if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.empty() || bn.inputs[0] < 0) {
        continue;
      }
      const int x = bn.inputs[0];
      if (uses[x] != 1 || rewrite::IsGraphOutput(graph, x)) continue;
      int conv = rewrite::ProducerOf(graph, x, "Conv");
      int gemm = rewrite::ProducerOf(graph, x, "Gemm");
      bool folded = conv >= 0 ? FoldIntoConv(graph, conv, static_cast<int>(n), uses)
                              : gemm >= 0 && FoldIntoGemm(graph, gemm, static_cast<int>(n), uses);
      changed = changed || folded;
    }
    if (changed) rewrite::CompactNodes(graph);
    return changed;
  }

 private:
  // The producer takes over the BN's output.
  static void Finish(Graph& graph, int producer, int bn) {
    int y = graph.nodes[bn].outputs[0];
    rewrite::RemoveNode(graph, bn);
    rewrite::SetOutputs(graph, producer, {y});
  }

  static bool FoldIntoConv(Graph& graph, int conv, int bn, const std::vector<int>& uses) {
    const Node& node = graph.nodes[conv];
    if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
    const Tensor* w = rewrite::ConstantOf(graph, node.inputs[1]);
    if (w == nullptr || w->rank() < 3) return false;
    const DataType dtype = w->dtype();
    if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64) return false;
    const int64_t m = w->shape()[0];
    const Tensor* b = node.inputs.size() > 2 ? rewrite::ConstantOf(graph, node.inputs[2]) : nullptr;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0 && (b == nullptr || b->NumElements() != m)) return false;
    if (b != nullptr && b->dtype() != dtype) return false;
    BnParams p;
    if (!FoldableBn(graph, graph.nodes[bn], uses, m, dtype, &p)) return false;
    std::vector<double> bias(p.shift);
    for (int64_t i = 0; b != nullptr && i < m; ++i) bias[i] += p.scale[i] * ElementAsDouble(*b, i);
    const int64_t inner = w->NumElements() / std::max<int64_t>(m, 1);
    Tensor new_w = dtype == DataType::kFloat32 ? ScaleAlong<float>(*w, p.scale, 1, inner)
                                               : ScaleAlong<double>(*w, p.scale, 1, inner);
    if (!new_w.defined()) return false;
    Tensor new_b = dtype == DataType::kFloat32 ? Vector<float>(bias) : Vector<double>(bias);
    int w_id = rewrite::AddConstant(graph, graph.values[node.inputs[1]].name + "_bnfolded", std::move(new_w));
    int b_id = rewrite::AddConstant(graph, graph.nodes[bn].name + "_bias", std::move(new_b));
    Node& target = graph.nodes[conv];
    target.inputs.resize(3);
    target.inputs[1] = w_id;
    target.inputs[2] = b_id;
    Finish(graph, conv, bn);
    return true;
  }

  static bool FoldIntoGemm(Graph& graph, int gemm, int bn, const std::vector<int>& uses) {
    const Node& node = graph.nodes[gemm];
    if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
    const Tensor* w = rewrite::ConstantOf(graph, node.inputs[1]);
    if (w == nullptr || w->rank() != 2) return false;
    const DataType dtype = w->dtype();
    if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64) return false;
    const bool trans_b = node.attrs.GetInt("transB", 0) != 0;
    const int64_t n = trans_b ? w->shape()[0] : w->shape()[1];
    const Tensor* c = node.inputs.size() > 2 ? rewrite::ConstantOf(graph, node.inputs[2]) : nullptr;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
      // C must be per column (or a scalar) for the fold to stay per column.
      if (c == nullptr || c->dtype() != dtype || c->rank() > 2) return false;
      if (c->NumElements() != 1 && c->NumElements() != n) return false;
      if (c->rank() == 2 && c->shape()[0] != 1 && c->NumElements() != 1) return false;
    }
    BnParams p;
    if (!FoldableBn(graph, graph.nodes[bn], uses, n, dtype, &p)) return false;
    const double beta = node.attrs.GetFloat("beta", 1.0f);
    std::vector<double> bias(p.shift);
    for (int64_t j = 0; c != nullptr && j < n; ++j) {
      bias[j] += p.scale[j] * beta * ElementAsDouble(*c, c->NumElements() == 1 ? 0 : j);
    }
    // [K, N]: columns scale (outer K, inner 1); [N, K] (transB): rows scale (outer 1, inner K).
    const int64_t outer = trans_b ? 1 : w->shape()[0];
    const int64_t inner = trans_b ? w->shape()[1] : 1;
    Tensor new_w = dtype == DataType::kFloat32 ? ScaleAlong<float>(*w, p.scale, outer, inner)
                                               : ScaleAlong<double>(*w, p.scale, outer, inner);
    if (!new_w.defined()) return false;
    Tensor new_c = dtype == DataType::kFloat32 ? Vector<float>(bias) : Vector<double>(bias);
    int w_id = rewrite::AddConstant(graph, graph.values[node.inputs[1]].name + "_bnfolded", std::move(new_w));
    int c_id = rewrite::AddConstant(graph, graph.nodes[bn].name + "_bias", std::move(new_c));
    Node& target = graph.nodes[gemm];
    target.inputs.resize(3);
    target.inputs[1] = w_id;
    target.inputs[2] = c_id;
    target.attrs.Set("beta", FloatAttr(1.0f));
    if (target.opset < 7) target.attrs.Set("broadcast", IntAttr(1));
    Finish(graph, gemm, bn);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeBatchNormFoldingPass() { return std::make_unique<BatchNormFoldingPass>(); }

}  // namespace edgeai
