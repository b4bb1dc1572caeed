// BatchNormalization with training_mode=1 (opset 14+): batch statistics and updated running statistics.
#include <catch2/catch.hpp>
#include <cmath>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

TEST_CASE("BatchNormalization training mode normalises with batch statistics", "[cpu][normalization][scatter]") {
  Tensor x = F32(Shape{2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor scale = F32(Shape{2}, {1, 2});
  Tensor bias = F32(Shape{2}, {0, 1});
  Tensor mean = F32(Shape{2}, {0.5f, -1});
  Tensor var = F32(Shape{2}, {1, 2});
  OpCall call("BatchNormalization", 15);
  call.Attr("training_mode", IntAttr(1)).Attr("momentum", FloatAttr(0.8f));
  auto out = call.Run({x, scale, bias, mean, var}, 3);
  REQUIRE(out.ok());
  // numpy: batch mean [3.5, 5.5], biased variance [4.25, 4.25].
  const std::vector<float> y = {-1.2126768f, -0.7276061f, -1.4253535f, -0.4552121f,
                                0.7276061f,  1.2126768f,  2.4552121f,  3.4253535f};
  for (size_t i = 0; i < y.size(); ++i) CHECK(std::abs((*out)[0].data<float>()[i] - y[i]) < 1e-5);
  const std::vector<float> running_mean = {1.1f, 0.3f}, running_var = {1.65f, 2.45f};
  for (int c = 0; c < 2; ++c) {
    CHECK(std::abs((*out)[1].data<float>()[c] - running_mean[c]) < 1e-6);
    CHECK(std::abs((*out)[2].data<float>()[c] - running_var[c]) < 1e-6);
  }
  // Only Y requested; opset 14 too.
  Tensor only_y = OpCall("BatchNormalization", 14).Attr("training_mode", IntAttr(1)).Run1({x, scale, bias, mean, var});
  CHECK(std::abs(only_y.data<float>()[0] - y[0]) < 1e-5);

  // Mismatched channel parameters are still refused.
  auto bad = call.Run({x, F32(Shape{3}, {1, 1, 1}), bias, mean, var}, 3);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad.status(), "BatchNormalization node 'test'"));
}
