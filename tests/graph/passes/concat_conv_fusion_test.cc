#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// A SqueezeNet fire module's tail: two convolutions (1x1 and 3x3, Relu) concatenated along channels, then a
// 1x1 "squeeze" convolution with Relu. `extra_use` gives the Concat a second reader; `kernel` is the squeeze's.
std::string Fire(bool extra_use = false, int64_t kernel = 1, int64_t axis = 1) {
  ModelBuilder b(13);
  b.Input("x", kFloat, {-1, 8, 6, 6});
  b.FloatInitializer("w1", {8, 8, 1, 1}, Values(64, 1, 0.3f));
  b.FloatInitializer("w3", {8, 8, 3, 3}, Values(576, 2, 0.2f));
  b.FloatInitializer("ws", {4, 16, kernel, kernel}, Values(64 * kernel * kernel, 3, 0.3f));
  b.FloatInitializer("bs", {4}, Values(4, 4, 0.1f));
  b.Node("Conv", {"x", "w1"}, {"e1"}, "expand1x1");
  b.Node("Relu", {"e1"}, {"r1"}, "relu1");
  AttrInts(b.Node("Conv", {"x", "w3"}, {"e3"}, "expand3x3"), "pads", {1, 1, 1, 1});
  b.Node("Relu", {"e3"}, {"r3"}, "relu3");
  AttrI(b.Node("Concat", {"r1", "r3"}, {"cat"}, "concat"), "axis", axis);
  auto& squeeze = b.Node("Conv", {"cat", "ws", "bs"}, {"s"}, "squeeze");
  if (kernel == 3) AttrInts(squeeze, "pads", {1, 1, 1, 1});
  b.Node("Relu", {"s"}, {"y"}, "relu_s");
  b.Output("y", kFloat, {-1, 4, 6, 6});
  if (extra_use) {
    b.Node("Identity", {"cat"}, {"cat_out"}, "also");
    b.Output("cat_out", kFloat, {-1, 16, 6, 6});
  }
  return b.Bytes();
}

Graph OptimizeAll(const std::string& bytes) {
  Graph graph = LoadGraph(bytes);
  ThreadPool pool(1);
  PassContext ctx(CpuOpRegistry(), pool);
  Status status = PassManager(OptLevel::kAll).Run(graph, ctx);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return graph;
}

}  // namespace

TEST_CASE("concat conv fusion reads the parts in place", "[passes][concat_conv_fusion]") {
  const std::string model = Fire();
  Graph graph = OptimizeAll(model);
  CHECK(CountOps(graph, "Concat") == 0);
  const Node* fused = FindOp(graph, "ConcatConv", "com.edgeai");
  REQUIRE(fused != nullptr);
  CHECK(fused->inputs.size() == 4);  // W, B, two parts
  CHECK(fused->attrs.GetString("activation", "") == "Relu");
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{1, 8, 6, 6}, 7)}}, 1e-5, 1e-6);
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{3, 8, 6, 6}, 8)}}, 1e-5, 1e-6);
}

TEST_CASE("concat conv fusion leaves other concatenations alone", "[passes][concat_conv_fusion]") {
  // The concatenation is read elsewhere too (here: a graph output): it must still be made.
  Graph shared = OptimizeAll(Fire(/*extra_use=*/true));
  CHECK(CountOps(shared, "Concat") == 1);
  CHECK(CountOps(shared, "ConcatConv", "com.edgeai") == 0);
  // A 3x3 reader is not a product of channels alone.
  CHECK(CountOps(OptimizeAll(Fire(false, 3)), "ConcatConv", "com.edgeai") == 0);
  CheckLevelsAgree(Fire(true), {{"x", RandomTensor(Shape{2, 8, 6, 6}, 9)}}, 1e-5, 1e-6);
}
