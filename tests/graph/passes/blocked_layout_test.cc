#include "tests/graph/passes/pass_test_util.h"

#include "backend/cpu/cpu_ops.h"
#include "tests/graph/passes/blocked_model.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

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
