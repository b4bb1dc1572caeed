#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

struct LnOptions {
  int opset = 13;
  bool gamma = true;
  bool beta = true;
  bool self_mul = false;   // d * d instead of Pow(d, 2)
  int64_t axis = -1;       // of both ReduceMeans
};

// The decomposed layer norm of x [2, 3, 8] as PyTorch exports it.
std::string LayerNormModel(const LnOptions& o) {
  ModelBuilder b(o.opset);
  b.Input("x", kFloat, {2, 3, 8}).Output("y", kFloat, {2, 3, 8});
  ScalarInitializer(b, "two", 2.0f);
  ScalarInitializer(b, "eps", 1e-5f);
  b.FloatInitializer("gamma", {8}, Values(8, 40));
  b.FloatInitializer("beta", {8}, Values(8, 41));
  auto reduce = [&](const std::string& in, const std::string& out) {
    if (o.opset >= 18) {
      Int64Initializer(b, out + "_axes", {1}, {o.axis});
      b.Node("ReduceMean", {in, out + "_axes"}, {out});
    } else {
      AttrInts(b.Node("ReduceMean", {in}, {out}), "axes", {o.axis});
    }
  };
  reduce("x", "mean");
  b.Node("Sub", {"x", "mean"}, {"d"});
  if (o.self_mul) {
    b.Node("Mul", {"d", "d"}, {"sq"});
  } else {
    b.Node("Pow", {"d", "two"}, {"sq"});
  }
  reduce("sq", "var");
  b.Node("Add", {"var", "eps"}, {"ve"});
  b.Node("Sqrt", {"ve"}, {"sd"});
  std::string tail = o.gamma || o.beta ? "n" : "y";
  b.Node("Div", {"d", "sd"}, {tail});
  if (o.gamma) {
    std::string out = o.beta ? "g" : "y";
    b.Node("Mul", {tail, "gamma"}, {out});
    tail = out;
  }
  if (o.beta) b.Node("Add", {"beta", tail}, {"y"});
  return b.Bytes();
}

void CheckFusedLayerNorm(const LnOptions& o, size_t inputs) {
  std::string model = LayerNormModel(o);
  Graph graph = LoadGraph(model);
  CHECK(RunPass(MakeLayerNormFusionPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  const Node& ln = graph.nodes[0];
  CHECK(ln.op_type == "LayerNormalization");
  CHECK(ln.domain == "com.edgeai");
  CHECK(ln.inputs.size() == inputs);
  CHECK(ln.attrs.GetFloat("epsilon", 0) == 1e-5f);
  CHECK(graph.values[ln.outputs[0]].name == "y");
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{2, 3, 8}, 42)}}, 1e-4, 1e-5);
}

}  // namespace

TEST_CASE("layer norm fusion replaces the decomposed pattern", "[passes][layer_norm_fusion]") {
  CheckFusedLayerNorm(LnOptions{}, 3);
  LnOptions self_mul;
  self_mul.self_mul = true;
  CheckFusedLayerNorm(self_mul, 3);
  LnOptions positive_axis;
  positive_axis.axis = 2;
  CheckFusedLayerNorm(positive_axis, 3);
  LnOptions opset18;
  opset18.opset = 18;
  CheckFusedLayerNorm(opset18, 3);
}

TEST_CASE("layer norm fusion without gamma or beta", "[passes][layer_norm_fusion]") {
  LnOptions no_beta;
  no_beta.beta = false;
  CheckFusedLayerNorm(no_beta, 2);
  LnOptions plain;
  plain.gamma = false;
  plain.beta = false;
  CheckFusedLayerNorm(plain, 2);  // gamma of ones is made
}

TEST_CASE("layer norm fusion leaves other normalisations alone", "[passes][layer_norm_fusion]") {
  LnOptions middle_axis;
  middle_axis.axis = 1;
  std::string model = LayerNormModel(middle_axis);
  Graph graph = LoadGraph(model);
  CHECK_FALSE(RunPass(MakeLayerNormFusionPass(), graph));
  CheckLevelsAgree(model, {{"x", RandomTensor(Shape{2, 3, 8}, 43)}}, 1e-5, 1e-6);

  // The centred value read by a third node.
  ModelBuilder b(13);
  b.Input("x", kFloat, {2, 8}).Output("y", kFloat, {2, 8}).Output("d", kFloat, {2, 8});
  ScalarInitializer(b, "two", 2.0f);
  ScalarInitializer(b, "eps", 1e-5f);
  AttrInts(b.Node("ReduceMean", {"x"}, {"mean"}), "axes", {-1});
  b.Node("Sub", {"x", "mean"}, {"d"});
  b.Node("Pow", {"d", "two"}, {"sq"});
  AttrInts(b.Node("ReduceMean", {"sq"}, {"var"}), "axes", {-1});
  b.Node("Add", {"var", "eps"}, {"ve"});
  b.Node("Sqrt", {"ve"}, {"sd"});
  b.Node("Div", {"d", "sd"}, {"y"});
  Graph shared = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeLayerNormFusionPass(), shared));
}
