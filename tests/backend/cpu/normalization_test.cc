#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::IntAttr;
using test::RunOp;

template <typename T>
void CheckValues(const Tensor& t, const Shape& shape, const std::vector<T>& expected, double eps = 1e-5) {
  test::CheckValues(t, shape, expected, eps, 1e-5);
}

AttributeMap Axis(int64_t axis) {
  AttributeMap a;
  a.Set("axis", IntAttr(axis));
  return a;
}

// Expected values below come from numpy.
const std::vector<float> kX = {1, 2, 3, -1, 0, 5, 0.5f, 0.5f, 0.5f, 2, -3, 1};

}  // namespace

TEST_CASE("Softmax along one axis (opset 13)", "[cpu][normalization][softmax]") {
  auto out = RunOp("Softmax", 13, AttributeMap(), {Tensor::FromVector<float>(Shape{4, 3}, kX)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{4, 3},
                     {0.09003057f, 0.2447285f, 0.6652409f, 0.002456115f, 0.006676412f, 0.9908675f, 1.0f / 3,
                      1.0f / 3, 1.0f / 3, 0.7274752f, 0.004901689f, 0.2676232f});
  // A middle axis: strided columns.
  out = RunOp("Softmax", 13, Axis(1), {Tensor::FromVector<float>(Shape{2, 3, 2}, kX)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 3, 2},
                     {0.1141952f, 0.04731416f, 0.8437947f, 0.002355633f, 0.04201007f, 0.9503303f, 0.4925629f,
                      0.1402444f, 0.4925629f, 0.6285318f, 0.01487411f, 0.2312239f});
  out = RunOp("LogSoftmax", 13, Axis(-2), {Tensor::FromVector<float>(Shape{2, 3, 2}, kX)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 3, 2},
                     {-2.169846f, -3.050946f, -0.169846f, -6.050946f, -3.169846f, -0.05094571f, -0.708133f,
                      -1.964369f, -0.708133f, -0.4643687f, -4.208133f, -1.464369f});
}

TEST_CASE("Softmax opsets 1-12 coerce the input to 2-D at axis", "[cpu][normalization][softmax]") {
  auto out = RunOp("Softmax", 11, AttributeMap(), {Tensor::FromVector<float>(Shape{2, 2, 3}, kX)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 3},
                     {0.01510375f, 0.04105626f, 0.1116025f, 0.002044071f, 0.00555636f, 0.8246371f, 0.1091631f,
                      0.1091631f, 0.1091631f, 0.4892349f, 0.003296439f, 0.1799795f});
  std::vector<double> xd(kX.begin(), kX.end());
  auto outd = RunOp("LogSoftmax", 1, Axis(0), {Tensor::FromVector<double>(Shape{2, 6}, xd)});
  REQUIRE(outd.ok());
  CheckValues<double>((*outd)[0], Shape{2, 6},
                      {-4.273396, -3.273395, -2.273395, -6.273396, -5.273396, -0.2733954, -4.773396, -4.773396,
                       -4.773396, -3.273395, -8.273396, -4.273396});
}

TEST_CASE("Softmax is stable for large inputs and big rows", "[cpu][normalization][softmax]") {
  auto out = RunOp("Softmax", 13, AttributeMap(), {Tensor::FromVector<float>(Shape{3}, {1000, 1001, 1002})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{3}, {0.09003057f, 0.2447285f, 0.6652409f});
  out = RunOp("LogSoftmax", 13, AttributeMap(), {Tensor::FromVector<float>(Shape{3}, {1000, 1001, 1002})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{3}, {-2.407606f, -1.407606f, -0.407606f});
  // Attention-sized rows, and a strided axis wider than one column chunk: each slice must sum to one.
  std::vector<float> x(8 * 128 * 300);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * 6;
  out = RunOp("Softmax", 13, Axis(1), {Tensor::FromVector<float>(Shape{8, 128, 300}, x)});
  REQUIRE(out.ok());
  const float* y = (*out)[0].data<float>();
  for (int b = 0; b < 8; b += 3) {
    for (int c = 0; c < 300; c += 37) {
      double sum = 0;
      for (int j = 0; j < 128; ++j) sum += y[(b * 128 + j) * 300 + c];
      CHECK(sum == Approx(1).epsilon(1e-5));
      const float* col = x.data() + b * 128 * 300 + c;
      double denom = 0;
      for (int j = 0; j < 128; ++j) denom += std::exp(static_cast<double>(col[j * 300]));
      CHECK(y[(b * 128 + 5) * 300 + c] == Approx(std::exp(col[5 * 300]) / denom).epsilon(1e-4));
    }
  }
}

TEST_CASE("Softmax rejects an out-of-range axis", "[cpu][normalization][softmax]") {
  auto out = RunOp("Softmax", 13, Axis(2), {Tensor::FromVector<float>(Shape{4, 3}, kX)});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("Softmax node 'test': axis 2 is out of range for rank 2") != std::string::npos);
  out = RunOp("Softmax", 13, AttributeMap(), {Tensor::FromVector<int32_t>(Shape{1}, {1})});
  CHECK_FALSE(out.ok());
}

TEST_CASE("LayerNormalization with Mean and InvStdDev outputs", "[cpu][normalization][layernorm]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 2, 3}, kX);
  Tensor scale = Tensor::FromVector<float>(Shape{3}, {1, 2, -1});
  Tensor bias = Tensor::FromVector<float>(Shape{3}, {0.5f, 0, 1});
  auto out = RunOp("LayerNormalization", 17, AttributeMap(), {x, scale, bias}, 3);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 3},
                     {-0.7247357f, 0, -0.2247357f, -0.3890002f, -1.016f, -0.3970004f, 0.5f, 0, 1, 1.425819f,
                      -2.777457f, 0.5370904f});
  CheckValues<float>((*out)[1], Shape{2, 2, 1}, {2, 1.333333f, 0.5f, 0});
  CHECK((*out)[1].dtype() == DataType::kFloat32);
  CheckValues<float>((*out)[2], Shape{2, 2, 1}, {1.224736f, 0.3810001f, 316.2278f, 0.4629096f});

  // axis 1 normalises the last two dims; no bias.
  Tensor scale2 = Tensor::FromVector<float>(Shape{2, 3}, {1, 2, 3, -1, 0.5f, 2});
  out = RunOp("LayerNormalization", 17, Axis(1), {x, scale2}, 3);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 3},
                     {-0.3380613f, 0.3380613f, 2.028368f, 1.352245f, -0.4225766f, 3.380613f, 0.1615142f,
                      0.3230285f, 0.4845427f, -1.1306f, -1.049843f, 0.9690854f});
  CheckValues<float>((*out)[1], Shape{2, 1, 1}, {1.666667f, 0.25f});
  CheckValues<float>((*out)[2], Shape{2, 1, 1}, {0.5070919f, 0.6460569f});

  // Scale and bias broadcast over the normalised block.
  std::vector<double> xd(kX.begin(), kX.end());
  auto outd = RunOp("LayerNormalization", 17, Axis(1),
                  {Tensor::FromVector<double>(Shape{2, 2, 3}, xd), Tensor::FromVector<double>(Shape{1, 3}, {1, 2, -1}),
                   Tensor::FromVector<double>(Shape{1}, {0.5})});
  REQUIRE(outd.ok());
  CheckValues<double>((*outd)[0], Shape{2, 2, 3},
                      {0.1619387, 0.8380613, -0.1761225, -0.8522451, -1.190306, -1.190306, 0.6615142, 0.8230285,
                       0.3384858, 1.6306, -3.69937, 0.0154573});
}

TEST_CASE("LayerNormalization rejects mismatched Scale", "[cpu][normalization][layernorm]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 2, 3}, kX);
  auto out = RunOp("LayerNormalization", 17, AttributeMap(), {x, Tensor::FromVector<float>(Shape{2}, {1, 2})});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("does not broadcast to the normalised dims") != std::string::npos);
  out = RunOp("LayerNormalization", 17, Axis(3), {x, Tensor::FromVector<float>(Shape{3}, {1, 2, 3})});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("axis 3 is out of range") != std::string::npos);
}

TEST_CASE("BatchNormalization inference across opsets", "[cpu][normalization][batchnorm]") {
  Tensor x = Tensor::FromVector<float>(Shape{1, 3, 2, 2}, kX);
  Tensor s = Tensor::FromVector<float>(Shape{3}, {1, 2, 0.5f});
  Tensor b = Tensor::FromVector<float>(Shape{3}, {0, 1, -1});
  Tensor mean = Tensor::FromVector<float>(Shape{3}, {0.5f, 1, -1});
  Tensor var = Tensor::FromVector<float>(Shape{3}, {1, 4, 0.25f});
  const std::vector<float> expected = {0.4999975f, 1.499993f, 2.499988f, -1.499993f, 1.249998e-06f, 4.999995f,
                                       0.5000006f, 0.5000006f, 0.49997f,  1.99994f,   -2.99996f,     0.99996f};
  for (int opset : {6, 7, 9, 14, 15}) {
    INFO("opset " << opset);
    auto out = RunOp("BatchNormalization", opset, AttributeMap(), {x, s, b, mean, var});
    REQUIRE(out.ok());
    CheckValues<float>((*out)[0], Shape{1, 3, 2, 2}, expected);
  }
  // Rank 2 [N, C], float64 parameters with float32 data (opset 15), running stats passed through.
  auto as_double = [](const Tensor& t) {
    std::vector<double> v(t.data<float>(), t.data<float>() + t.NumElements());
    return Tensor::FromVector<double>(t.shape(), v);
  };
  auto out = RunOp("BatchNormalization", 15, AttributeMap(),
                 {Tensor::FromVector<float>(Shape{4, 3}, kX), s, b, as_double(mean), as_double(var)}, 3);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{4, 3},
                     {0.4999975f, 1.999999f, 2.99992f, -1.499993f, 1.249998e-06f, 4.99988f, 0, 0.5000006f, 0.49997f,
                      1.499993f, -2.999995f, 0.99996f});
  CheckValues<double>((*out)[1], Shape{3}, {0.5, 1, -1});
  CheckValues<double>((*out)[2], Shape{3}, {1, 4, 0.25});
}

TEST_CASE("BatchNormalization spatial=0 is per activation (opset 7)", "[cpu][normalization][batchnorm]") {
  AttributeMap attrs;
  attrs.Set("spatial", IntAttr(0));
  auto p = [](std::vector<float> v) { return Tensor::FromVector<float>(Shape{2, 3}, v); };
  auto out = RunOp("BatchNormalization", 7, attrs,
                 {Tensor::FromVector<float>(Shape{2, 2, 3}, kX), p({0, 0.5f, 1, 1.5f, 2, 2.5f}), p({1, 1, 1, 1, 1, 1}),
                  p({-2, -1, 0, 1, 2, 3}), p({1, 2, 3, 4, 5, 6})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 3},
                     {1, 2.060658f, 2.732048f, -0.4999981f, -0.7888526f, 3.04124f, 1, 1.530329f, 1.288675f, 1.749999f,
                      -3.472131f, -1.04124f});
}

// Training mode (opset 14+) is tested in batchnorm_training_test.cc.
TEST_CASE("BatchNormalization rejects bad parameters", "[cpu][normalization][batchnorm]") {
  Tensor x = Tensor::FromVector<float>(Shape{1, 3, 2, 2}, kX);
  Tensor p3 = Tensor::FromVector<float>(Shape{3}, {1, 1, 1});
  Tensor p2 = Tensor::FromVector<float>(Shape{2}, {1, 1});
  auto out = RunOp("BatchNormalization", 15, AttributeMap(), {x, p3, p2, p3, p3});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("input #2 float32[2] must have shape [3]") != std::string::npos);
  out = RunOp("BatchNormalization", 15, AttributeMap(), {x, p3, p3, p3});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("missing required input #4") != std::string::npos);
}

TEST_CASE("InstanceNormalization normalises each plane", "[cpu][normalization][instancenorm]") {
  auto out = RunOp("InstanceNormalization", 6, AttributeMap(),
                 {Tensor::FromVector<float>(Shape{2, 2, 3}, kX), Tensor::FromVector<float>(Shape{2}, {1, -2}),
                  Tensor::FromVector<float>(Shape{2}, {0.5f, 0})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 3},
                     {-0.7247357f, 0.5f, 1.724736f, 1.778f, 1.016f, -2.794001f, 0.5f, 0.5f, 0.5f, -1.851638f,
                      2.777457f, -0.9258191f});
  out = RunOp("InstanceNormalization", 6, AttributeMap(),
            {Tensor::FromVector<float>(Shape{2, 2, 3}, kX), Tensor::FromVector<float>(Shape{3}, {1, 1, 1}),
             Tensor::FromVector<float>(Shape{2}, {0, 0})});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("must have shape [2]") != std::string::npos);
}

TEST_CASE("Normalization inference handles unknown dims", "[cpu][normalization]") {
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{-1, -1, 256});
  ValueType scale = ValueType::Of(DataType::kFloat32, Shape{256});
  auto def = CpuOpRegistry().Find("", "LayerNormalization", 17, {DataType::kFloat32, DataType::kFloat32});
  REQUIRE(def.ok());
  AttributeMap attrs;
  InferenceContext ctx("ln", "LayerNormalization", 17, attrs, {&x, &scale}, {nullptr, nullptr}, 3);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).ToString() == "float32[?,?,256]");
  CHECK(ctx.output(1).ToString() == "float32[?,?,1]");
  CHECK(ctx.output(2).ToString() == "float32[?,?,1]");

  ValueType unknown = ValueType::UnknownRank(DataType::kFloat32);
  auto sdef = CpuOpRegistry().Find("", "Softmax", 13, {DataType::kFloat32});
  REQUIRE(sdef.ok());
  InferenceContext ctx2("s", "Softmax", 13, attrs, {&unknown}, {nullptr}, 1);
  REQUIRE((*sdef)->infer(ctx2).ok());
  CHECK_FALSE(ctx2.output(0).rank_known);

  ValueType img = ValueType::Of(DataType::kFloat32, Shape{-1, 3, -1, -1});
  ValueType c3 = ValueType::Of(DataType::kFloat32, Shape{3});
  auto bdef = CpuOpRegistry().Find("", "BatchNormalization", 9, {DataType::kFloat32});
  REQUIRE(bdef.ok());
  InferenceContext ctx3("bn", "BatchNormalization", 9, attrs, {&img, &c3, &c3, &c3, &c3}, {}, 1);
  REQUIRE((*bdef)->infer(ctx3).ok());
  CHECK(ctx3.output(0).ToString() == "float32[?,3,?,?]");
}
