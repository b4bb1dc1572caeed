#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::IntsAttr;
using test::Run;
using test::Values;

SingleOp Op(const std::string& type, int opset, int64_t axis = 1, bool set_axis = false) {
  SingleOp op = test::MakeSingleOp(type, opset);
  if (set_axis) op.attrs.Set("axis", test::IntAttr(axis));
  return op;
}

template <typename T>
std::vector<T> RandomInts(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

}  // namespace

TEST_CASE("QuantizeLinear rounds half to even and saturates", "[cpu][quant]") {
  auto out = Run(Op("QuantizeLinear", 13), {Tensor::FromVector<float>(Shape{7}, {1, 3, 5, -1, 1000, -1000, 7}),
                                            Tensor::Scalar<float>(2.0f), Tensor::Scalar<uint8_t>(128)});
  REQUIRE(out.ok());
  CHECK((*out)[0].dtype() == DataType::kUint8);
  CHECK(Values<uint8_t>((*out)[0]) == std::vector<uint8_t>{128, 130, 130, 128, 255, 0, 132});

  // No zero point: uint8 around 0 (opset 10 form).
  out = Run(Op("QuantizeLinear", 10), {Tensor::FromVector<float>(Shape{3}, {-4, 0.5, 300}), Tensor::Scalar<float>(1)});
  REQUIRE(out.ok());
  CHECK(Values<uint8_t>((*out)[0]) == std::vector<uint8_t>{0, 0, 255});
}

TEST_CASE("QuantizeLinear and DequantizeLinear per axis", "[cpu][quant]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 3}, {-200, 3, 10, 200, -5, 6});
  Tensor scale = Tensor::FromVector<float>(Shape{3}, {1, 2, 4});
  Tensor zp = Tensor::FromVector<int8_t>(Shape{3}, {0, -10, 10});
  for (int64_t axis : {1, -1}) {
    auto out = Run(Op("QuantizeLinear", 13, axis, true), {x, scale, zp});
    REQUIRE(out.ok());
    CHECK((*out)[0].dtype() == DataType::kInt8);
    CHECK(Values<int8_t>((*out)[0]) == std::vector<int8_t>{-128, -8, 12, 127, -12, 12});
  }
  auto deq = Run(Op("DequantizeLinear", 13),
                 {Tensor::FromVector<int8_t>(Shape{2, 3}, {-128, 0, 127, 1, 2, 3}),
                  Tensor::FromVector<float>(Shape{3}, {1, 0.5f, 2}), Tensor::FromVector<int8_t>(Shape{3}, {0, 2, -1})});
  REQUIRE(deq.ok());
  CHECK(Values<float>((*deq)[0]) == std::vector<float>{-128, -1, 256, 1, 0, 8});

  // int32 (a quantized bias) has no zero point.
  deq = Run(Op("DequantizeLinear", 10), {Tensor::FromVector<int32_t>(Shape{2}, {-5, 7}), Tensor::Scalar<float>(0.5f)});
  REQUIRE(deq.ok());
  CHECK(Values<float>((*deq)[0]) == std::vector<float>{-2.5f, 3.5f});
}

TEST_CASE("QuantizeLinear and DequantizeLinear reject bad scales", "[cpu][quant]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor scale3 = Tensor::FromVector<float>(Shape{3}, {1, 2, 4});
  auto out = Run(Op("QuantizeLinear", 10), {x, scale3});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.status().message(), Catch::Contains("before opset 13"));
  out = Run(Op("QuantizeLinear", 13, 0, true), {x, scale3});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.status().message(), Catch::Contains("one value per slice"));
  out = Run(Op("QuantizeLinear", 13), {x, scale3, Tensor::FromVector<uint8_t>(Shape{2}, {1, 2})});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.status().message(), Catch::Contains("same shape"));
  out = Run(Op("DequantizeLinear", 13), {Tensor::FromVector<uint8_t>(Shape{2}, {1, 2}), Tensor::Scalar<float>(1),
                                         Tensor::Scalar<int8_t>(0)});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.status().message(), Catch::Contains("differs from x's"));
}

TEST_CASE("DynamicQuantizeLinear derives scale and zero point from the range", "[cpu][quant]") {
  auto out = Run(Op("DynamicQuantizeLinear", 11), {Tensor::FromVector<float>(Shape{6}, {0, 2, -3, -2.5f, 1.34f, 0.5f})},
                 3);
  REQUIRE(out.ok());
  CHECK((*out)[1].data<float>()[0] == Approx(0.019607844f));
  CHECK((*out)[2].data<uint8_t>()[0] == 153);
  CHECK(Values<uint8_t>((*out)[0]) == std::vector<uint8_t>{153, 255, 0, 26, 221, 179});

  // All zeros: scale 0, zero point 0, no division by zero.
  out = Run(Op("DynamicQuantizeLinear", 11), {Tensor::FromVector<float>(Shape{2}, {0, 0})}, 3);
  REQUIRE(out.ok());
  CHECK((*out)[1].data<float>()[0] == 0.0f);
  CHECK(Values<uint8_t>((*out)[0]) == std::vector<uint8_t>{0, 0});
}

TEST_CASE("QLinearMatMul requantizes per row and per column", "[cpu][quant]") {
  // Expected values from numpy: rint(acc * a_scale[i] * b_scale[j] / y_scale) + y_zero_point.
  auto out = Run(Op("QLinearMatMul", 10),
                 {Tensor::FromVector<uint8_t>(Shape{2, 3}, {10, 200, 30, 0, 255, 128}),
                  Tensor::FromVector<float>(Shape{2}, {0.02f, 0.05f}), Tensor::FromVector<uint8_t>(Shape{2}, {5, 100}),
                  Tensor::FromVector<int8_t>(Shape{3, 2}, {-100, 20, 50, -60, 127, -128}),
                  Tensor::FromVector<float>(Shape{2}, {0.01f, 0.03f}), Tensor::FromVector<int8_t>(Shape{2}, {3, -4}),
                  Tensor::Scalar<float>(0.5f), Tensor::Scalar<int8_t>(10)});
  REQUIRE(out.ok());
  CHECK(Values<int8_t>((*out)[0]) == std::vector<int8_t>{15, -7, 31, -34});
}

TEST_CASE("MatMulInteger broadcasts batches with per-row and per-column zero points", "[cpu][quant]") {
  const std::vector<uint8_t> a = RandomInts<uint8_t>(2 * 3 * 4, 1);
  const std::vector<int8_t> b = RandomInts<int8_t>(4 * 5, 2);
  const std::vector<uint8_t> az = {3, 200, 17};
  const std::vector<int8_t> bz = {-1, 0, 5, 127, -128};
  auto out = Run(Op("MatMulInteger", 10), {Tensor::FromVector<uint8_t>(Shape{2, 3, 4}, a),
                                           Tensor::FromVector<int8_t>(Shape{4, 5}, b),
                                           Tensor::FromVector<uint8_t>(Shape{3}, az),
                                           Tensor::FromVector<int8_t>(Shape{5}, bz)});
  REQUIRE(out.ok());
  const Tensor& y = (*out)[0];
  REQUIRE(y.shape() == Shape{2, 3, 5});
  for (int bi = 0; bi < 2; ++bi) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 5; ++j) {
        int32_t acc = 0;
        for (int k = 0; k < 4; ++k) acc += (a[(bi * 3 + i) * 4 + k] - az[i]) * (b[k * 5 + j] - bz[j]);
        CHECK(y.data<int32_t>()[(bi * 3 + i) * 5 + j] == acc);
      }
    }
  }
  auto bad = Run(Op("MatMulInteger", 10), {Tensor::FromVector<uint8_t>(Shape{2, 3, 4}, a),
                                           Tensor::FromVector<int8_t>(Shape{5, 4}, b)});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("inner dimension"));
}

namespace {

// x [1, 4, 5, 6] (uint8), w [6, 2, 3, 2] (int8, group 2, per-channel zero points), stride [2, 1],
// dilation [1, 2], pads [1, 0, 2, 1]: the int32 accumulators of every output, straight from the definition.
struct QConvData {
  std::vector<uint8_t> x = RandomInts<uint8_t>(1 * 4 * 5 * 6, 11);
  std::vector<int8_t> w = RandomInts<int8_t>(6 * 2 * 3 * 2, 12);
  std::vector<int8_t> wz = {0, 1, -2, 3, -4, 5};
  uint8_t xz = 131;
  static constexpr int64_t kOh = 3, kOw = 5;  // (5 + 3 - 3) / 2 + 1, (6 + 1 - 3) / 1 + 1

  std::vector<int32_t> Accumulators() const {
    std::vector<int32_t> acc(6 * kOh * kOw, 0);
    for (int m = 0; m < 6; ++m) {
      const int g = m / 3;
      for (int oh = 0; oh < kOh; ++oh) {
        for (int ow = 0; ow < kOw; ++ow) {
          int32_t sum = 0;
          for (int c = 0; c < 2; ++c) {
            for (int kh = 0; kh < 3; ++kh) {
              for (int kw = 0; kw < 2; ++kw) {
                const int ih = oh * 2 + kh - 1, iw = ow + kw * 2 - 0;
                if (ih < 0 || ih >= 5 || iw < 0 || iw >= 6) continue;
                const int xv = x[((g * 2 + c) * 5 + ih) * 6 + iw] - xz;
                sum += xv * (w[((m * 2 + c) * 3 + kh) * 2 + kw] - wz[m]);
              }
            }
          }
          acc[(m * kOh + oh) * kOw + ow] = sum;
        }
      }
    }
    return acc;
  }
  void SetAttrs(SingleOp* op) const {
    Attribute g;
    g.kind = Attribute::Kind::kInt;
    g.i = 2;
    op->attrs.Set("group", g);
    op->attrs.Set("strides", IntsAttr({2, 1}));
    op->attrs.Set("dilations", IntsAttr({1, 2}));
    op->attrs.Set("pads", IntsAttr({1, 0, 2, 1}));
  }
};

}  // namespace

TEST_CASE("ConvInteger and QLinearConv match a direct convolution", "[cpu][quant]") {
  const QConvData d;
  const std::vector<int32_t> acc = d.Accumulators();
  Tensor x = Tensor::FromVector<uint8_t>(Shape{1, 4, 5, 6}, d.x);
  Tensor w = Tensor::FromVector<int8_t>(Shape{6, 2, 3, 2}, d.w);
  Tensor wz = Tensor::FromVector<int8_t>(Shape{6}, d.wz);

  SingleOp conv_integer = Op("ConvInteger", 10);
  d.SetAttrs(&conv_integer);
  auto out = Run(conv_integer, {x, w, Tensor::Scalar<uint8_t>(d.xz), wz});
  REQUIRE(out.ok());
  REQUIRE((*out)[0].shape() == Shape{1, 6, QConvData::kOh, QConvData::kOw});
  CHECK(Values<int32_t>((*out)[0]) == acc);

  SingleOp qconv = Op("QLinearConv", 10);
  d.SetAttrs(&qconv);
  const std::vector<float> w_scale = {0.01f, 0.02f, 0.005f, 0.03f, 0.001f, 0.04f};
  const std::vector<int32_t> bias = {100, -200, 0, 5000, -7, 1};
  const float x_scale = 0.05f, y_scale = 0.7f;
  const int32_t y_zp = 100;
  out = Run(qconv, {x, Tensor::Scalar<float>(x_scale), Tensor::Scalar<uint8_t>(d.xz), w,
                    Tensor::FromVector<float>(Shape{6}, w_scale), wz, Tensor::Scalar<float>(y_scale),
                    Tensor::Scalar<uint8_t>(static_cast<uint8_t>(y_zp)), Tensor::FromVector<int32_t>(Shape{6}, bias)});
  REQUIRE(out.ok());
  const std::vector<uint8_t> y = Values<uint8_t>((*out)[0]);
  const int64_t plane = QConvData::kOh * QConvData::kOw;
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t m = i / plane;
    const float v = static_cast<float>(acc[i] + bias[m]) * (x_scale * w_scale[m] / y_scale);
    const float q = std::min(255.0f, std::max(0.0f, std::nearbyint(v) + y_zp));
    CHECK(y[i] == static_cast<uint8_t>(q));
  }

  // A w_scale that is neither per tensor nor per output channel.
  auto bad = Run(qconv, {x, Tensor::Scalar<float>(x_scale), Tensor::Scalar<uint8_t>(d.xz), w,
                         Tensor::FromVector<float>(Shape{4}, {1, 1, 1, 1}), wz, Tensor::Scalar<float>(y_scale),
                         Tensor::Scalar<uint8_t>(0)});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("w_scale"));
  bad = Run(conv_integer, {Tensor::FromVector<uint8_t>(Shape{1, 3, 5, 6}, std::vector<uint8_t>(90, 0)), w});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("do not match group"));
}
