#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

TEST_CASE("identity elimination rewires consumers past Identity", "[passes][identity_elimination]") {
  ModelBuilder b;
  b.Input("x", kFloat, {2, 3}).Output("y", kFloat, {2, 3});
  b.Node("Relu", {"x"}, {"r"}, "relu");
  b.Node("Identity", {"r"}, {"i"}, "identity");
  b.Node("Neg", {"i"}, {"y"}, "neg");
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeIdentityEliminationPass(), graph));
  REQUIRE(graph.nodes.size() == 2);
  CHECK(CountOps(graph, "Identity") == 0);
  const Node* neg = FindOp(graph, "Neg");
  REQUIRE(neg != nullptr);
  CHECK(graph.values[neg->inputs[0]].name == "r");
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{2, 3}, 7)}});
}

TEST_CASE("identity elimination keeps graph output names", "[passes][identity_elimination]") {
  ModelBuilder b;
  b.Input("x", kFloat, {4}).Output("y", kFloat, {4}).Output("passthrough", kFloat, {4});
  b.Node("Relu", {"x"}, {"r"}, "relu");
  b.Node("Identity", {"r"}, {"y"}, "to_output");           // the producer takes over "y"
  b.Node("Identity", {"x"}, {"passthrough"}, "of_input");  // a graph input: kept
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeIdentityEliminationPass(), graph));
  REQUIRE(graph.nodes.size() == 2);
  const Node* relu = FindOp(graph, "Relu");
  REQUIRE(relu != nullptr);
  CHECK(graph.values[relu->outputs[0]].name == "y");
  CHECK(CountOps(graph, "Identity") == 1);
  CHECK(graph.values[graph.outputs[0]].name == "y");
  CHECK(graph.values[graph.outputs[1]].name == "passthrough");
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{4}, 8)}});
}

TEST_CASE("identity elimination keeps an Identity between two graph outputs", "[passes][identity_elimination]") {
  ModelBuilder b;
  b.Input("x", kFloat, {4}).Output("a", kFloat, {4}).Output("b", kFloat, {4});
  b.Node("Relu", {"x"}, {"a"});
  b.Node("Identity", {"a"}, {"b"});
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeIdentityEliminationPass(), graph));
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{4}, 9)}});
}

TEST_CASE("identity elimination removes inference Dropout only", "[passes][identity_elimination]") {
  SECTION("opset 13 without training_mode, and with a constant false one") {
    ModelBuilder b(13);
    b.Input("x", kFloat, {2, 2}).Output("y", kFloat, {2, 2});
    BoolInitializer(b, "off", false);
    b.Node("Dropout", {"x"}, {"d1"}, "plain");
    b.Node("Dropout", {"d1", "", "off"}, {"d2"}, "off");
    b.Node("Relu", {"d2"}, {"y"});
    Graph graph = LoadGraph(b.Bytes());
    CHECK(RunPass(MakeIdentityEliminationPass(), graph));
    CHECK(CountOps(graph, "Dropout") == 0);
    CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{2, 2}, 10)}});
  }
  SECTION("opset 7 with a ratio attribute") {
    ModelBuilder b(7);
    b.Input("x", kFloat, {3}).Output("y", kFloat, {3});
    AttrF(b.Node("Dropout", {"x"}, {"d"}), "ratio", 0.3f);
    b.Node("Neg", {"d"}, {"y"});
    Graph graph = LoadGraph(b.Bytes());
    CHECK(RunPass(MakeIdentityEliminationPass(), graph));
    CHECK(CountOps(graph, "Dropout") == 0);
  }
  SECTION("a used mask or a run-time training_mode keeps it") {
    ModelBuilder b(13);
    b.Input("x", kFloat, {3}).Input("train", onnx::TensorProto::BOOL, {}).Output("y", kFloat, {3});
    b.Output("mask", onnx::TensorProto::BOOL, {3});
    b.Node("Dropout", {"x"}, {"d", "mask"}, "with_mask");
    b.Node("Dropout", {"d", "", "train"}, {"y"}, "runtime_mode");
    Graph graph = LoadGraph(b.Bytes());
    CHECK_FALSE(RunPass(MakeIdentityEliminationPass(), graph));
    CHECK(CountOps(graph, "Dropout") == 2);
  }
}
