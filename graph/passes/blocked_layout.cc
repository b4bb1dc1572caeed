// Blocked layout: runs of 1x1 and depthwise 3x3 convolutions on small planes (MobileNet's 28x28 to 7x7 stages)
// become com.edgeai BlockedConv nodes over channel-blocked tensors [N, C/16, H, W, 16] (backend/cpu/
// blocked_layout.h), with the residual Adds between them running on the blocked tensors as they are. Where a
// blocked region reads a plain tensor a ReorderToBlocked is inserted, and every original output stays available
// through a ReorderFromBlocked (dead code elimination removes those nobody reads).
//
// A convolution qualifies when it is a float32 Conv or FusedConv with constant weights, static shapes,
// channels in multiples of 16, no dilation or auto_pad, and either pointwise (1x1, stride 1, no padding, one
// group) or depthwise 3x3 (stride 1 or 2), with input and output planes of at most kMaxPixels. Qualifying
// convolutions (and the Adds joining them) that touch each other form regions; only regions with at least
// kMinConvs convolutions are converted, so that the reorders at their edges are paid back. The pass runs only
// where the context says the blocked kernels pay (PassContext::blocked_layout: AVX-512).
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

constexpr int64_t kBlock = 16;
// 28x28. Measured per layer on mobilenet_v2 at 1 thread, the blocked kernels gain 5-15% on its 28x28 and 14x14
// layers (its depthwise stride-2 layers 2x) and about break even on 7x7; its 56x56 stage has 24 channels.
constexpr int64_t kMaxPixels = 784;
constexpr int kMinConvs = 4;

// float32 [N, C, H, W] with C, H and W known (the batch may be symbolic).
bool StaticFloat4D(const ValueType& t) {
  return t.dtype == DataType::kFloat32 && t.rank_known && t.dims.rank() == 4 && t.dims[1] >= 0 && t.dims[2] >= 0 &&
         t.dims[3] >= 0;
}

// Whether `node` is a convolution the blocked kernels run (see the file comment).
bool QualifyingConv(const Graph& graph, const Node& node) {
  const bool conv = node.domain.empty() && node.op_type == "Conv";
  const bool fused = node.domain == kEdgeAIDomain && node.op_type == "FusedConv";
  if ((!conv && !fused) || node.inputs.size() < 2 || node.outputs.size() != 1 || node.inputs[0] < 0) return false;
  const ValueType& x = graph.values[node.inputs[0]].type;
  const ValueType& y = graph.values[node.outputs[0]].type;
  const Tensor* w = rewrite::ConstantOf(graph, node.inputs[1]);
  if (!StaticFloat4D(x) || !StaticFloat4D(y) || w == nullptr || w->dtype() != DataType::kFloat32) return false;
  if (w->shape().rank() != 4) return false;
  const std::string auto_pad = node.attrs.GetString("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && !auto_pad.empty()) return false;
  for (int64_t d : node.attrs.GetInts("dilations", {1, 1})) {
    if (d != 1) return false;
  }
  const std::vector<int64_t> strides = node.attrs.GetInts("strides", {1, 1});
  const std::vector<int64_t> pads = node.attrs.GetInts("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || pads.size() != 4) return false;
  const int64_t c = x.dims[1], m = y.dims[1], group = node.attrs.GetInt("group", 1);
  if (c % kBlock != 0 || m % kBlock != 0) return false;
  if (x.dims[2] * x.dims[3] > kMaxPixels || y.dims[2] * y.dims[3] > kMaxPixels) return false;
  const Shape& wd = w->shape();
  const bool no_pad = pads[0] == 0 && pads[1] == 0 && pads[2] == 0 && pads[3] == 0;
  const bool pointwise = group == 1 && wd[1] == c && wd[2] == 1 && wd[3] == 1 && strides[0] == 1 &&
                         strides[1] == 1 && no_pad;
  const bool depthwise = group == c && wd[0] == c && m == c && wd[1] == 1 && wd[2] == 3 && wd[3] == 3 &&
                         strides[0] == strides[1] && strides[0] <= 2;
  return pointwise || depthwise;
}

bool QualifyingAdd(const Graph& graph, const Node& node) {
  if (!node.domain.empty() || node.op_type != "Add" || node.inputs.size() != 2 || node.outputs.size() != 1) {
    return false;
  }
  if (node.inputs[0] < 0 || node.inputs[1] < 0) return false;
  const ValueType& a = graph.values[node.inputs[0]].type;
  const ValueType& b = graph.values[node.inputs[1]].type;
  // Channels and plane must agree; the batch may broadcast, which it does the same way over blocked tensors.
  return StaticFloat4D(a) && StaticFloat4D(b) && a.dims[1] == b.dims[1] && a.dims[2] == b.dims[2] &&
         a.dims[3] == b.dims[3] && a.dims[1] % kBlock == 0;
}

class BlockedLayoutPass final : public Pass {
 public:
  const char* name() const override { return "blocked_layout"; }
  OptLevel level() const override { return OptLevel::kAll; }

  Result<bool> Run(Graph& graph, const PassContext& ctx) override {
    if (!ctx.blocked_layout) return false;
    EDGEAI_ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
    // Candidates and their regions (union-find over nodes joined through the values they pass).
    enum Kind { kNone, kConv, kAdd };
    std::vector<Kind> kind(graph.nodes.size(), kNone);
    std::vector<int> parent(graph.nodes.size());
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int n) {
      while (parent[n] != n) n = parent[n] = parent[parent[n]];
      return n;
    };
    auto candidate_producer = [&](int value) {
      const int p = value >= 0 ? graph.values[value].producer : -1;
      return p >= 0 && kind[p] != kNone ? p : -1;
    };
    for (int n : order) {
      const Node& node = graph.nodes[n];
      if (QualifyingConv(graph, node)) {
        kind[n] = kConv;
        if (int p = candidate_producer(node.inputs[0]); p >= 0) parent[find(n)] = find(p);
      } else if (QualifyingAdd(graph, node)) {
        const int a = candidate_producer(node.inputs[0]), b = candidate_producer(node.inputs[1]);
        if (a < 0 || b < 0) continue;  // an Add runs blocked only between two blocked values
        kind[n] = kAdd;
        parent[find(n)] = find(a);
        parent[find(b)] = find(a);
      }
    }
    std::vector<int> convs(graph.nodes.size(), 0);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (kind[n] == kConv) ++convs[find(static_cast<int>(n))];
    }
    // Rewrites each kept node in topological order: its blocked twin is appended, and the node itself becomes
    // the ReorderFromBlocked that keeps its output available.
    std::map<int, int> blocked_of;  // plain value -> its blocked twin
    auto new_value = [&](int like, const std::string& suffix) {
      return graph.GetOrAddValue(rewrite::UniqueValueName(graph, graph.values[like].name + suffix));
    };
    auto add_node = [&](const std::string& op, const std::string& domain, int opset, const std::string& name,
                        std::vector<int> inputs, int output, AttributeMap attrs) {
      Node node;
      node.op_type = op;
      node.domain = domain;
      node.opset = opset;
      node.name = name;
      node.attrs = std::move(attrs);
      node.inputs = std::move(inputs);
      graph.nodes.push_back(std::move(node));
      rewrite::SetOutputs(graph, static_cast<int>(graph.nodes.size()) - 1, {output});
    };
    auto blocked = [&](int value) {
      if (auto it = blocked_of.find(value); it != blocked_of.end()) return it->second;
      const int out = new_value(value, "_blocked");
      add_node("ReorderToBlocked", kEdgeAIDomain, 1, graph.values[value].name + "_to_blocked", {value}, out, {});
      blocked_of[value] = out;
      return out;
    };
    bool changed = false;
    for (int n : order) {
      if (kind[n] == kNone || convs[find(n)] < kMinConvs) continue;
      const Node original = graph.nodes[n];  // a copy: add_node grows graph.nodes
      const int y = original.outputs[0];
      const int yb = new_value(y, "_blocked");
      if (kind[n] == kConv) {
        AttributeMap attrs;
        attrs.Set("group", IntAttr(original.attrs.GetInt("group", 1)));
        attrs.Set("strides", IntsAttr(original.attrs.GetInts("strides", {1, 1})));
        attrs.Set("pads", IntsAttr(original.attrs.GetInts("pads", {0, 0, 0, 0})));
        for (const char* name : {"activation", "activation_params"}) {
          if (const Attribute* a = original.attrs.Find(name)) attrs.Set(name, *a);
        }
        std::vector<int> inputs = {blocked(original.inputs[0]), original.inputs[1]};
        if (original.inputs.size() > 2 && original.inputs[2] >= 0) inputs.push_back(original.inputs[2]);
        add_node("BlockedConv", kEdgeAIDomain, 1, original.name + "_blocked", std::move(inputs), yb,
                 std::move(attrs));
      } else {
        add_node("Add", "", original.opset, original.name + "_blocked",
                 {blocked_of.at(original.inputs[0]), blocked_of.at(original.inputs[1])}, yb, {});
      }
      blocked_of[y] = yb;
      Node& node = graph.nodes[n];
      node.op_type = "ReorderFromBlocked";
      node.domain = kEdgeAIDomain;
      node.opset = 1;
      node.attrs = AttributeMap();
      node.inputs = {yb};
      changed = true;
    }
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeBlockedLayoutPass() { return std::make_unique<BlockedLayoutPass>(); }

}  // namespace edgeai
