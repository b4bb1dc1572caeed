#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// Conv (3x3, 2 -> 3 channels, bias) followed by `act`, built by `add_act` at `opset`.
template <typename AddAct>
std::string ConvAct(int opset, AddAct add_act) {
  ModelBuilder b(opset);
  b.Input("x", kFloat, {1, 2, 5, 5}).Output("y", kFloat, {1, 3, 5, 5});
  b.FloatInitializer("w", {3, 2, 3, 3}, Values(54, 21));
  b.FloatInitializer("b", {3}, {0.1f, -0.2f, 0.3f});
  AttrInts(b.Node("Conv", {"x", "w", "b"}, {"c"}, "conv"), "pads", {1, 1, 1, 1});
  add_act(b);
  return b.Bytes();
}

void CheckFused(const std::string& model, const std::string& fused_op, const std::string& activation,
                size_t params) {
  Graph graph = LoadGraph(model);
  CHECK(RunPass(MakeActivationFusionPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  const Node& node = graph.nodes[0];
  CHECK(node.op_type == fused_op);
  CHECK(node.domain == "com.edgeai");
  CHECK(node.attrs.GetString("activation", "") == activation);
  CHECK(node.attrs.GetFloats("activation_params").size() == params);
  CHECK(graph.values[node.outputs[0]].name == "y");
}

}  // namespace

TEST_CASE("activation fusion folds each activation into a Conv", "[passes][activation_fusion]") {
  struct Case {
    const char* op;
    int opset;
    size_t params;
  };
  const Case cases[] = {{"Relu", 13, 0},      {"Sigmoid", 13, 0},   {"Tanh", 13, 0}, {"HardSwish", 14, 0},
                        {"LeakyRelu", 13, 1}, {"HardSigmoid", 13, 2}};
  Tensor x = RandomTensor(Shape{1, 2, 5, 5}, 22);
  for (const Case& c : cases) {
    INFO(c.op);
    std::string model = ConvAct(c.opset, [&](ModelBuilder& b) {
      auto& node = b.Node(c.op, {"c"}, {"y"}, "act");
      if (std::string(c.op) == "LeakyRelu") AttrF(node, "alpha", 0.2f);
      if (std::string(c.op) == "HardSigmoid") AttrF(node, "alpha", 0.3f);
    });
    CheckFused(model, "FusedConv", c.op, c.params);
    CheckLevelsAgree(model, {{"x", x}}, 1e-5, 1e-6);
  }
}

TEST_CASE("activation fusion takes Clip with constant bounds", "[passes][activation_fusion]") {
  Tensor x = RandomTensor(Shape{1, 2, 5, 5}, 23);
  std::string relu6 = ConvAct(13, [](ModelBuilder& b) {
    ScalarInitializer(b, "lo", 0.0f);
    ScalarInitializer(b, "hi", 0.5f);
    b.Node("Clip", {"c", "lo", "hi"}, {"y"});
  });
  CheckFused(relu6, "FusedConv", "Clip", 2);
  CheckLevelsAgree(relu6, {{"x", x}});

  std::string only_max = ConvAct(13, [](ModelBuilder& b) {
    ScalarInitializer(b, "hi", 0.25f);
    b.Node("Clip", {"c", "", "hi"}, {"y"});
  });
  CheckFused(only_max, "FusedConv", "Clip", 2);
  CheckLevelsAgree(only_max, {{"x", x}});

  std::string attribute_form = ConvAct(6, [](ModelBuilder& b) {
    auto& clip = b.Node("Clip", {"c"}, {"y"});
    AttrF(clip, "min", -0.1f);
    AttrF(clip, "max", 0.1f);
  });
  CheckFused(attribute_form, "FusedConv", "Clip", 2);
  CheckLevelsAgree(attribute_form, {{"x", x}});

  ModelBuilder b(13);
  b.Input("x", kFloat, {4, 4}).Input("hi", kFloat, {}).Output("y", kFloat, {4, 4});
  b.FloatInitializer("w", {4, 4}, Values(16, 24));
  b.Node("MatMul", {"x", "w"}, {"m"});
  b.Node("Clip", {"m", "", "hi"}, {"y"});  // a bound known only at run time
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeActivationFusionPass(), graph));
}

TEST_CASE("activation fusion covers Gemm, MatMul and MatMul with a bias", "[passes][activation_fusion]") {
  ModelBuilder g(13);
  g.Input("a", kFloat, {2, 4}).Output("y", kFloat, {2, 3});
  g.FloatInitializer("w", {3, 4}, Values(12, 25));
  g.FloatInitializer("c", {3}, {0.5f, -0.5f, 0});
  AttrI(g.Node("Gemm", {"a", "w", "c"}, {"g"}), "transB", 1);
  g.Node("Relu", {"g"}, {"y"});
  CheckFused(g.Bytes(), "FusedGemm", "Relu", 0);
  CheckLevelsAgree(g.Bytes(), {{"a", RandomTensor(Shape{2, 4}, 26)}});

  ModelBuilder m(13);
  m.Input("a", kFloat, {2, 3, 4}).Output("y", kFloat, {2, 3, 6});
  m.FloatInitializer("w", {4, 6}, Values(24, 27));
  m.Node("MatMul", {"a", "w"}, {"p"});
  m.Node("Tanh", {"p"}, {"y"});
  CheckFused(m.Bytes(), "FusedMatMul", "Tanh", 0);
  CheckLevelsAgree(m.Bytes(), {{"a", RandomTensor(Shape{2, 3, 4}, 28)}});

  // MatMul + Add + Relu over [2, 3, 4]: the bias fusion first, then the activation joins it.
  ModelBuilder mb(13);
  mb.Input("a", kFloat, {2, 3, 4}).Output("y", kFloat, {2, 3, 6});
  mb.FloatInitializer("w", {4, 6}, Values(24, 29));
  mb.FloatInitializer("bias", {6}, Values(6, 30));
  mb.Node("MatMul", {"a", "w"}, {"p"});
  mb.Node("Add", {"bias", "p"}, {"s"});
  mb.Node("Relu", {"s"}, {"y"});
  Graph graph = LoadGraph(mb.Bytes());
  CHECK(RunPass(MakeMatMulAddFusionPass(), graph));
  CHECK(RunPass(MakeActivationFusionPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].op_type == "FusedMatMul");
  CHECK(graph.nodes[0].inputs.size() == 3);
  CHECK(graph.nodes[0].attrs.GetString("activation", "") == "Relu");
  CheckLevelsAgree(mb.Bytes(), {{"a", RandomTensor(Shape{2, 3, 4}, 31)}});
}

TEST_CASE("activation fusion leaves a product that others read", "[passes][activation_fusion]") {
  ModelBuilder b(13);
  b.Input("a", kFloat, {2, 4}).Output("y", kFloat, {2, 3}).Output("g", kFloat, {2, 3});
  b.FloatInitializer("w", {4, 3}, Values(12, 32));
  b.Node("Gemm", {"a", "w"}, {"g"});
  b.Node("Relu", {"g"}, {"y"});
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeActivationFusionPass(), graph));

  // Integer MatMul: the fused kernels are float only.
  ModelBuilder i(13);
  i.Input("a", kInt64, {2, 2}).Output("y", kInt64, {2, 2});
  Int64Initializer(i, "w", {2, 2}, {1, -2, 3, -4});
  i.Node("MatMul", {"a", "w"}, {"p"});
  i.Node("Relu", {"p"}, {"y"});
  if (CpuOpRegistry().Find("", "Relu", 13, {DataType::kInt64}).ok()) {
    Graph ints = LoadGraph(i.Bytes());
    CHECK_FALSE(RunPass(MakeActivationFusionPass(), ints));
  }
}
