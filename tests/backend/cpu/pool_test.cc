#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::CheckValues;
using test::IntAttr;
using test::IntsAttr;
using test::StringAttr;

std::vector<float> Iota(int64_t n, float start) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

Result<std::vector<Tensor>> Run(const std::string& op, AttributeMap attrs, std::vector<Tensor> inputs,
                                size_t num_outputs = 1, int opset = 12) {
  return test::RunOp(op, opset, attrs, inputs, num_outputs);
}

cpu::SpatialGeometry Geometry(std::vector<int64_t> in, std::vector<int64_t> k, cpu::WindowAttrs w) {
  cpu::SpatialGeometry geo;
  Status s = cpu::ComputePoolGeometry(in.data(), k.data(), in.size(), w, &geo);
  REQUIRE(s.ok());
  return geo;
}

// The 1x2x3x5 input shared by several 2-D cases; expected values come from a brute-force numpy reference.
const std::vector<float> kX235 = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9,
                                  3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7};

}  // namespace

TEST_CASE("Pool geometry follows the ONNX output-size rules", "[cpu][pool][conv_geometry]") {
  cpu::WindowAttrs w;
  w.strides = {2};
  w.pads = {1, 1};
  auto g = Geometry({5}, {2}, w);
  CHECK(g.output[0] == 3);  // floor((5+2-2)/2)+1
  w.ceil_mode = true;
  g = Geometry({5}, {2}, w);
  CHECK(g.output[0] == 3);  // ceil gives 4, but the 4th window would start in the end padding
  g = Geometry({6}, {3}, w);
  CHECK(g.output[0] == 4);  // ceil((6+2-3)/2)+1, last window starts inside the input
  w.pads.clear();
  w.strides = {1};
  w.dilations = {2};
  w.ceil_mode = false;
  CHECK(Geometry({7}, {3}, w).output[0] == 3);  // extent 5

  cpu::WindowAttrs same;
  same.strides = {2, 2};
  same.auto_pad = cpu::AutoPad::kSameUpper;
  g = Geometry({6, 5}, {3, 3}, same);
  CHECK(g.output == Shape{3, 3});
  CHECK(g.pad_begin == Shape{0, 1});
  CHECK(g.pad_end == Shape{1, 1});
  same.auto_pad = cpu::AutoPad::kSameLower;
  g = Geometry({6, 5}, {3, 3}, same);
  CHECK(g.pad_begin == Shape{1, 1});
  CHECK(g.pad_end == Shape{0, 1});
  g = Geometry({-1, 5}, {3, 3}, same);
  CHECK(g.output == Shape{-1, 3});
  CHECK(g.pad_begin[0] == -1);

  cpu::WindowAttrs valid;
  valid.auto_pad = cpu::AutoPad::kValid;
  valid.strides = {3};
  valid.pads = {4, 4};  // ignored under auto_pad
  g = Geometry({10}, {2}, valid);
  CHECK(g.output[0] == 3);
  CHECK(g.pad_begin[0] == 0);
}

TEST_CASE("Pool geometry rejects bad attributes", "[cpu][pool][conv_geometry]") {
  AttributeMap attrs;
  cpu::WindowAttrs w;
  attrs.Set("auto_pad", StringAttr("SAME"));
  Status s = cpu::ParseWindowAttrs(attrs, &w);
  CHECK(s.message().find("auto_pad 'SAME'") != std::string::npos);
  attrs = AttributeMap();
  attrs.Set("strides", IntsAttr({1, 0}));
  CHECK(cpu::ParseWindowAttrs(attrs, &w).message().find("strides [1,0] must be positive") != std::string::npos);
  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  attrs.Set("pads", IntsAttr({1, 1, 1}));
  CHECK_FALSE(cpu::ParseWindowAttrs(attrs, &w).ok());
  attrs.Set("pads", IntsAttr({1, 1}));
  CHECK(cpu::ParseWindowAttrs(attrs, &w).message().find("expected 4") != std::string::npos);

  cpu::WindowAttrs big;
  std::vector<int64_t> in = {3}, k = {5};
  cpu::SpatialGeometry geo;
  s = cpu::ComputePoolGeometry(in.data(), k.data(), 1, big, &geo);
  CHECK(s.message().find("smaller than the window extent 5") != std::string::npos);
  big.strides = {1, 1};
  s = cpu::ComputePoolGeometry(in.data(), k.data(), 1, big, &geo);
  CHECK_FALSE(s.ok());
}

TEST_CASE("MaxPool 2-D with pads, strides and Indices in both storage orders", "[cpu][pool]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({2, 3}));
  attrs.Set("strides", IntsAttr({2, 2}));
  attrs.Set("pads", IntsAttr({1, 1, 0, 1}));
  auto out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 2, 3, 5}, kX235)}, 2);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 2, 3}, {3, 4, 5, 9, 9, 9, 3, 8, 8, 8, 8, 7});
  CheckValues<int64_t>((*out)[1], Shape{1, 2, 2, 3}, {0, 2, 4, 5, 12, 14, 15, 18, 18, 26, 26, 29});

  attrs.Set("storage_order", IntAttr(1));
  out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 2, 3, 5}, kX235)}, 2);
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[1], Shape{1, 2, 2, 3}, {0, 6, 12, 1, 8, 14, 15, 24, 24, 20, 20, 29});

  // Without the Indices output (opset 1 form).
  out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 2, 3, 5}, kX235)}, 1, 1);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 2, 3}, {3, 4, 5, 9, 9, 9, 3, 8, 8, 8, 8, 7});
}

TEST_CASE("MaxPool ceil_mode, dilations and auto_pad", "[cpu][pool]") {
  Tensor x = Tensor::FromVector<float>(Shape{1, 1, 4, 4}, Iota(16, 1));
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({3, 3}));
  attrs.Set("strides", IntsAttr({2, 2}));
  attrs.Set("ceil_mode", IntAttr(1));
  auto out = Run("MaxPool", attrs, {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 2, 2}, {11, 12, 15, 16});

  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  attrs.Set("dilations", IntsAttr({2, 2}));
  out = Run("MaxPool", attrs, {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 2, 2}, {11, 12, 15, 16});

  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 3}));
  attrs.Set("strides", IntsAttr({1, 2}));
  attrs.Set("pads", IntsAttr({0, 1, 1, 1}));
  attrs.Set("dilations", IntsAttr({1, 2}));
  attrs.Set("ceil_mode", IntAttr(1));
  out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 2, 3, 5}, kX235)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 3, 2}, {5, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8});

  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    attrs = AttributeMap();
    attrs.Set("kernel_shape", IntsAttr({3, 3}));
    attrs.Set("strides", IntsAttr({2, 2}));
    attrs.Set("auto_pad", StringAttr(mode));
    out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 5, 5}, Iota(25, 1))});
    REQUIRE(out.ok());
    CheckValues<float>((*out)[0], Shape{1, 1, 3, 3}, {7, 9, 10, 17, 19, 20, 22, 24, 25});
  }
}

TEST_CASE("MaxPool 1-D, 3-D and integer inputs", "[cpu][pool]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({3}));
  attrs.Set("strides", IntsAttr({2}));
  attrs.Set("pads", IntsAttr({1, 1}));
  auto out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 7}, {2, -1, 5, 3, 0, 4, -2})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 4}, {2, 5, 4, 4});

  // Alternating signs so that padding (if it were counted as 0) would win some windows.
  std::vector<float> x3(27);
  for (int i = 0; i < 27; ++i) x3[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i);
  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 2, 2}));
  out = Run("MaxPool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 3, 3, 3}, x3)}, 2);
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 2, 2, 2}, {12, 14, 16, 16, 22, 22, 24, 26});
  CheckValues<int64_t>((*out)[1], Shape{1, 1, 2, 2, 2}, {12, 14, 16, 16, 22, 22, 24, 26});

  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2}));
  attrs.Set("pads", IntsAttr({1, 0}));
  out = Run("MaxPool", attrs, {Tensor::FromVector<int8_t>(Shape{1, 1, 3}, {-5, -7, 3})});
  REQUIRE(out.ok());
  CheckValues<int8_t>((*out)[0], Shape{1, 1, 3}, {-5, -5, 3});
}

TEST_CASE("AveragePool counts only real elements unless count_include_pad", "[cpu][pool]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({2, 3}));
  attrs.Set("strides", IntsAttr({2, 2}));
  attrs.Set("pads", IntsAttr({1, 1, 0, 1}));
  Tensor x = Tensor::FromVector<float>(Shape{1, 2, 3, 5}, kX235);
  auto out = Run("AveragePool", attrs, {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 2, 3},
                     {2, 2, 3, 6, 6.166667f, 6, 2.5f, 4.333333f, 6, 4.75f, 4.166667f, 4});
  attrs.Set("count_include_pad", IntAttr(1));
  out = Run("AveragePool", attrs, {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 2, 3},
                     {0.6666667f, 1, 1, 4, 6.166667f, 4, 0.8333333f, 2.166667f, 2, 3.166667f, 4.166667f, 2.666667f});

  // ceil_mode: the overhanging part of the last window beyond the end padding is not counted either.
  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 3}));
  attrs.Set("strides", IntsAttr({1, 2}));
  attrs.Set("pads", IntsAttr({0, 1, 1, 1}));
  attrs.Set("ceil_mode", IntAttr(1));
  attrs.Set("count_include_pad", IntAttr(1));
  out = Run("AveragePool", attrs, {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 2, 3, 3},
                     {2.5f, 3.166667f, 2.333333f, 4, 6.166667f, 4, 2.166667f, 4, 2.666667f, 2.166667f, 4.166667f,
                      3.166667f, 3.166667f, 4.166667f, 2.666667f, 1.833333f, 2.166667f, 1.5f});

  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  attrs.Set("auto_pad", StringAttr("SAME_LOWER"));
  out = Run("AveragePool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 4, 6}, Iota(24, 1))});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 4, 6},
                     {1,  1.5f,  2.5f,  3.5f,  4.5f,  5.5f,  4,  4.5f,  5.5f,  6.5f,  7.5f,  8.5f,
                      10, 10.5f, 11.5f, 12.5f, 13.5f, 14.5f, 16, 16.5f, 17.5f, 18.5f, 19.5f, 20.5f});
  attrs.Set("auto_pad", StringAttr("SAME_UPPER"));
  out = Run("AveragePool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 4, 6}, Iota(24, 1))});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 4, 6},
                     {4.5f,  5.5f,  6.5f,  7.5f,  8.5f,  9,  10.5f, 11.5f, 12.5f, 13.5f, 14.5f, 15,
                      16.5f, 17.5f, 18.5f, 19.5f, 20.5f, 21, 19.5f, 20.5f, 21.5f, 22.5f, 23.5f, 24});
}

TEST_CASE("AveragePool 1-D and 3-D, float64", "[cpu][pool]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({3}));
  attrs.Set("strides", IntsAttr({2}));
  attrs.Set("pads", IntsAttr({1, 1}));
  attrs.Set("count_include_pad", IntAttr(1));
  auto out = Run("AveragePool", attrs, {Tensor::FromVector<double>(Shape{1, 1, 7}, {2, -1, 5, 3, 0, 4, -2})});
  REQUIRE(out.ok());
  CheckValues<double>((*out)[0], Shape{1, 1, 4}, {1.0 / 3, 7.0 / 3, 7.0 / 3, 2.0 / 3});

  std::vector<float> x3(27);
  for (int i = 0; i < 27; ++i) x3[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i);
  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({2, 2, 2}));
  attrs.Set("strides", IntsAttr({2, 2, 2}));
  attrs.Set("pads", IntsAttr({0, 0, 0, 1, 1, 1}));
  out = Run("AveragePool", attrs, {Tensor::FromVector<float>(Shape{1, 1, 3, 3, 3}, x3)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 2, 2, 2}, {0, 0, 0, -4.5f, 0, -1.5f, -0.5f, 26});
}

TEST_CASE("Global pools reduce every spatial axis", "[cpu][pool]") {
  std::vector<float> x = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  auto out = Run("GlobalAveragePool", {}, {Tensor::FromVector<float>(Shape{2, 2, 3}, x)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 2, 1}, {2, 5, -2, -5});
  out = Run("GlobalMaxPool", {}, {Tensor::FromVector<float>(Shape{1, 3, 2, 2}, x)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 3, 1, 1}, {4, 6, -3});
  // Large planes exercise the lane-split reduction and the parallel split.
  std::vector<double> big(3 * 1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i % 1000);
  auto outd = Run("GlobalAveragePool", {}, {Tensor::FromVector<double>(Shape{1, 3, 10, 100}, big)});
  REQUIRE(outd.ok());
  CheckValues<double>((*outd)[0], Shape{1, 3, 1, 1}, {499.5, 499.5, 499.5});
}

TEST_CASE("Pool ops reject bad inputs and attributes", "[cpu][pool]") {
  Tensor x = Tensor::FromVector<float>(Shape{1, 1, 4, 4}, Iota(16, 1));
  auto out = Run("MaxPool", {}, {x});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("kernel_shape") != std::string::npos);

  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({2}));
  out = Run("MaxPool", attrs, {x});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("must have rank 3") != std::string::npos);

  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  attrs.Set("storage_order", IntAttr(2));
  out = Run("MaxPool", attrs, {x});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("storage_order") != std::string::npos);

  attrs = AttributeMap();
  attrs.Set("kernel_shape", IntsAttr({5, 5}));
  out = Run("AveragePool", attrs, {x});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("AveragePool node 'test'") != std::string::npos);

  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  out = Run("AveragePool", attrs, {Tensor::FromVector<int32_t>(Shape{1, 1, 2, 2}, {1, 2, 3, 4})});
  CHECK_FALSE(out.ok());
  out = Run("GlobalAveragePool", {}, {Tensor::FromVector<float>(Shape{3}, {1, 2, 3})});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("rank >= 2") != std::string::npos);
}

TEST_CASE("Pool inference handles unknown dims and ranks", "[cpu][pool]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({2, 2}));
  attrs.Set("strides", IntsAttr({2, 2}));
  auto def = CpuOpRegistry().Find("", "MaxPool", 12, {DataType::kFloat32});
  REQUIRE(def.ok());
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{-1, 3, -1, 8});
  InferenceContext ctx("p", "MaxPool", 12, attrs, {&x}, {nullptr}, 2);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).ToString() == "float32[?,3,?,4]");
  CHECK(ctx.output(1).ToString() == "int64[?,3,?,4]");

  ValueType unknown = ValueType::UnknownRank(DataType::kFloat32);
  InferenceContext ctx2("p", "MaxPool", 12, attrs, {&unknown}, {nullptr}, 1);
  REQUIRE((*def)->infer(ctx2).ok());
  CHECK_FALSE(ctx2.output(0).rank_known);

  auto gdef = CpuOpRegistry().Find("", "GlobalAveragePool", 1, {DataType::kFloat32});
  REQUIRE(gdef.ok());
  InferenceContext ctx3("g", "GlobalAveragePool", 1, AttributeMap(), {&x}, {nullptr}, 1);
  REQUIRE((*gdef)->infer(ctx3).ok());
  CHECK(ctx3.output(0).ToString() == "float32[?,3,1,1]");
}
