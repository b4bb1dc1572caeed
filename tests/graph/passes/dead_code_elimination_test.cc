#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

TEST_CASE("dead code elimination removes unused nodes and values", "[passes][dead_code_elimination]") {
  ModelBuilder b;
  b.Input("x", kFloat, {3}).Input("unused_input", kFloat, {3}).Output("y", kFloat, {3});
  b.FloatInitializer("w", {3}, {1, 2, 3});
  b.FloatInitializer("dead_weight", {3}, {4, 5, 6});
  b.Node("Add", {"x", "w"}, {"y"}, "live");
  b.Node("Mul", {"x", "dead_weight"}, {"m"}, "dead1");
  b.Node("Relu", {"m"}, {"r"}, "dead2");
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeDeadCodeEliminationPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].name == "live");
  CHECK(graph.FindValue("dead_weight") < 0);
  CHECK(graph.FindValue("m") < 0);
  CHECK(graph.FindValue("r") < 0);
  // Graph inputs stay, used or not: callers bind them by name.
  REQUIRE(graph.inputs.size() == 2);
  CHECK(graph.values[graph.inputs[1]].name == "unused_input");
  CHECK(graph.values[graph.outputs[0]].name == "y");
  CHECK(graph.values[graph.FindValue("y")].producer == 0);
  CHECK_FALSE(RunPass(MakeDeadCodeEliminationPass(), graph));

  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{3}, 11)}, {"unused_input", RandomTensor(Shape{3}, 12)}});
}

TEST_CASE("dead code elimination keeps a node with one used output", "[passes][dead_code_elimination]") {
  ModelBuilder b(13);
  b.Input("x", kFloat, {6}).Output("a", kFloat, {3});
  Int64Initializer(b, "split", {2}, {3, 3});
  b.Node("Split", {"x", "split"}, {"a", "b"}, "split");
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeDeadCodeEliminationPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].outputs.size() == 2);
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{6}, 13)}});
}
