#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// y = x * (a + b) with constant a and b, z = Transpose(a): both Add and Transpose fold.
std::string FoldableModel() {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 3}).Output("y", kFloat, {2, 3}).Output("z", kFloat, {3, 2});
  b.FloatInitializer("a", {2, 3}, {1, 2, 3, 4, 5, 6});
  b.FloatInitializer("b", {3}, {0.5f, -1, 2});
  b.Node("Add", {"a", "b"}, {"s"}, "add");
  b.Node("Mul", {"x", "s"}, {"y"}, "mul");
  b.Node("Transpose", {"a"}, {"z"}, "transpose");
  return b.Bytes();
}

}  // namespace

TEST_CASE("constant folding turns all-constant nodes into constants", "[passes][constant_folding]") {
  Graph graph = LoadGraph(FoldableModel());
  REQUIRE(graph.nodes.size() == 3);
  CHECK(RunPass(MakeConstantFoldingPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].op_type == "Mul");
  const Value& s = graph.values[graph.FindValue("s")];
  REQUIRE(s.is_constant());
  std::vector<float> expected = {1.5f, 1, 5, 4.5f, 4, 8};
  for (int i = 0; i < 6; ++i) CHECK(s.constant.data<float>()[i] == expected[i]);
  // A graph output that folds stays a graph output, now a constant with its name.
  const Value& z = graph.values[graph.FindValue("z")];
  REQUIRE(z.is_constant());
  CHECK(z.constant.shape() == Shape{3, 2});
  CHECK(z.constant.data<float>()[1] == 4);
  CHECK_FALSE(RunPass(MakeConstantFoldingPass(), graph));  // nothing left to fold

  CheckLevelsAgree(FoldableModel(), {{"x", RandomTensor(Shape{2, 3}, 1)}});
}

TEST_CASE("constant folding folds whole chains in one run", "[passes][constant_folding]") {
  ModelBuilder b;
  b.Input("x", kFloat, {4}).Output("y", kFloat, {4});
  b.FloatInitializer("c", {4}, {1, 4, 9, 16});
  b.Node("Sqrt", {"c"}, {"r"});
  b.Node("Neg", {"r"}, {"n"});
  b.Node("Exp", {"n"}, {"e"});
  b.Node("Add", {"x", "e"}, {"y"});
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeConstantFoldingPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  const Tensor& e = graph.values[graph.FindValue("e")].constant;
  REQUIRE(e.defined());
  CHECK(e.data<float>()[1] == Approx(std::exp(-2.0)));
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{4}, 2)}});
}

TEST_CASE("constant folding leaves large outputs and random ops alone", "[passes][constant_folding]") {
  ModelBuilder b;
  b.Input("x", kFloat, {64}).Output("y", kFloat, {64});
  b.FloatInitializer("c", {64}, std::vector<float>(64, 2.0f));
  b.Node("Relu", {"c"}, {"r"});
  b.Node("Add", {"x", "r"}, {"y"});
  Graph graph = LoadGraph(b.Bytes());
  // 64 floats are 256 bytes: over a 255-byte limit, under a 256-byte one.
  CHECK_FALSE(RunPass(MakeConstantFoldingPass(), graph, 255));
  CHECK(graph.nodes.size() == 2);
  CHECK(RunPass(MakeConstantFoldingPass(), graph, 256));
  CHECK(graph.nodes.size() == 1);

  if (CpuOpRegistry().Knows("", "RandomUniformLike")) {
    ModelBuilder r;
    r.Input("x", kFloat, {4}).Output("y", kFloat, {4});
    r.FloatInitializer("c", {4}, {1, 2, 3, 4});
    r.Node("RandomUniformLike", {"c"}, {"u"});
    r.Node("Add", {"x", "u"}, {"y"});
    Graph random = LoadGraph(r.Bytes());
    CHECK_FALSE(RunPass(MakeConstantFoldingPass(), random));
    CHECK(CountOps(random, "RandomUniformLike") == 1);
  }
}

TEST_CASE("constant folding leaves a node whose kernel fails for run time to report", "[passes][constant_folding]") {
  // Dropout-13 with a constant training_mode=true and ratio 0.5 infers, but its kernel refuses to run.
  ModelBuilder b(13);
  b.Input("x", kFloat, {3}).Output("y", kFloat, {3});
  b.FloatInitializer("c", {3}, {1, 2, 3});
  ScalarInitializer(b, "ratio", 0.5f);
  BoolInitializer(b, "train", true);
  b.Node("Dropout", {"c", "ratio", "train"}, {"d"}, "dropout");
  b.Node("Add", {"x", "d"}, {"y"});
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeConstantFoldingPass(), graph));
  CHECK(CountOps(graph, "Dropout") == 1);
}
