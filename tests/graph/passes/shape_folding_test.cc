#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the flatten-to-2-D chain exporters emit.
std::string FlattenChain(int64_t batch) {
  ModelBuilder b(13);
  b.Input("x", kFloat, {batch, 3, 4}).Output("y", kFloat, {batch, 12});
  Int64Initializer(b, "zero", {}, {0});
  Int64Initializer(b, "axes", {1}, {0});
  Int64Initializer(b, "minus_one", {1}, {-1});
  b.Node("Shape", {"x"}, {"shape"}, "shape");
  b.Node("Gather", {"shape", "zero"}, {"n"}, "gather");
  b.Node("Unsqueeze", {"n", "axes"}, {"n1"}, "unsqueeze");
  AttrI(b.Node("Concat", {"n1", "minus_one"}, {"target"}, "concat"), "axis", 0);
  b.Node("Reshape", {"x", "target"}, {"y"}, "reshape");
  return b.Bytes();
}

}  // namespace

TEST_CASE("shape folding makes Shape of a static shape a constant", "[passes][shape_folding]") {
  Graph graph = LoadGraph(FlattenChain(2));
  CHECK(RunPass(MakeShapeFoldingPass(), graph));
  CHECK(CountOps(graph, "Shape") == 0);
  const Value& shape = graph.values[graph.FindValue("shape")];
  REQUIRE(shape.is_constant());
  CHECK(shape.constant.shape() == Shape{3});
  CHECK(shape.constant.data<int64_t>()[2] == 4);
  // With constant folding the chain disappears and Reshape gets a constant target.
  CHECK(RunPass(MakeConstantFoldingPass(), graph));
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].op_type == "Reshape");
  const Tensor& target = graph.values[graph.nodes[0].inputs[1]].constant;
  REQUIRE(target.defined());
  CHECK(target.data<int64_t>()[0] == 2);
  CHECK(target.data<int64_t>()[1] == -1);
  CheckLevelsAgree(FlattenChain(2), {{"x", RandomTensor(Shape{2, 3, 4}, 3)}});
}

TEST_CASE("shape folding folds gathered dims that are known under a symbolic batch", "[passes][shape_folding]") {
  ModelBuilder b(13);
  b.Input("x", kFloat, {-1, 3, 4}).Output("y", kFloat, {-1, 3, 4}).Output("d", kInt64, {});
  Int64Initializer(b, "two", {}, {2});
  Int64Initializer(b, "zero", {}, {0});
  b.Node("Shape", {"x"}, {"shape"}, "shape");
  b.Node("Gather", {"shape", "two"}, {"d"}, "known");    // 4
  b.Node("Gather", {"shape", "zero"}, {"n"}, "batch");   // unknown until run time
  AttrI(b.Node("Cast", {"n"}, {"nf"}, "cast"), "to", onnx::TensorProto::FLOAT);
  b.Node("Mul", {"x", "nf"}, {"y"}, "scale");
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeShapeFoldingPass(), graph));
  CHECK(CountOps(graph, "Shape") == 1);
  CHECK(CountOps(graph, "Gather") == 1);
  const Value& d = graph.values[graph.FindValue("d")];
  REQUIRE(d.is_constant());
  CHECK(d.constant.rank() == 0);
  CHECK(*d.constant.data<int64_t>() == 4);
  CHECK_FALSE(RunPass(MakeShapeFoldingPass(), graph));
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{5, 3, 4}, 4)}});
}

TEST_CASE("shape folding handles Size and Shape's start/end window", "[passes][shape_folding]") {
  ModelBuilder b(15);
  b.Input("x", kFloat, {-1, 6, 7}).Output("tail", kInt64, {2}).Output("size", kInt64, {});
  b.Input("s", kFloat, {2, 5});
  AttrI(b.Node("Shape", {"x"}, {"tail"}, "window"), "start", -2);
  b.Node("Size", {"s"}, {"size"}, "size");
  b.Node("Shape", {"x"}, {"all"}, "all_dims");  // batch unknown: stays (and is dead)
  Graph graph = LoadGraph(b.Bytes());
  CHECK(RunPass(MakeShapeFoldingPass(), graph));
  const Value& tail = graph.values[graph.FindValue("tail")];
  REQUIRE(tail.is_constant());
  CHECK(tail.constant.data<int64_t>()[0] == 6);
  CHECK(tail.constant.data<int64_t>()[1] == 7);
  CHECK(*graph.values[graph.FindValue("size")].constant.data<int64_t>() == 10);
  CHECK(CountOps(graph, "Shape") == 1);
  CheckLevelsAgree(b.Bytes(), {{"x", RandomTensor(Shape{1, 6, 7}, 5)}, {"s", RandomTensor(Shape{2, 5}, 6)}});
}
