// Every model kept in tests/data gives the same outputs at optimisation levels none, basic and all, and each
// still matches ONNX Runtime's reference outputs (allclose rtol 1e-3, atol 1e-4).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "edgeai/engine.h"
#include "tests/e2e/reference_data.h"

using namespace edgeai;
namespace fs = std::filesystem;

namespace {

const std::string& kData = test::TestDataDir();

struct LevelRun {
  NamedTensors outputs;
  ModelInfo info;
};

LevelRun RunAt(const std::string& model, const std::string& level, const NamedTensors& inputs) {
  EngineOptions options;
  options.threads = 2;
  options.optimization_level = level;
  EdgeAIEngine engine(options);
  Status loaded = engine.LoadModel(kData + "/" + model + ".onnx");
  INFO(model << " at " << level << ": " << loaded.ToString());
  REQUIRE(loaded.ok());
  Result<NamedTensors> out = engine.Run(inputs);
  INFO(model << " at " << level << ": " << out.status().ToString());
  REQUIRE(out.ok());
  return {std::move(out).value(), engine.model_info()};
}

// allclose(actual, expected, rtol, atol) for every element.
int64_t Mismatches(const Tensor& expected, const Tensor& actual, double rtol, double atol) {
  int64_t bad = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    double e = expected.data<float>()[i], a = actual.data<float>()[i];
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e))) ++bad;
  }
  return bad;
}

void CheckLevels(const std::string& model) {
  NamedTensors inputs = test::ReadReferenceTensors(model, "in");
  NamedTensors reference = test::ReadReferenceTensors(model, "ort");
  REQUIRE(!inputs.empty());
  LevelRun none = RunAt(model, "none", inputs);
  CHECK(none.info.optimized_node_count == none.info.node_count);
  for (const char* level : {"basic", "all"}) {
    LevelRun run = RunAt(model, level, inputs);
    CHECK(run.info.optimization_error.empty());
    CHECK(run.info.optimized_node_count <= none.info.node_count);
    REQUIRE(run.outputs.size() == none.outputs.size());
    for (const auto& [name, expected] : reference) {
      INFO(model << " output " << name << " at " << level);
      REQUIRE(run.outputs.count(name) == 1);
      const Tensor& actual = run.outputs.at(name);
      REQUIRE(actual.shape() == expected.shape());
      CHECK(Mismatches(expected, actual, 1e-3, 1e-4) == 0);
      CHECK(Mismatches(none.outputs.at(name), actual, 1e-4, 1e-5) == 0);
    }
  }
}

}  // namespace

TEST_CASE("mlp gives the same outputs at every optimisation level", "[e2e][passes]") { CheckLevels("mlp"); }
TEST_CASE("gru2 gives the same outputs at every optimisation level", "[e2e][passes]") { CheckLevels("gru2"); }
TEST_CASE("lstm2 gives the same outputs at every optimisation level", "[e2e][passes]") { CheckLevels("lstm2"); }
TEST_CASE("squeezenet1_1 gives the same outputs at every optimisation level", "[e2e][passes]") {
  CheckLevels("squeezenet1_1");
}
TEST_CASE("transformer_enc4 gives the same outputs at every optimisation level", "[e2e][passes]") {
  CheckLevels("transformer_enc4");
}

TEST_CASE("the optimised transformer_enc4 and squeezenet1_1 use the fused ops", "[e2e][passes]") {
  NamedTensors inputs = test::ReadReferenceTensors("transformer_enc4", "in");
  const ModelInfo info = RunAt("transformer_enc4", "all", inputs).info;
  CHECK(info.optimized_op_counts.at("com.edgeai.LayerNormalization") == 8);
  CHECK(info.optimized_op_counts.at("com.edgeai.FusedMatMul") == 12);
  for (const char* gone : {"Identity", "ReduceMean", "Pow", "Sqrt", "Cast", "Relu"}) {
    CHECK(info.optimized_op_counts.count(gone) == 0);
  }
  CHECK(info.optimized_node_count < info.node_count / 2);
  const ModelInfo basic = RunAt("transformer_enc4", "basic", inputs).info;
  CHECK(basic.optimized_op_counts.count("Identity") == 0);
  CHECK(basic.optimized_op_counts.count("com.edgeai.FusedMatMul") == 0);

  const ModelInfo squeeze = RunAt("squeezenet1_1", "all", test::ReadReferenceTensors("squeezenet1_1", "in")).info;
  // 26 convolutions with their Relu: 6 read a Concat that nothing else reads, and take it in (ConcatConv).
  CHECK(squeeze.optimized_op_counts.at("com.edgeai.FusedConv") == 20);
  CHECK(squeeze.optimized_op_counts.at("com.edgeai.ConcatConv") == 6);
  CHECK(squeeze.optimized_op_counts.at("Concat") == 2);
  CHECK(squeeze.optimized_op_counts.count("Relu") == 0);
}
