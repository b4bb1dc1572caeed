// Batch splitting: which graphs are row-wise in their leading dimension, and that a batch run image by image
// (one thread, or images side by side) gives each image exactly what a batch-1 run gives it.
#include <catch2/catch.hpp>

#include <cstring>
#include <thread>

#include "graph/batch_split.h"
#include "tests/graph/passes/blocked_model.h"
#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

// x [batch, 4, 6, 6] -> Conv 3x3 -> Relu -> MaxPool 2x2 -> Flatten -> Gemm (+ C row) -> Softmax.
std::string SmallCnn(const std::string& flatten_op = "Flatten") {
  ModelBuilder b(13);
  b.Input("x", kFloat, {-1, 4, 6, 6});
  b.FloatInitializer("w", {8, 4, 3, 3}, Values(8 * 4 * 9, 1, 0.3f));
  b.FloatInitializer("bias", {8}, Values(8, 2, 0.1f));
  b.FloatInitializer("fc", {5, 72}, Values(5 * 72, 3, 0.2f));
  b.FloatInitializer("fc_b", {5}, Values(5, 4, 0.1f));
  auto& conv = b.Node("Conv", {"x", "w", "bias"}, {"c"}, "conv");
  AttrInts(conv, "pads", {1, 1, 1, 1});
  b.Node("Relu", {"c"}, {"r"}, "relu");
  auto& pool = b.Node("MaxPool", {"r"}, {"p"}, "pool");
  AttrInts(pool, "kernel_shape", {2, 2});
  AttrInts(pool, "strides", {2, 2});
  if (flatten_op == "Flatten") {
    b.Node("Flatten", {"p"}, {"f"}, "flatten");
  } else {
    Int64Initializer(b, "target", {2}, {flatten_op == "Reshape0" ? 0 : -1, 72});
    b.Node("Reshape", {"p", "target"}, {"f"}, "flatten");
  }
  auto& gemm = b.Node("Gemm", {"f", "fc", "fc_b"}, {"g"}, "fc");
  AttrI(gemm, "transB", 1);
  b.Node("Softmax", {"g"}, {"y"}, "softmax");
  b.Output("y", kFloat, {-1, 5});
  return b.Bytes();
}

// x [batch, 6] with a node that mixes rows, chosen by `op`.
std::string RowMixing(const std::string& op) {
  ModelBuilder b(13);
  b.Input("x", kFloat, {-1, 6});
  if (op == "Softmax0") {
    auto& n = b.Node("Softmax", {"x"}, {"y"}, "softmax");
    AttrI(n, "axis", 0);
    b.Output("y", kFloat, {-1, 6});
  } else if (op == "ReduceSum0") {
    Int64Initializer(b, "axes", {1}, {0});
    b.Node("ReduceSum", {"x", "axes"}, {"y"}, "reduce");
    b.Output("y", kFloat, {1, 6});
  } else if (op == "ReshapeFold") {
    Int64Initializer(b, "target", {2}, {-1, 12});  // two images per row
    b.Node("Reshape", {"x", "target"}, {"y"}, "reshape");
    b.Output("y", kFloat, {-1, 12});
  } else if (op == "Shape") {
    b.Node("Shape", {"x"}, {"s"}, "shape");
    auto& cast = b.Node("Cast", {"s"}, {"y"}, "cast");
    AttrI(cast, "to", onnx::TensorProto::FLOAT);
    b.Output("y", kFloat, {2});
  } else if (op == "MatMulRows") {
    b.Node("Transpose", {"x"}, {"t"}, "transpose");  // [6, batch]
    b.Node("MatMul", {"t", "x"}, {"y"}, "gram");     // [6, 6]: sums over the batch
    b.Output("y", kFloat, {6, 6});
  }
  return b.Bytes();
}

EngineOptions Options(int threads, const std::string& split) {
  EngineOptions options;
  options.threads = threads;
  options.batch_split = split;
  return options;
}

// The batch's rows, run one image at a time through an engine that never splits.
Tensor RowByRowReference(const std::string& model, const Tensor& x) {
  EdgeAIEngine engine(Options(1, "off"));
  REQUIRE(engine.LoadModelFromBytes(model).ok());
  const int64_t batch = x.shape()[0];
  Tensor whole;
  for (int64_t i = 0; i < batch; ++i) {
    Shape row = x.shape();
    row[0] = 1;
    const size_t row_bytes = x.ByteSize() / static_cast<size_t>(batch);
    Tensor xi = Tensor::View(DataType::kFloat32, row, const_cast<char*>(static_cast<const char*>(x.raw_data())) +
                                                          row_bytes * static_cast<size_t>(i));
    Result<NamedTensors> out = engine.Run({{engine.inputs()[0].name, xi}});
    REQUIRE(out.ok());
    const Tensor& yi = out->begin()->second;
    if (!whole.defined()) {
      Shape shape = yi.shape();
      shape[0] = batch;
      whole = Tensor::Allocate(yi.dtype(), shape).value();
    }
    std::memcpy(static_cast<char*>(whole.raw_data()) + yi.ByteSize() * static_cast<size_t>(i), yi.raw_data(),
                yi.ByteSize());
  }
  return whole;
}

void CheckSame(const Tensor& expected, const Tensor& actual) {
  REQUIRE(actual.shape() == expected.shape());
  CHECK(std::memcmp(actual.raw_data(), expected.raw_data(), actual.ByteSize()) == 0);
}

}  // namespace

TEST_CASE("batch split analysis accepts row-wise networks", "[batch_split]") {
  for (const char* flatten : {"Flatten", "Reshape0", "Reshape-1"}) {
    INFO(flatten);
    Graph graph = LoadGraph(SmallCnn(flatten));
    BatchSplitAnalysis split = AnalyzeBatchSplit(graph);
    INFO(split.reason);
    CHECK(split.separable);
    // Per image: conv 8x6x6 + relu + pool 8x3x3 + flatten 72 + gemm 5 (+ softmax output, not an intermediate).
    CHECK(split.image_intermediate_bytes == 4 * (288 + 288 + 72 + 72 + 5 + 5));
    CHECK(split.weight_bytes > 4 * (8 * 4 * 9 + 8 + 5 * 72 + 5) - 1);
  }
  Graph blocked = LoadGraph(InvertedResiduals(32, 14, 3));
  CHECK(AnalyzeBatchSplit(blocked).separable);
}

TEST_CASE("batch split analysis refuses nodes that mix the batch's rows, naming them", "[batch_split]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Softmax0", "Softmax node 'softmax' normalises across the batch"},
      {"ReduceSum0", "ReduceSum node 'reduce' reduces across the batch"},
      {"ReshapeFold", "Reshape node 'reshape' folds the batch into other dimensions"},
      {"Shape", "Shape node 'shape' is not known to treat the batch rows independently"},
      {"MatMulRows", "Transpose node 'transpose' moves the batch axis"},
  };
  for (const auto& [op, reason] : cases) {
    INFO(op);
    Graph graph = LoadGraph(RowMixing(op));
    BatchSplitAnalysis split = AnalyzeBatchSplit(graph);
    CHECK_FALSE(split.separable);
    CHECK(split.reason == reason);
  }
  ModelBuilder fixed(13);
  fixed.Input("x", kFloat, {2, 6});
  fixed.Node("Relu", {"x"}, {"y"}, "relu");
  fixed.Output("y", kFloat, {2, 6});
  Graph graph = LoadGraph(fixed.Bytes());
  CHECK(AnalyzeBatchSplit(graph).reason == "input 'x' has a fixed leading dimension");
}

TEST_CASE("a split batch gives every image what a batch-1 run gives it", "[batch_split]") {
  const std::string model = SmallCnn();
  const Tensor x = RandomTensor(Shape{5, 4, 6, 6}, 7);
  const Tensor expected = RowByRowReference(model, x);
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    EdgeAIEngine engine(Options(threads, "always"));
    REQUIRE(engine.LoadModelFromBytes(model).ok());
    CHECK(engine.model_info().batch_split.rfind("image by image", 0) == 0);
    // Fresh outputs, then the same outputs filled in place, then stale outputs of another shape.
    Result<NamedTensors> fresh = engine.Run({{"x", x}});
    REQUIRE(fresh.ok());
    CheckSame(expected, fresh->at("y"));
    NamedTensors outputs = {{"y", Tensor::Allocate(DataType::kFloat32, Shape{5, 5}).value()}};
    const void* buffer = outputs.at("y").raw_data();
    REQUIRE(engine.Run({{"x", x}}, &outputs).ok());
    CHECK(outputs.at("y").raw_data() == buffer);
    CheckSame(expected, outputs.at("y"));
    outputs = {{"y", Tensor::Allocate(DataType::kFloat32, Shape{5, 3}).value()}};
    REQUIRE(engine.Run({{"x", x}}, &outputs).ok());
    CheckSame(expected, outputs.at("y"));
  }
}

TEST_CASE("a split batch agrees with the whole batch on a MobileNet-like model", "[batch_split]") {
  const std::string model = InvertedResiduals(32, 14, 3);
  const Tensor x = RandomTensor(Shape{4, 32, 14, 14}, 11);
  EdgeAIEngine whole(Options(2, "off"));
  REQUIRE(whole.LoadModelFromBytes(model).ok());
  Result<NamedTensors> expected = whole.Run({{"x", x}});
  REQUIRE(expected.ok());
  for (int threads : {1, 2}) {
    EdgeAIEngine split(Options(threads, "auto"));
    REQUIRE(split.LoadModelFromBytes(model).ok());
    INFO(split.model_info().batch_split);
    CHECK(split.model_info().batch_split.rfind("image by image", 0) == 0);
    Result<NamedTensors> got = split.Run({{"x", x}});
    REQUIRE(got.ok());
    CheckClose("y", expected->at("y"), got->at("y"), 1e-5, 1e-5);
  }
}

TEST_CASE("batch split leaves batches it cannot split to the whole-batch run", "[batch_split]") {
  const std::string model = SmallCnn();
  EdgeAIEngine engine(Options(2, "always"));
  REQUIRE(engine.LoadModelFromBytes(model).ok());
  // Batch 1, and a batch smaller than the threads: run whole, same results.
  for (int64_t batch : {1}) {
    const Tensor x = RandomTensor(Shape{batch, 4, 6, 6}, 3);
    Result<NamedTensors> got = engine.Run({{"x", x}});
    REQUIRE(got.ok());
    CheckSame(RowByRowReference(model, x), got->at("y"));
  }
  // Bad input still gets the whole-batch run's error, naming the input.
  Result<NamedTensors> bad = engine.Run({{"x", RandomTensor(Shape{4, 3, 6, 6}, 3)}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("'x'") != std::string::npos);
  Result<NamedTensors> unknown = engine.Run({{"x", RandomTensor(Shape{4, 4, 6, 6}, 3)}, {"z", Tensor()}});
  CHECK_FALSE(unknown.ok());
  // A model the analysis refuses runs whole whatever the mode, and says why.
  EdgeAIEngine mixing(Options(2, "always"));
  REQUIRE(mixing.LoadModelFromBytes(RowMixing("Softmax0")).ok());
  CHECK(mixing.model_info().batch_split == "whole: Softmax node 'softmax' normalises across the batch");
  EdgeAIEngine off(Options(2, "off"));
  REQUIRE(off.LoadModelFromBytes(model).ok());
  CHECK(off.model_info().batch_split == "whole: batch_split is off");
  // The input size limit applies to the whole batch, not to one image.
  EngineOptions limited = Options(2, "always");
  limited.max_tensor_elements = 4 * 4 * 6 * 6 - 1;
  EdgeAIEngine small(limited);
  REQUIRE(small.LoadModelFromBytes(model).ok());
  Result<NamedTensors> too_big = small.Run({{"x", RandomTensor(Shape{4, 4, 6, 6}, 3)}});
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.status().code() == StatusCode::kResourceExhausted);
  EdgeAIEngine invalid(Options(2, "sometimes"));
  Status loaded = invalid.LoadModelFromBytes(model);
  CHECK(loaded.code() == StatusCode::kInvalidArgument);
  CHECK(loaded.message().find("'sometimes'") != std::string::npos);
}

TEST_CASE("split batches run concurrently on one engine give each caller its own rows", "[batch_split]") {
  const std::string model = SmallCnn();
  EdgeAIEngine engine(Options(2, "always"));
  REQUIRE(engine.LoadModelFromBytes(model).ok());
  const Tensor xa = RandomTensor(Shape{6, 4, 6, 6}, 21), xb = RandomTensor(Shape{4, 4, 6, 6}, 22);
  const Tensor expected_a = RowByRowReference(model, xa), expected_b = RowByRowReference(model, xb);
  bool ok_a = true, ok_b = true, same_a = true, same_b = true;
  auto caller = [&](const Tensor& x, const Tensor& expected, bool* ok, bool* same) {
    NamedTensors outputs;
    for (int run = 0; run < 20; ++run) {
      *ok = engine.Run({{"x", x}}, &outputs).ok() && *ok;
      const Tensor& y = outputs["y"];
      *same = *same && y.shape() == expected.shape() &&
              std::memcmp(y.raw_data(), expected.raw_data(), expected.ByteSize()) == 0;
    }
  };
  std::thread a(caller, std::cref(xa), std::cref(expected_a), &ok_a, &same_a);
  std::thread b(caller, std::cref(xb), std::cref(expected_b), &ok_b, &same_b);
  a.join();
  b.join();
  CHECK(ok_a);
  CHECK(ok_b);
  CHECK(same_a);
  CHECK(same_b);
}
