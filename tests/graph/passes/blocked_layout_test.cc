#include "tests/graph/passes/pass_test_util.h"

#include "backend/cpu/cpu_ops.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// A 1x1 stem, then MobileNet-like inverted residual blocks on [batch, c, side, side]: expand 1x1 (+ Clip 0..6),
// depthwise 3x3 (+ Relu), project 1x1, then a residual Add; the last of several blocks has a stride-2 depthwise
// and no residual.
std::string InvertedResiduals(int64_t c, int64_t side, int blocks = 2, bool stem = true) {
  ModelBuilder b(13);
  const int64_t e = 2 * c;
  b.Input("x", kFloat, {-1, c, side, side});
  ScalarInitializer(b, "zero", 0.0f);
  ScalarInitializer(b, "six", 6.0f);
  std::string in = "x";
  if (stem) {
    b.FloatInitializer("stem_w", {c, c, 1, 1}, Values(c * c, 5, 0.3f));
    b.Node("Conv", {"x", "stem_w"}, {"stem"}, "stem");
    in = "stem";
  }
  int64_t s = side;
  for (int i = 0; i < blocks; ++i) {
    const std::string p = "b" + std::to_string(i) + "_";
    const bool last = i == blocks - 1 && blocks > 1;
    b.FloatInitializer(p + "w1", {e, c, 1, 1}, Values(e * c, 10 + i, 0.3f));
    b.FloatInitializer(p + "b1", {e}, Values(e, 20 + i, 0.1f));
    b.FloatInitializer(p + "w2", {e, 1, 3, 3}, Values(e * 9, 30 + i, 0.3f));
    b.FloatInitializer(p + "b2", {e}, Values(e, 40 + i, 0.1f));
    b.FloatInitializer(p + "w3", {c, e, 1, 1}, Values(c * e, 50 + i, 0.3f));
    b.Node("Conv", {in, p + "w1", p + "b1"}, {p + "c1"}, p + "expand");
    b.Node("Clip", {p + "c1", "zero", "six"}, {p + "a1"}, p + "clip");
    auto& dw = b.Node("Conv", {p + "a1", p + "w2", p + "b2"}, {p + "c2"}, p + "depthwise");
    AttrI(dw, "group", e);
    AttrInts(dw, "pads", {1, 1, 1, 1});
    if (last) AttrInts(dw, "strides", {2, 2});
    b.Node("Relu", {p + "c2"}, {p + "a2"}, p + "relu");
    const std::string out = p + "out";
    if (last) {
      b.Node("Conv", {p + "a2", p + "w3"}, {out}, p + "project");
      s = (s + 1) / 2;
    } else {
      b.Node("Conv", {p + "a2", p + "w3"}, {p + "c3"}, p + "project");
      b.Node("Add", {p + "c3", in}, {out}, p + "residual");
    }
    in = out;
  }
  b.Node("Identity", {in}, {"y"}, "output");
  b.Output("y", kFloat, {-1, c, s, s});
  return b.Bytes();
}

// The full pass list at level all, with the blocked layout on or off.
Graph Optimize(const std::string& bytes, bool blocked_layout) {
  Graph graph = LoadGraph(bytes);
  ThreadPool pool(1);
  PassContext ctx(CpuOpRegistry(), pool);
  ctx.blocked_layout = blocked_layout;
  Status status = PassManager(OptLevel::kAll).Run(graph, ctx);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return graph;
}

}  // namespace

TEST_CASE("blocked layout converts runs of 1x1 and depthwise convolutions", "[passes][blocked_layout]") {
  const std::string model = InvertedResiduals(16, 8);
  Graph graph = Optimize(model, true);
  CHECK(CountOps(graph, "BlockedConv", "com.edgeai") == 7);
  CHECK(CountOps(graph, "ReorderToBlocked", "com.edgeai") == 1);    // the graph input, once
  CHECK(CountOps(graph, "ReorderFromBlocked", "com.edgeai") == 1);  // the graph output
  CHECK(CountOps(graph, "Conv") + CountOps(graph, "FusedConv", "com.edgeai") == 0);
  const Node* add = FindOp(graph, "Add");
  REQUIRE(add != nullptr);
  CHECK(graph.values[add->outputs[0]].type.dims.rank() == 5);  // the residual runs on blocked tensors
  // The activations travel with the convolutions.
  int with_activation = 0;
  for (const Node& node : graph.nodes) with_activation += !node.attrs.GetString("activation", "").empty();
  CHECK(with_activation == 4);

  // Off where the backend says the blocked kernels do not pay.
  Graph plain = Optimize(model, false);
  CHECK(CountOps(plain, "BlockedConv", "com.edgeai") == 0);

  // The engine's results agree at every level, at batch 1 and 3 (on an AVX-512 CPU the engine runs the pass).
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{1, 16, 8, 8}, 5)}}, 1e-4, 1e-5);
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{3, 16, 8, 8}, 6)}}, 1e-4, 1e-5);
}

TEST_CASE("blocked layout leaves small regions, ragged channels and large planes alone",
          "[passes][blocked_layout]") {
  // One block without a stem: 3 convolutions, too few to repay the reorders at the region's edges (its
  // residual Add reads the graph input, which is not blocked, so it does not join anything either).
  CHECK(CountOps(Optimize(InvertedResiduals(16, 8, 1, false), true), "BlockedConv", "com.edgeai") == 0);
  // 24 channels do not fill blocks of 16.
  CHECK(CountOps(Optimize(InvertedResiduals(24, 8), true), "BlockedConv", "com.edgeai") == 0);
  // 32x32 planes: the NCHW kernels are as fast there.
  CHECK(CountOps(Optimize(InvertedResiduals(16, 32), true), "BlockedConv", "com.edgeai") == 0);
}
