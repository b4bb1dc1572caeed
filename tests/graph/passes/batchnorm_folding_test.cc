#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

void AddBnParams(ModelBuilder& b, int64_t c, unsigned seed) {
  std::vector<float> var = Values(c, seed + 3);
  for (float& v : var) v = v * v + 0.1f;
  b.FloatInitializer("scale", {c}, Values(c, seed));
  b.FloatInitializer("shift", {c}, Values(c, seed + 1));
  b.FloatInitializer("mean", {c}, Values(c, seed + 2));
  b.FloatInitializer("var", {c}, var);
}

std::string ConvBn(bool conv_bias, bool conv_output_used_twice = false) {
  ModelBuilder b(13);
  b.Input("x", kFloat, {1, 2, 5, 5}).Output("y", kFloat, {1, 3, 3, 3});
  b.FloatInitializer("w", {3, 2, 3, 3}, Values(54, 1));
  std::vector<std::string> conv_inputs = {"x", "w"};
  if (conv_bias) {
    b.FloatInitializer("b", {3}, {0.1f, -0.2f, 0.3f});
    conv_inputs.push_back("b");
  }
  AddBnParams(b, 3, 5);
  b.Node("Conv", conv_inputs, {"c"}, "conv");
  AttrF(b.Node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"bn"}, "bn"), "epsilon", 1e-3f);
  if (conv_output_used_twice) {
    b.Node("Add", {"bn", "c"}, {"y"}, "add");
  } else {
    b.Node("Relu", {"bn"}, {"y"}, "relu");
  }
  return b.Bytes();
}

std::string GemmBn(bool trans_b, bool with_c) {
  ModelBuilder b(13);
  b.Input("a", kFloat, {2, 4}).Output("y", kFloat, {2, 3});
  b.FloatInitializer("w", trans_b ? std::vector<int64_t>{3, 4} : std::vector<int64_t>{4, 3}, Values(12, 2));
  std::vector<std::string> inputs = {"a", "w"};
  if (with_c) {
    b.FloatInitializer("c", {3}, {1, 2, 3});
    inputs.push_back("c");
  }
  AddBnParams(b, 3, 9);
  auto& gemm = b.Node("Gemm", inputs, {"g"}, "gemm");
  AttrI(gemm, "transB", trans_b ? 1 : 0);
  AttrF(gemm, "alpha", 0.5f);
  AttrF(gemm, "beta", 2.0f);
  b.Node("BatchNormalization", {"g", "scale", "shift", "mean", "var"}, {"y"}, "bn");
  return b.Bytes();
}

}  // namespace

TEST_CASE("BatchNormalization folds into a preceding Conv", "[passes][batchnorm_folding]") {
  for (bool bias : {true, false}) {
    INFO("conv bias " << bias);
    Graph graph = LoadGraph(ConvBn(bias));
    CHECK(RunPass(MakeBatchNormFoldingPass(), graph));
    CHECK(CountOps(graph, "BatchNormalization") == 0);
    const Node* conv = FindOp(graph, "Conv");
    REQUIRE(conv != nullptr);
    REQUIRE(conv->inputs.size() == 3);
    CHECK(graph.values[conv->inputs[1]].is_constant());
    CHECK(graph.values[conv->inputs[2]].is_constant());
    CHECK(graph.values[conv->outputs[0]].name == "bn");
    CheckLevelsAgree(ConvBn(bias), {{"x", RandomTensor(Shape{1, 2, 5, 5}, 14)}}, 1e-4, 1e-5);
  }
}

TEST_CASE("BatchNormalization folds into a Gemm with constant B", "[passes][batchnorm_folding]") {
  for (bool trans_b : {false, true}) {
    for (bool with_c : {false, true}) {
      INFO("transB " << trans_b << " C " << with_c);
      Graph graph = LoadGraph(GemmBn(trans_b, with_c));
      CHECK(RunPass(MakeBatchNormFoldingPass(), graph));
      REQUIRE(graph.nodes.size() == 1);
      CHECK(graph.nodes[0].op_type == "Gemm");
      CHECK(graph.nodes[0].attrs.GetFloat("beta", 0) == 1.0f);
      CHECK(graph.values[graph.nodes[0].outputs[0]].name == "y");
      CheckLevelsAgree(GemmBn(trans_b, with_c), {{"a", RandomTensor(Shape{2, 4}, 15)}}, 1e-4, 1e-5);
    }
  }
}

TEST_CASE("BatchNormalization stays when the fold would change other readers", "[passes][batchnorm_folding]") {
  Graph graph = LoadGraph(ConvBn(true, true));
  CHECK_FALSE(RunPass(MakeBatchNormFoldingPass(), graph));
  CHECK(CountOps(graph, "BatchNormalization") == 1);
  CheckLevelsAgree(ConvBn(true, true), {{"x", RandomTensor(Shape{1, 2, 5, 5}, 16)}}, 1e-4, 1e-5);

  // Statistics given at run time cannot be folded.
  ModelBuilder b(13);
  b.Input("x", kFloat, {1, 2, 4, 4}).Input("mean", kFloat, {2}).Output("y", kFloat, {1, 2, 4, 4});
  b.FloatInitializer("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  b.FloatInitializer("scale", {2}, {1, 1});
  b.FloatInitializer("shift", {2}, {0, 0});
  b.FloatInitializer("var", {2}, {1, 1});
  b.Node("Conv", {"x", "w"}, {"c"});
  b.Node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"y"});
  Graph runtime = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeBatchNormFoldingPass(), runtime));
}
