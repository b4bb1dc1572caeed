// Several threads running one engine at once get the same results as sequential runs: each run has its own
// execution context, and kernels' per-thread scratch survives interleaving (isolated parallel loops).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <thread>

#include "edgeai/engine.h"

using namespace edgeai;

TEST_CASE("concurrent runs of one engine match sequential runs", "[graph][executor][concurrency]") {
  EngineOptions options;
  options.threads = 2;
  EdgeAIEngine engine(options);
  REQUIRE(engine.LoadModel(std::string(EDGEAI_TEST_DATA_DIR) + "/squeezenet1_1.onnx").ok());
  const TensorInfo& info = engine.inputs().at(0);
  constexpr int kInputs = 4;
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (int i = 0; i < kInputs; ++i) {
    Tensor t = Tensor::Allocate(DataType::kFloat32, Shape{1, 3, 224, 224}).value();
    for (int64_t j = 0; j < t.NumElements(); ++j) t.data<float>()[j] = normal(rng);
    Result<NamedTensors> out = engine.Run({{info.name, t}});
    REQUIRE(out.ok());
    expected.push_back(out->begin()->second);
    inputs.push_back(t);
  }
  std::vector<int> mismatches(kInputs, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInputs; ++i) {
    threads.emplace_back([&, i] {
      NamedTensors outputs;
      for (int round = 0; round < 3; ++round) {
        // Alternate inputs so contexts see changing data under the same shapes.
        int which = (i + round) % kInputs;
        if (!engine.Run({{info.name, inputs[which]}}, &outputs).ok()) {
          ++mismatches[i];
          continue;
        }
        const Tensor& got = outputs.begin()->second;
        const Tensor& want = expected[which];
        for (int64_t j = 0; j < want.NumElements(); ++j) {
          float a = got.data<float>()[j], b = want.data<float>()[j];
          if (!(std::fabs(a - b) <= 1e-5f + 1e-5f * std::fabs(b))) {
            ++mismatches[i];
            break;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kInputs; ++i) CHECK(mismatches[i] == 0);
}
