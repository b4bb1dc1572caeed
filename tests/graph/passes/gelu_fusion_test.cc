#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

enum class Tail { kProductThenHalf, kHalfOfA, kHalfOfX };

// x * 0.5 * (1 + Erf(x / sqrt(2))) in one of its exported forms.
std::string GeluModel(Tail tail, bool divide, float root = 1.4142135f) {
  ModelBuilder b(13);
  b.Input("x", kFloat, {2, 16}).Output("y", kFloat, {2, 16});
  ScalarInitializer(b, "root", divide ? root : 1.0f / root);
  ScalarInitializer(b, "one", 1.0f);
  ScalarInitializer(b, "half", 0.5f);
  b.Node(divide ? "Div" : "Mul", {"x", "root"}, {"t"});
  b.Node("Erf", {"t"}, {"e"});
  b.Node("Add", {"one", "e"}, {"a"});
  switch (tail) {
    case Tail::kProductThenHalf:
      b.Node("Mul", {"x", "a"}, {"h"});
      b.Node("Mul", {"h", "half"}, {"y"});
      break;
    case Tail::kHalfOfA:
      b.Node("Mul", {"a", "half"}, {"h"});
      b.Node("Mul", {"x", "h"}, {"y"});
      break;
    case Tail::kHalfOfX:
      b.Node("Mul", {"x", "half"}, {"h"});
      b.Node("Mul", {"h", "a"}, {"y"});
      break;
  }
  return b.Bytes();
}

}  // namespace

TEST_CASE("GELU fusion replaces every exported form with com.edgeai Gelu", "[passes][gelu_fusion]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 16}, Values(32, 50, 4.0f));
  for (Tail tail : {Tail::kProductThenHalf, Tail::kHalfOfA, Tail::kHalfOfX}) {
    for (bool divide : {true, false}) {
      INFO("tail " << static_cast<int>(tail) << " divide " << divide);
      std::string model = GeluModel(tail, divide);
      Graph graph = LoadGraph(model);
      CHECK(RunPass(MakeGeluFusionPass(), graph));
      REQUIRE(graph.nodes.size() == 1);
      CHECK(graph.nodes[0].op_type == "Gelu");
      CHECK(graph.nodes[0].domain == "com.edgeai");
      CHECK(graph.values[graph.nodes[0].inputs[0]].name == "x");
      CHECK(graph.values[graph.nodes[0].outputs[0]].name == "y");
      CheckLevelsAgree(model, {{"x", x}}, 1e-5, 1e-6);
    }
  }
}

TEST_CASE("GELU fusion needs the exact constants", "[passes][gelu_fusion]") {
  std::string model = GeluModel(Tail::kProductThenHalf, true, 1.5f);
  Graph graph = LoadGraph(model);
  CHECK_FALSE(RunPass(MakeGeluFusionPass(), graph));
  CHECK(CountOps(graph, "Erf") == 1);
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{2, 16}, 51)}});
}
