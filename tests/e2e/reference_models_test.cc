// End to end: the models kept in tests/data run on their reference inputs and match ONNX Runtime's outputs
// with allclose(rtol=1e-3, atol=1e-4), as ../shared/checks/reference-models.sh judges the full set.
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

void CheckAllClose(const std::string& name, const Tensor& expected, const Tensor& actual) {
  INFO("output " << name << ": expected " << expected.Describe() << ", got " << actual.Describe());
  REQUIRE(actual.dtype() == DataType::kFloat32);
  REQUIRE(actual.shape() == expected.shape());
  const float* e = expected.data<float>();
  const float* a = actual.data<float>();
  int64_t bad = 0;
  double err2 = 0, ref2 = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    double diff = std::fabs(double(a[i]) - double(e[i]));
    if (!(diff <= 1e-4 + 1e-3 * std::fabs(double(e[i])))) ++bad;
    err2 += diff * diff;
    ref2 += double(e[i]) * double(e[i]);
  }
  CHECK(bad == 0);
  CHECK(std::sqrt(err2) <= 1e-4 * std::sqrt(ref2) + 1e-12);
}

// Three runs: the first records the tensor sizes, the later ones run on the memory plan.
void RunReference(const std::string& model, int threads, const std::string& memory_layout = "auto") {
  EngineOptions options;
  options.threads = threads;
  options.memory_layout = memory_layout;
  EdgeAIEngine engine(options);
  Status loaded = engine.LoadModel(kData + "/" + model + ".onnx");
  INFO(loaded.ToString());
  REQUIRE(loaded.ok());
  NamedTensors inputs = test::ReadReferenceTensors(model, "in");
  NamedTensors expected = test::ReadReferenceTensors(model, "ort");
  REQUIRE(!inputs.empty());
  REQUIRE(!expected.empty());
  for (int run = 0; run < 3; ++run) {
    INFO("run " << run);
    Result<NamedTensors> out = engine.Run(inputs);
    INFO(out.status().ToString());
    REQUIRE(out.ok());
    for (const auto& [name, ref] : expected) {
      REQUIRE(out->count(name) == 1);
      CheckAllClose(name, ref, out->at(name));
    }
  }
}

}  // namespace

TEST_CASE("mlp matches ONNX Runtime", "[e2e]") { RunReference("mlp", 1); }
TEST_CASE("gru2 matches ONNX Runtime", "[e2e]") { RunReference("gru2", 1); }
TEST_CASE("lstm2 matches ONNX Runtime", "[e2e]") { RunReference("lstm2", 1); }
TEST_CASE("squeezenet1_1 matches ONNX Runtime", "[e2e]") { RunReference("squeezenet1_1", 2); }
TEST_CASE("transformer_enc4 matches ONNX Runtime", "[e2e]") { RunReference("transformer_enc4", 2); }
TEST_CASE("squeezenet1_1 and transformer_enc4 match ONNX Runtime in both memory layouts", "[e2e]") {
  for (const char* layout : {"reuse", "spread"}) {
    INFO(layout);
    RunReference("squeezenet1_1", 2, layout);
    RunReference("transformer_enc4", 2, layout);
  }
}
