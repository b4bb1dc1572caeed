#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/conv_winograd.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::cpu;

namespace {

struct Case {
  int64_t batch, c, m, h, w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
};

ConvCallGeometry Geometry(const Case& k) {
  ConvCallGeometry p;
  p.batch = k.batch;
  p.in_channels = k.c;
  p.out_channels = k.m;
  p.group = 1;
  p.n = 2;
  const int64_t in[2] = {k.h, k.w}, pb[2] = {k.pad_top, k.pad_left}, pe[2] = {k.pad_bottom, k.pad_right};
  p.in_size = p.kernel_size = p.out_size = 1;
  for (int i = 0; i < 2; ++i) {
    p.in[i] = in[i];
    p.kernel[i] = 3;
    p.stride[i] = 1;
    p.dilation[i] = 1;
    p.pad[i] = pb[i];
    p.out[i] = in[i] + pb[i] + pe[i] - 2;
    p.in_size *= p.in[i];
    p.kernel_size *= 3;
    p.out_size *= p.out[i];
  }
  return p;
}

// Output (n, mo, oh, ow) of the convolution straight from its definition, in double.
double DirectAt(const ConvCallGeometry& p, const std::vector<float>& x, const std::vector<float>& w, int64_t n,
                int64_t mo, int64_t oh, int64_t ow) {
  double acc = 0.0;
  for (int64_t c = 0; c < p.in_channels; ++c) {
    const float* plane = x.data() + (n * p.in_channels + c) * p.in_size;
    const float* taps = w.data() + (mo * p.in_channels + c) * 9;
    for (int64_t kh = 0; kh < 3; ++kh) {
      const int64_t ih = oh + kh - p.pad[0];
      for (int64_t kw = 0; kw < 3 && ih >= 0 && ih < p.in[0]; ++kw) {
        const int64_t iw = ow + kw - p.pad[1];
        if (iw >= 0 && iw < p.in[1]) acc += static_cast<double>(plane[ih * p.in[1] + iw]) * taps[kh * 3 + kw];
      }
    }
  }
  return acc;
}

// The whole convolution plus bias, then the activation.
std::vector<float> Direct(const ConvCallGeometry& p, const std::vector<float>& x, const std::vector<float>& w,
                          const float* bias, const Activation& act) {
  std::vector<float> y(static_cast<size_t>(p.batch * p.out_channels * p.out_size));
  size_t i = 0;
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t mo = 0; mo < p.out_channels; ++mo) {
      for (int64_t oh = 0; oh < p.out[0]; ++oh) {
        for (int64_t ow = 0; ow < p.out[1]; ++ow) {
          y[i++] = static_cast<float>(DirectAt(p, x, w, n, mo, oh, ow) + (bias != nullptr ? bias[mo] : 0.0));
        }
      }
    }
  }
  ApplyActivation(y.data(), static_cast<int64_t>(y.size()), act);
  return y;
}

// Runs the Winograd convolution and checks it against Direct: the largest error within 1e-4 of the output's
// magnitude (F(4x4)'s transforms lose a few bits to cancellation), and identical non-finite values.
void Check(const Case& k, int tile, bool with_bias, const Activation& act, const ThreadPool& pool) {
  const ConvCallGeometry p = Geometry(k);
  REQUIRE(WinogradConv3x3::Suits(p));
  const std::vector<float> x = test::RandomFloats(p.batch * p.in_channels * p.in_size, 1);
  const std::vector<float> w = test::RandomFloats(p.out_channels * p.in_channels * 9, 2);
  const std::vector<float> b = test::RandomFloats(p.out_channels, 3);
  const float* bias = with_bias ? b.data() : nullptr;
  WinogradConv3x3 conv;
  conv.Pack(w.data(), p.out_channels, p.in_channels, tile);
  REQUIRE(conv.packed());
  std::vector<float> y(static_cast<size_t>(p.batch * p.out_channels * p.out_size), -7.0f);
  conv.Run(p, x.data(), bias, act, y.data(), pool);
  const std::vector<float> ref = Direct(p, x, w, bias, act);
  float scale = 0.0f, worst = 0.0f;
  size_t worst_at = 0;
  for (size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, std::fabs(ref[i]));
  for (size_t i = 0; i < ref.size(); ++i) {
    const float err = std::fabs(y[i] - ref[i]);
    if (!(err <= worst)) {
      worst = err;
      worst_at = i;
    }
  }
  INFO("tile " << conv.tile() << " batch " << k.batch << " C " << k.c << " M " << k.m << " " << k.h << "x" << k.w
               << " pads " << k.pad_top << "," << k.pad_left << "," << k.pad_bottom << "," << k.pad_right
               << " threads " << pool.threads() << " worst at " << worst_at << ": " << y[worst_at] << " vs "
               << ref[worst_at]);
  CHECK(worst <= 1e-4f * std::max(1.0f, scale));
}

Activation Act(ActKind kind, float a = 0.0f, float b = 0.0f) {
  Activation act;
  act.kind = kind;
  act.a = a;
  act.b = b;
  return act;
}

const Case kCases[] = {
    {1, 8, 8, 7, 7, 1, 1, 1, 1},    {2, 5, 7, 13, 13, 1, 1, 1, 1},  {1, 20, 33, 5, 9, 0, 0, 0, 0},
    {1, 3, 4, 5, 9, 1, 1, 1, 1},    {2, 17, 18, 9, 5, 0, 1, 1, 0},  {1, 16, 16, 11, 14, 2, 0, 1, 2},
    {1, 12, 9, 3, 3, 0, 0, 0, 0},   {1, 6, 10, 1, 1, 1, 1, 1, 1},   {2, 24, 40, 30, 37, 1, 1, 1, 1},
    {1, 64, 64, 56, 56, 1, 1, 1, 1}, {3, 9, 11, 21, 6, 1, 2, 0, 1},
};

}  // namespace

TEST_CASE("Winograd 3x3 matches the direct convolution", "[cpu][winograd]") {
  ThreadPool one(1), two(2);
  for (int tile : {2, 4}) {
    for (const Case& k : kCases) {
      Check(k, tile, true, Activation(), one);
      Check(k, tile, false, Activation(), two);
    }
  }
}

TEST_CASE("Winograd 3x3 applies the fused activation", "[cpu][winograd]") {
  ThreadPool two(2);
  const Case k{2, 10, 12, 13, 11, 1, 1, 1, 1};
  for (int tile : {2, 4}) {
    Check(k, tile, true, Act(ActKind::kRelu), two);
    Check(k, tile, true, Act(ActKind::kClip, -0.5f, 0.75f), two);
    Check(k, tile, false, Act(ActKind::kClip, -std::numeric_limits<float>::infinity(), 0.25f), two);
    Check(k, tile, true, Act(ActKind::kLeakyRelu, 0.1f), two);
    Check(k, tile, true, Act(ActKind::kSigmoid), two);
  }
}

TEST_CASE("Winograd 3x3 gives the same results on every instruction-set level", "[cpu][winograd]") {
  ThreadPool two(2);
  const Case cases[] = {{1, 16, 24, 23, 29, 1, 1, 1, 1}, {2, 7, 5, 6, 17, 0, 1, 2, 0}, {1, 8, 8, 7, 7, 1, 1, 1, 1},
                        {1, 6, 10, 1, 1, 1, 1, 1, 1},    {1, 5, 9, 5, 9, 2, 0, 1, 2}, {1, 4, 4, 40, 3, 0, 2, 0, 2}};
  for (SgemmIsa isa : {SgemmIsa::kPortable, SgemmIsa::kAvx2, SgemmIsa::kAvx512}) {
    if (!ForceSgemmIsa(isa)) continue;
    INFO("isa " << SgemmIsaName(isa));
    for (int tile : {2, 4}) {
      for (const Case& k : cases) Check(k, tile, true, Act(ActKind::kRelu), two);
    }
  }
  ResetSgemmIsa();
}

TEST_CASE("Winograd 3x3 spreads blocks or block steps over the pool", "[cpu][winograd]") {
  // Batch 1 with few tiles runs each block across the pool; batch 8 has enough blocks to run them in parallel.
  ThreadPool two(2);
  Check({1, 32, 48, 14, 14, 1, 1, 1, 1}, 4, true, Act(ActKind::kRelu), two);
  Check({1, 40, 24, 7, 7, 1, 1, 1, 1}, 4, true, Activation(), two);
  Check({8, 32, 48, 14, 14, 1, 1, 1, 1}, 4, true, Activation(), two);
  Check({8, 48, 32, 7, 7, 1, 1, 1, 1}, 2, false, Act(ActKind::kClip, 0.0f, 6.0f), two);
}

TEST_CASE("Winograd 3x3 suits only 3x3 stride-1 single-group 2-D convolutions", "[cpu][winograd]") {
  ConvCallGeometry p = Geometry({1, 4, 4, 8, 8, 1, 1, 1, 1});
  CHECK(WinogradConv3x3::Suits(p));
  ConvCallGeometry strided = p;
  strided.stride[1] = 2;
  CHECK_FALSE(WinogradConv3x3::Suits(strided));
  ConvCallGeometry dilated = p;
  dilated.dilation[0] = 2;
  CHECK_FALSE(WinogradConv3x3::Suits(dilated));
  ConvCallGeometry grouped = p;
  grouped.group = 2;
  CHECK_FALSE(WinogradConv3x3::Suits(grouped));
  ConvCallGeometry five = p;
  five.kernel[0] = 5;
  CHECK_FALSE(WinogradConv3x3::Suits(five));
  ConvCallGeometry three_d = p;
  three_d.n = 3;
  CHECK_FALSE(WinogradConv3x3::Suits(three_d));
}

namespace {

// Conv (or FusedConv with `activation`) through the op registry, as a graph would run it: W is a constant, so
// the kernel packs the Winograd weights at load time.
std::vector<float> RunConvOp(const Case& k, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, const std::string& activation,
                             const std::vector<float>& params, bool same_upper) {
  SingleOp op;
  op.op_type = "Conv";
  op.opset = 13;
  if (!activation.empty()) {
    op.op_type = "FusedConv";
    op.domain = "com.edgeai";
    op.attrs.Set("activation", test::StringAttr(activation));
    op.attrs.Set("activation_params", test::FloatsAttr(params));
  }
  if (same_upper) {
    op.attrs.Set("auto_pad", test::StringAttr("SAME_UPPER"));
  } else {
    op.attrs.Set("pads", test::IntsAttr({k.pad_top, k.pad_left, k.pad_bottom, k.pad_right}));
  }
  const std::vector<Tensor> inputs = {Tensor::FromVector(Shape{k.batch, k.c, k.h, k.w}, x),
                                      Tensor::FromVector(Shape{k.m, k.c, 3, 3}, w),
                                      Tensor::FromVector(Shape{k.m}, b)};
  auto out = RunSingleOp(CpuOpRegistry(), op, inputs, 1, test::TestPool());
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  const Tensor& y = (*out)[0];
  return std::vector<float>(y.data<float>(), y.data<float>() + y.NumElements());
}

}  // namespace

TEST_CASE("Conv and FusedConv take the Winograd path where it pays", "[cpu][winograd]") {
  if (!WinogradConv3x3::Enabled()) return;  // EDGEAI_WINOGRAD=0 in the environment
  struct OpCase {
    Case k;
    const char* activation;
    std::vector<float> params;
    Activation act;
    bool same_upper;
  };
  const OpCase cases[] = {
      {{1, 16, 24, 20, 20, 1, 1, 1, 1}, "", {}, Activation(), false},                     // F(4x4)
      {{2, 32, 16, 9, 9, 0, 1, 1, 0}, "Relu", {}, Act(ActKind::kRelu), false},            // F(2x2): 8x8 out
      {{1, 16, 16, 15, 15, 1, 1, 1, 1}, "Clip", {0.0f, 6.0f}, Act(ActKind::kClip, 0.0f, 6.0f), true},
      {{3, 20, 17, 14, 11, 1, 1, 1, 1}, "LeakyRelu", {0.2f}, Act(ActKind::kLeakyRelu, 0.2f), false},
  };
  for (const OpCase& c : cases) {
    const ConvCallGeometry p = Geometry(c.k);
    INFO("case " << c.k.batch << "x" << c.k.c << "x" << c.k.h << "x" << c.k.w << " -> " << c.k.m << " '"
                 << c.activation << "'");
    const std::vector<float> x = test::RandomFloats(p.batch * p.in_channels * p.in_size, 4);
    const std::vector<float> w = test::RandomFloats(p.out_channels * p.in_channels * 9, 5);
    const std::vector<float> b = test::RandomFloats(p.out_channels, 6);
    const std::vector<float> y = RunConvOp(c.k, x, w, b, c.activation, c.params, c.same_upper);
    const std::vector<float> ref = Direct(p, x, w, b.data(), c.act);
    REQUIRE(y.size() == ref.size());
    // The op's result is the Winograd one, bit for bit (the GEMM path would round differently)...
    WinogradConv3x3 conv;
    conv.Pack(w.data(), p.out_channels, p.in_channels, WinogradConv3x3::TileFor(p.out_size));
    REQUIRE(conv.Pays(p));
    std::vector<float> direct_winograd(y.size());
    conv.Run(p, x.data(), b.data(), c.act, direct_winograd.data(), test::TestPool());
    CHECK(y == direct_winograd);
    // ... and the convolution's.
    float worst = 0.0f;
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(y[i] - ref[i]));
    CHECK(worst <= 1e-4f * 10.0f);
  }
}

TEST_CASE("Winograd pays from 16 channels and 16 tiles", "[cpu][winograd]") {
  if (!WinogradConv3x3::Enabled()) return;
  CHECK(WinogradConv3x3::TileFor(0) == 4);
  CHECK(WinogradConv3x3::TileFor(56 * 56) == 4);
  CHECK(WinogradConv3x3::TileFor(7 * 7) == 2);
  const std::vector<float> w = test::RandomFloats(32 * 16 * 9, 7);
  WinogradConv3x3 f4, f2;
  f4.Pack(w.data(), 32, 16, 4);
  f2.Pack(w.data(), 32, 16, 2);
  CHECK(f4.Pays(Geometry({1, 16, 32, 56, 56, 1, 1, 1, 1})));
  CHECK_FALSE(f4.Pays(Geometry({1, 16, 32, 7, 7, 1, 1, 1, 1})));  // 4 tiles
  CHECK(f4.Pays(Geometry({4, 16, 32, 7, 7, 1, 1, 1, 1})));
  CHECK(f2.Pays(Geometry({1, 16, 32, 7, 7, 1, 1, 1, 1})));
  const std::vector<float> thin = test::RandomFloats(32 * 8 * 9, 8);
  WinogradConv3x3 narrow;
  narrow.Pack(thin.data(), 32, 8, 4);
  CHECK_FALSE(narrow.Pays(Geometry({1, 8, 32, 56, 56, 1, 1, 1, 1})));
}
