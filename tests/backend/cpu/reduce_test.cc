#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::CheckValues;
using test::IntAttr;
using test::IntsAttr;
using test::RunOp;

AttributeMap Attrs(std::vector<int64_t> axes, int64_t keepdims = 1) {
  AttributeMap a;
  a.Set("axes", IntsAttr(std::move(axes)));
  a.Set("keepdims", IntAttr(keepdims));
  return a;
}

// A [2,3,4] tensor with mixed signs; expected values below come from numpy.
const std::vector<float> kX = {-1, -3, 0, -3, 1, 5, -2, 2, 1, -1, 1, 4, 5, 3, 5, -1, -2, -1, 4, 0, 2, -2, 2, 0};
Tensor X() { return Tensor::FromVector<float>(Shape{2, 3, 4}, kX); }

template <typename T>
Tensor XAs(double scale = 1) {
  std::vector<T> v;
  for (float f : kX) v.push_back(static_cast<T>(f * scale));
  return Tensor::FromVector<T>(Shape{2, 3, 4}, v);
}

}  // namespace

TEST_CASE("ReduceMean and ReduceSum with attribute axes", "[cpu][reduce]") {
  auto out = RunOp("ReduceMean", 13, Attrs({-1}), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 3, 1}, {-1.75f, 1.5f, 1.25f, 3, 0.25f, 0.5f});
  out = RunOp("ReduceSum", 11, Attrs({0, 2}, 0), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{3}, {5, 7, 7});
  // No axes: everything.
  out = RunOp("ReduceSum", 1, AttributeMap(), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 1}, {19});
}

TEST_CASE("ReduceSum 13 and opset-18 reductions take axes as an input", "[cpu][reduce]") {
  Tensor axes = Tensor::FromVector<int64_t>(Shape{2}, {0, -1});
  auto out = RunOp("ReduceSum", 13, Attrs({}, 0), {X(), axes});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{3}, {5, 7, 7});
  out = RunOp("ReduceMean", 18, AttributeMap(), {X(), Tensor::FromVector<int64_t>(Shape{1}, {2})});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 3, 1}, {-1.75f, 1.5f, 1.25f, 3, 0.25f, 0.5f});

  // Empty or absent axes reduce everything, unless noop_with_empty_axes makes the op an identity.
  Tensor empty = Tensor::FromVector<int64_t>(Shape{0}, {});
  out = RunOp("ReduceSum", 13, AttributeMap(), {X(), empty});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 1}, {19});
  out = RunOp("ReduceSum", 13, AttributeMap(), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 1}, {19});
  AttributeMap noop;
  noop.Set("noop_with_empty_axes", IntAttr(1));
  out = RunOp("ReduceSumSquare", 18, noop, {X(), empty});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 3, 4}, kX);
}

TEST_CASE("Reduce kinds on kept and reduced innermost axes", "[cpu][reduce]") {
  auto out = RunOp("ReduceMax", 13, Attrs({1}, 0), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 4}, {1, 5, 1, 4, 5, 3, 5, 0});
  out = RunOp("ReduceMin", 13, Attrs({0, 2}), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 3, 1}, {-3, -2, -2});
  out = RunOp("ReduceProd", 13, Attrs({0}, 0), {XAs<int32_t>()});
  REQUIRE(out.ok());
  CheckValues<int32_t>((*out)[0], Shape{3, 4}, {-5, -9, 0, 3, -2, -5, -8, 0, 2, 2, 2, 0});
  out = RunOp("ReduceL1", 13, Attrs({1}, 0), {X()});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 4}, {3, 9, 3, 9, 9, 6, 11, 1});
  out = RunOp("ReduceL2", 13, Attrs({2}, 0), {XAs<double>()});
  REQUIRE(out.ok());
  CheckValues<double>((*out)[0], Shape{2, 3}, {4.358899, 5.830952, 4.358899, 7.745967, 4.582576, 3.464102});
  out = RunOp("ReduceSumSquare", 13, Attrs({0}, 0), {XAs<int64_t>()});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{3, 4}, {26, 18, 25, 10, 5, 26, 20, 4, 5, 5, 5, 16});
  std::vector<float> abs_x;
  for (float f : kX) abs_x.push_back(std::fabs(f));
  out = RunOp("ReduceLogSum", 13, AttributeMap(), {Tensor::FromVector<float>(Shape{2, 3, 4}, abs_x)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{1, 1, 1}, {3.931826f});
  out = RunOp("ReduceMax", 13, Attrs({2}, 0), {XAs<int8_t>()});
  REQUIRE(out.ok());
  CheckValues<int8_t>((*out)[0], Shape{2, 3}, {0, 5, 4, 5, 4, 2});
}

TEST_CASE("ReduceLogSumExp is stable for large values", "[cpu][reduce]") {
  // exp(500) overflows double only after subtracting nothing; the max shift keeps it finite.
  auto out = RunOp("ReduceLogSumExp", 13, Attrs({2}, 0), {XAs<double>(100)});
  REQUIRE(out.ok());
  CheckValues<double>((*out)[0], Shape{2, 3}, {0, 500, 400, 500.6931472, 400, 200.6931472});
  out = RunOp("ReduceLogSumExp", 13, Attrs({1}, 0), {XAs<float>(100)});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2, 4}, {100.6931f, 500, 100, 400, 500, 300, 500, 0.6931472f});
  const float inf = std::numeric_limits<float>::infinity();
  out = RunOp("ReduceLogSumExp", 13, Attrs({0}, 0),
            {Tensor::FromVector<float>(Shape{2, 2}, {-inf, 1, -inf, inf})});
  REQUIRE(out.ok());
  CHECK((*out)[0].data<float>()[0] == -inf);
  CHECK((*out)[0].data<float>()[1] == inf);
}

TEST_CASE("Reductions over large shapes match a direct sum", "[cpu][reduce]") {
  // The transformer case: ReduceMean over the last axis of [1,128,256].
  std::vector<float> x(128 * 256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01f * static_cast<float>(i)) * 3.0f;
  auto out = RunOp("ReduceMean", 13, Attrs({-1}), {Tensor::FromVector<float>(Shape{1, 128, 256}, x)});
  REQUIRE(out.ok());
  REQUIRE((*out)[0].shape() == Shape{1, 128, 1});
  for (int r = 0; r < 128; ++r) {
    double sum = 0;
    for (int c = 0; c < 256; ++c) sum += x[r * 256 + c];
    CHECK((*out)[0].data<float>()[r] == Approx(sum / 256).margin(1e-5));
  }
  // Kept innermost axis wider than one column chunk, with reduced axes on both sides of a kept one.
  std::vector<double> y(3 * 5 * 2 * 300);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<double>((i * 7919) % 1000) - 500;
  out = RunOp("ReduceSum", 11, Attrs({0, 2}, 0), {Tensor::FromVector<double>(Shape{3, 5, 2, 300}, y)});
  REQUIRE(out.ok());
  REQUIRE((*out)[0].shape() == Shape{5, 300});
  for (int b = 0; b < 5; ++b) {
    for (int d = 0; d < 300; ++d) {
      double sum = 0;
      for (int a = 0; a < 3; ++a) {
        for (int c = 0; c < 2; ++c) sum += y[((a * 5 + b) * 2 + c) * 300 + d];
      }
      CHECK((*out)[0].data<double>()[b * 300 + d] == sum);
    }
  }
}

TEST_CASE("Reductions over empty axes give the identity", "[cpu][reduce]") {
  Tensor x = Tensor::FromVector<float>(Shape{2, 0}, {});
  auto out = RunOp("ReduceSum", 11, Attrs({1}, 0), {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2}, {0, 0});
  out = RunOp("ReduceProd", 11, Attrs({1}, 0), {x});
  REQUIRE(out.ok());
  CheckValues<float>((*out)[0], Shape{2}, {1, 1});
  out = RunOp("ReduceMax", 11, Attrs({1}, 0), {x});
  REQUIRE(out.ok());
  CHECK((*out)[0].data<float>()[0] == -std::numeric_limits<float>::infinity());
}

TEST_CASE("Reductions reject bad axes", "[cpu][reduce]") {
  auto out = RunOp("ReduceMean", 13, Attrs({3}), {X()});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("axis 3 is out of range for rank 3") != std::string::npos);
  CHECK(out.status().message().find("ReduceMean node 'test'") != std::string::npos);
  out = RunOp("ReduceSum", 13, AttributeMap(), {X(), Tensor::FromVector<float>(Shape{1}, {0})});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("1-D int64") != std::string::npos);
  out = RunOp("ReduceMean", 13, AttributeMap(), {Tensor::FromVector<bool>(Shape{1}, {true})});
  CHECK_FALSE(out.ok());
}

TEST_CASE("ArgMax and ArgMin with keepdims and select_last_index", "[cpu][reduce][argmax]") {
  AttributeMap a;
  a.Set("axis", IntAttr(1));
  a.Set("keepdims", IntAttr(0));
  auto out = RunOp("ArgMax", 13, a, {X()});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{2, 4}, {1, 1, 2, 2, 0, 0, 0, 1});
  a.Set("select_last_index", IntAttr(1));
  out = RunOp("ArgMax", 13, a, {X()});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{2, 4}, {2, 1, 2, 2, 0, 0, 0, 2});

  AttributeMap b;
  b.Set("axis", IntAttr(-1));
  out = RunOp("ArgMin", 11, b, {XAs<int32_t>()});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{2, 3, 1}, {1, 2, 1, 3, 0, 1});
  b.Set("select_last_index", IntAttr(1));
  out = RunOp("ArgMin", 12, b, {X()});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{2, 3, 1}, {3, 2, 1, 3, 0, 1});
  // Default axis 0.
  out = RunOp("ArgMax", 1, AttributeMap(), {Tensor::FromVector<double>(Shape{3}, {1, 7, 7})});
  REQUIRE(out.ok());
  CheckValues<int64_t>((*out)[0], Shape{1}, {1});

  b.Set("axis", IntAttr(3));
  out = RunOp("ArgMin", 13, b, {X()});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("axis 3 is out of range") != std::string::npos);
}

TEST_CASE("Reduce inference handles unknown dims and runtime axes", "[cpu][reduce]") {
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{2, 1, -1});
  ValueType axes = ValueType::Of(DataType::kInt64, Shape{1});
  auto def = CpuOpRegistry().Find("", "ReduceSum", 13, {DataType::kFloat32, DataType::kInt64});
  REQUIRE(def.ok());
  AttributeMap keep;
  InferenceContext ctx("r", "ReduceSum", 13, keep, {&x, &axes}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).ToString() == "float32[?,1,?]");
  AttributeMap drop;
  drop.Set("keepdims", IntAttr(0));
  InferenceContext ctx2("r", "ReduceSum", 13, drop, {&x, &axes}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx2).ok());
  CHECK_FALSE(ctx2.output(0).rank_known);
  Tensor axes_value = Tensor::FromVector<int64_t>(Shape{1}, {0});
  InferenceContext ctx3("r", "ReduceSum", 13, drop, {&x, &axes}, {nullptr, &axes_value}, 1);
  REQUIRE((*def)->infer(ctx3).ok());
  CHECK(ctx3.output(0).ToString() == "float32[1,?]");

  auto mdef = CpuOpRegistry().Find("", "ReduceMean", 13, {DataType::kFloat32});
  REQUIRE(mdef.ok());
  ValueType y = ValueType::Of(DataType::kFloat32, Shape{-1, 7, 3});
  AttributeMap attrs = Attrs({1}, 0);
  InferenceContext ctx4("r", "ReduceMean", 13, attrs, {&y}, {nullptr}, 1);
  REQUIRE((*mdef)->infer(ctx4).ok());
  CHECK(ctx4.output(0).ToString() == "float32[?,3]");

  auto adef = CpuOpRegistry().Find("", "ArgMax", 13, {DataType::kFloat32});
  REQUIRE(adef.ok());
  AttributeMap arg;
  arg.Set("axis", IntAttr(-1));
  arg.Set("keepdims", IntAttr(0));
  InferenceContext ctx5("a", "ArgMax", 13, arg, {&y}, {nullptr}, 1);
  REQUIRE((*adef)->infer(ctx5).ok());
  CHECK(ctx5.output(0).ToString() == "int64[?,7]");
}
