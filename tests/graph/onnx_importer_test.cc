#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "backend/cpu/cpu_ops.h"
#include "edgeai/engine.h"
#include "graph/onnx_importer.h"
#include "tests/graph/model_builder.h"

using namespace edgeai;
using edgeai::testing::ModelBuilder;
namespace fs = std::filesystem;

namespace {

constexpr int kFloat = onnx::TensorProto::FLOAT;

Status Load(const std::string& bytes, const std::string& base_dir = "") {
  EdgeAIEngine engine(EngineOptions{1});
  return engine.LoadModelFromBytes(bytes, base_dir);
}

ModelBuilder AddModel() {
  ModelBuilder b;
  b.Input("x", kFloat, {-1, 3}).Output("y", kFloat, {-1, 3});
  b.FloatInitializer("w", {3}, {1, 2, 3});
  b.Node("Add", {"x", "w"}, {"y"}, "add0");
  return b;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("edgeai_import_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("a well-formed model imports with declared inputs and symbolic dims", "[graph][import]") {
  ModelBuilder b = AddModel();
  Result<ImportedModel> m = ImportOnnxModel(b.Bytes(), ImportOptions{}, CpuOpRegistry());
  REQUIRE(m.ok());
  REQUIRE(m->graph.inputs.size() == 1);
  TensorInfo in = m->graph.Describe(m->graph.inputs[0]);
  CHECK(in.Describe() == "float32[batch,3]");
  CHECK(m->info.opsets.at("") == 13);
  CHECK(m->info.op_counts.at("Add") == 1);
}

TEST_CASE("garbage bytes are refused as malformed protobuf", "[graph][import]") {
  Status s = Load("this is not a protobuf at all \xff\xff\xff\xff");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("not a valid ONNX model"));
}

TEST_CASE("a truncated model is refused, never crashes", "[graph][import]") {
  std::string bytes = AddModel().Bytes();
  for (size_t cut : {size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 3}) {
    Status s = Load(bytes.substr(0, cut));
    CHECK_FALSE(s.ok());
  }
}

TEST_CASE("an unknown op is named with its node", "[graph][import]") {
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("y", kFloat, {2});
  b.Node("FancyNewOp", {"x"}, {"y"}, "mystery");
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kUnimplemented);
  CHECK_THAT(s.message(), Catch::Contains("FancyNewOp") && Catch::Contains("mystery"));
}

TEST_CASE("an unsupported opset is refused", "[graph][import]") {
  ModelBuilder b(99);
  b.Input("x", kFloat, {2}).Output("y", kFloat, {2});
  b.Node("Relu", {"x"}, {"y"});
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kUnimplemented);
  CHECK_THAT(s.message(), Catch::Contains("opset 99"));
}

TEST_CASE("an unsupported dtype is refused naming the value", "[graph][import]") {
  ModelBuilder b;
  b.Input("text", onnx::TensorProto::STRING, {2}).Output("y", onnx::TensorProto::STRING, {2});
  b.Node("Identity", {"text"}, {"y"});
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kUnimplemented);
  CHECK_THAT(s.message(), Catch::Contains("text") && Catch::Contains("string"));
}

TEST_CASE("a node input nobody produces is refused", "[graph][import]") {
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("y", kFloat, {2});
  b.Node("Add", {"x", "ghost"}, {"y"}, "adder");
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("ghost") && Catch::Contains("adder"));
}

TEST_CASE("a graph output nobody produces is refused", "[graph][import]") {
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("nothing", kFloat, {2});
  Status s = Load(b.Bytes());
  CHECK_THAT(s.message(), Catch::Contains("nothing"));
}

TEST_CASE("inconsistent declared shapes are refused naming the value", "[graph][import]") {
  ModelBuilder b = AddModel();
  b.proto().mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(1)->set_dim_value(4);
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("'y'") && Catch::Contains("conflicts"));
}

TEST_CASE("initializer data that does not match its dims is refused", "[graph][import]") {
  ModelBuilder b;
  b.Input("x", kFloat, {3}).Output("y", kFloat, {3});
  b.FloatInitializer("w", {3}, {1, 2});
  b.Node("Add", {"x", "w"}, {"y"});
  Status s = Load(b.Bytes());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("'w'"));
  ModelBuilder raw;
  raw.Input("x", kFloat, {3}).Output("y", kFloat, {3});
  raw.FloatInitializer("w", {3}, {}).set_raw_data(std::string(8, '\0'));
  raw.Node("Add", {"x", "w"}, {"y"});
  CHECK_THAT(Load(raw.Bytes()).message(), Catch::Contains("raw_data"));
}

TEST_CASE("a cycle is refused", "[graph][import]") {
  ModelBuilder b;
  b.Input("x", kFloat, {2}).Output("b", kFloat, {2});
  b.Node("Add", {"x", "b"}, {"a"}, "first");
  b.Node("Add", {"a", "x"}, {"b"}, "second");
  Status s = Load(b.Bytes());
  CHECK_THAT(s.message(), Catch::Contains("cycle"));
}

TEST_CASE("external data loads from the model's folder and never from outside it", "[graph][import]") {
  TempDir dir;
  fs::create_directories(dir.path / "model");
  {
    std::ofstream out(dir.path / "model" / "weights.bin", std::ios::binary);
    float w[3] = {10, 20, 30};
    out.write(reinterpret_cast<const char*>(w), sizeof w);
    std::ofstream outside(dir.path / "secret.bin", std::ios::binary);
    outside.write(reinterpret_cast<const char*>(w), sizeof w);
  }
  auto make = [](const std::string& location) {
    ModelBuilder b;
    b.Input("x", kFloat, {3}).Output("y", kFloat, {3});
    auto& t = b.FloatInitializer("w", {3}, {});
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* entry = t.add_external_data();
    entry->set_key("location");
    entry->set_value(location);
    b.Node("Add", {"x", "w"}, {"y"});
    return b.Bytes();
  };
  std::string base = (dir.path / "model").string();
  CHECK(ImportOnnxModel(make("weights.bin"), ImportOptions{"m", base}, CpuOpRegistry()).ok());
  Result<ImportedModel> m = ImportOnnxModel(make("weights.bin"), ImportOptions{"m", base}, CpuOpRegistry());
  REQUIRE(m.ok());
  const Value& w = m->graph.values[m->graph.FindValue("w")];
  CHECK(w.constant.data<float>()[2] == 30.0f);

  Status escape = Load(make("../secret.bin"), base);
  CHECK(escape.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(escape.message(), Catch::Contains("escapes"));
  Status absolute = Load(make((dir.path / "secret.bin").string()), base);
  CHECK_THAT(absolute.message(), Catch::Contains("absolute"));
  CHECK_FALSE(Load(make("missing.bin"), base).ok());
  CHECK_THAT(Load(make("weights.bin"), "").message(), Catch::Contains("external data"));
}
