#include <catch2/catch.hpp>

#include "edgeai/engine.h"
#include "tests/graph/model_builder.h"

using namespace edgeai;
using edgeai::testing::ModelBuilder;

namespace {
constexpr int kFloat = onnx::TensorProto::FLOAT;

// y = Relu(x + w), z = Add(y, y): two steps chained through an intermediate, with a symbolic batch.
std::string ChainModel() {
  ModelBuilder b;
  b.Input("x", kFloat, {-1, 3}).Output("z", kFloat, {-1, 3});
  b.FloatInitializer("w", {3}, {1, -2, 3});
  b.Node("Add", {"x", "w"}, {"s"}, "add");
  b.Node("Relu", {"s"}, {"y"}, "relu");
  b.Node("Add", {"y", "y"}, {"z"}, "double");
  return b.Bytes();
}
}  // namespace

TEST_CASE("the engine runs a chain of nodes with a symbolic batch", "[graph][executor]") {
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(ChainModel()).ok());
  REQUIRE(engine.inputs().size() == 1);
  CHECK(engine.inputs()[0].Describe() == "float32[batch,3]");
  CHECK(engine.outputs()[0].name == "z");
  Tensor x = Tensor::FromVector<float>(Shape{2, 3}, {0, 0, 0, 1, 1, -5});
  Result<NamedTensors> out = engine.Run({{"x", x}});
  REQUIRE(out.ok());
  const Tensor& z = out->at("z");
  CHECK(z.shape() == Shape{2, 3});
  std::vector<float> expected = {2, 0, 6, 4, 0, 0};
  for (int i = 0; i < 6; ++i) CHECK(z.data<float>()[i] == expected[i]);
}

TEST_CASE("wrong input names, dtypes and shapes are clear errors", "[graph][executor]") {
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(ChainModel()).ok());
  Tensor good = Tensor::FromVector<float>(Shape{1, 3}, {1, 2, 3});
  Status missing = engine.Run({}).status();
  CHECK_THAT(missing.message(), Catch::Contains("missing input 'x'"));
  Status unknown = engine.Run({{"x", good}, {"extra", good}}).status();
  CHECK_THAT(unknown.message(), Catch::Contains("unknown input 'extra'"));
  Tensor wrong_shape = Tensor::FromVector<float>(Shape{1, 4}, {1, 2, 3, 4});
  Status shape = engine.Run({{"x", wrong_shape}}).status();
  CHECK(shape.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(shape.message(), Catch::Contains("expected float32[batch,3]") && Catch::Contains("float32[1,4]"));
  Tensor wrong_dtype = Tensor::FromVector<int64_t>(Shape{1, 3}, {1, 2, 3});
  Status dtype = engine.Run({{"x", wrong_dtype}}).status();
  CHECK_THAT(dtype.message(), Catch::Contains("int64[1,3]"));
  CHECK(engine.Run({{"x", good}}).ok());
}

TEST_CASE("runs without a loaded model fail cleanly", "[graph][executor]") {
  EdgeAIEngine engine;
  CHECK_FALSE(engine.loaded());
  CHECK(engine.Run({}).status().code() == StatusCode::kInvalidArgument);
}
