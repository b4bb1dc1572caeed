#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

std::string MatMulAdd(const std::vector<int64_t>& a_dims, const std::vector<int64_t>& bias_dims, bool bias_first) {
  ModelBuilder b(13);
  std::vector<int64_t> y_dims = a_dims;
  y_dims.back() = 5;
  b.Input("a", kFloat, a_dims).Output("y", kFloat, y_dims);
  b.FloatInitializer("w", {a_dims.back(), 5}, Values(a_dims.back() * 5, 3));
  int64_t bias_size = 1;
  for (int64_t d : bias_dims) bias_size *= d;
  b.FloatInitializer("bias", bias_dims, Values(bias_size, 4));
  b.Node("MatMul", {"a", "w"}, {"m"}, "matmul");
  b.Node("Add", bias_first ? std::vector<std::string>{"bias", "m"} : std::vector<std::string>{"m", "bias"}, {"y"},
         "add");
  return b.Bytes();
}

}  // namespace

TEST_CASE("MatMul + Add of a row bias becomes Gemm for 2-D A", "[passes][matmul_add_fusion]") {
  for (bool bias_first : {false, true}) {
    for (auto bias_dims : {std::vector<int64_t>{5}, std::vector<int64_t>{1, 5}, std::vector<int64_t>{}}) {
      std::string model = MatMulAdd({3, 4}, bias_dims, bias_first);
      Graph graph = LoadGraph(model);
      CHECK(RunPass(MakeMatMulAddFusionPass(), graph));
      REQUIRE(graph.nodes.size() == 1);
      CHECK(graph.nodes[0].op_type == "Gemm");
      CHECK(graph.nodes[0].inputs.size() == 3);
      CHECK(graph.values[graph.nodes[0].outputs[0]].name == "y");
      CheckLevelsAgree(model, {{"a", RandomTensor(Shape{3, 4}, 17)}}, 1e-5, 1e-6);
    }
  }
}

TEST_CASE("MatMul + Add of a row bias becomes FusedMatMul for batched A", "[passes][matmul_add_fusion]") {
  std::string model = MatMulAdd({2, 3, 4}, {5}, true);
  Graph graph = LoadGraph(model);
  CHECK(RunPass(MakeMatMulAddFusionPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].op_type == "FusedMatMul");
  CHECK(graph.nodes[0].domain == "com.edgeai");
  CHECK(graph.values[graph.nodes[0].outputs[0]].type.dims == Shape{2, 3, 5});
  CheckLevelsAgree(model, {{"a", RandomTensor(Shape{2, 3, 4}, 18)}}, 1e-5, 1e-6);
}

TEST_CASE("MatMul + Add stays when the bias is not a row or the product has other readers",
          "[passes][matmul_add_fusion]") {
  std::string full_bias = MatMulAdd({3, 4}, {3, 5}, false);
  Graph graph = LoadGraph(full_bias);
  CHECK_FALSE(RunPass(MakeMatMulAddFusionPass(), graph));
  CheckLevelsAgree(full_bias, {{"a", RandomTensor(Shape{3, 4}, 19)}});

  std::string rank3_bias = MatMulAdd({2, 3, 4}, {1, 1, 5}, false);  // fine for Add, not for the fused bias
  Graph g3 = LoadGraph(rank3_bias);
  CHECK_FALSE(RunPass(MakeMatMulAddFusionPass(), g3));

  ModelBuilder b(13);
  b.Input("a", kFloat, {3, 4}).Output("y", kFloat, {3, 5}).Output("m", kFloat, {3, 5});
  b.FloatInitializer("w", {4, 5}, Values(20, 5));
  b.FloatInitializer("bias", {5}, Values(5, 6));
  b.Node("MatMul", {"a", "w"}, {"m"});
  b.Node("Add", {"m", "bias"}, {"y"});
  Graph shared = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeMatMulAddFusionPass(), shared));
}
