#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <random>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {
constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
}  // namespace

TEST_CASE("Concat joins along any axis", "[cpu][tensor_ops]") {
  Tensor a = Iota<float>(Shape{2, 2});
  Tensor b = F32(Shape{2, 3}, {10, 11, 12, 13, 14, 15});
  Tensor y = OpCall("Concat", 13).Attr("axis", IntAttr(1)).Run1({a, b});
  CHECK(y.shape() == Shape{2, 5});
  CHECK(Values<float>(y) == std::vector<float>{0, 1, 10, 11, 12, 2, 3, 13, 14, 15});
  CHECK(Values<float>(OpCall("Concat", 11).Attr("axis", IntAttr(-1)).Run1({a, b})) == Values<float>(y));
  // Opset 1-3 default the axis to 1.
  CHECK(OpCall("Concat", 1).Run1({a, b}).shape() == Shape{2, 5});
  Tensor c = I64(Shape{1, 2}, {7, 8});
  Tensor d = Iota<int64_t>(Shape{2, 2});
  Tensor e = I64(Shape{0, 2}, {});
  Tensor rows = OpCall("Concat", 13).Attr("axis", IntAttr(0)).Run1({c, e, d});
  CHECK(rows.shape() == Shape{3, 2});
  CHECK(Values<int64_t>(rows) == std::vector<int64_t>{7, 8, 0, 1, 2, 3});
  Tensor many = OpCall("Concat", 13)
                    .Attr("axis", IntAttr(1))
                    .Run1({Iota<float>(Shape{300, 2, 3}), Iota<float>(Shape{300, 1, 3})});
  CHECK(many.shape() == Shape{300, 3, 3});
  CHECK(many.data<float>()[299 * 9 + 8] == 299 * 3 + 2);
  CHECK(many.data<float>()[299 * 9 + 5] == 299 * 6 + 5);
}

TEST_CASE("Concat rejects mismatched inputs", "[cpu][tensor_ops]") {
  Tensor a = Iota<float>(Shape{2, 2});
  Tensor b = Iota<float>(Shape{3, 3});
  auto dims = OpCall("Concat", 13).Attr("axis", IntAttr(1)).Run({a, b});
  CHECK(dims.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(dims.status(), "dim 0"));
  CHECK(Contains(OpCall("Concat", 13).Run({a, a}).status(), "missing attribute 'axis'"));
  CHECK_FALSE(OpCall("Concat", 13).Attr("axis", IntAttr(2)).Run({a, a}).ok());
  CHECK_FALSE(OpCall("Concat", 13).Attr("axis", IntAttr(0)).Run({a, Iota<int64_t>(Shape{2, 2})}).ok());
  CHECK_FALSE(OpCall("Concat", 13).Attr("axis", IntAttr(0)).Run({a, Iota<float>(Shape{4})}).ok());

  auto partial =
      OpCall("Concat", 13)
          .Attr("axis", IntAttr(1))
          .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 2}), ValueType::Of(DataType::kFloat32, Shape{5, 3})},
                 {nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{5, 5});
}

TEST_CASE("Split into equal parts or given sizes", "[cpu][tensor_ops]") {
  Tensor x = Iota<float>(Shape{2, 6});
  auto equal = OpCall("Split", 13).Attr("axis", IntAttr(1)).Run({x}, 3);
  REQUIRE(equal.ok());
  CHECK((*equal)[0].shape() == Shape{2, 2});
  CHECK(Values<float>((*equal)[1]) == std::vector<float>{2, 3, 8, 9});
  auto sized = OpCall("Split", 13).Attr("axis", IntAttr(-1)).Run({x, I64s({1, 5})}, 2);
  REQUIRE(sized.ok());
  CHECK(Values<float>((*sized)[0]) == std::vector<float>{0, 6});
  CHECK(Values<float>((*sized)[1]) == std::vector<float>{1, 2, 3, 4, 5, 7, 8, 9, 10, 11});
  auto attr = OpCall("Split", 11).Attr("split", IntsAttr({1, 1})).Run({x}, 2);
  REQUIRE(attr.ok());
  CHECK(Values<float>((*attr)[1]) == std::vector<float>{6, 7, 8, 9, 10, 11});
  auto by_count =
      OpCall("Split", 18).Attr("num_outputs", IntAttr(4)).Attr("axis", IntAttr(1)).Run({Iota<float>(Shape{1, 7})}, 4);
  REQUIRE(by_count.ok());
  CHECK(Values<float>((*by_count)[3]) == std::vector<float>{6});
  CHECK((*by_count)[0].shape() == Shape{1, 2});

  auto uneven = OpCall("Split", 13).Attr("axis", IntAttr(1)).Run({x}, 4);
  CHECK(Contains(uneven.status(), "equal parts"));
  CHECK(Contains(OpCall("Split", 13).Attr("axis", IntAttr(1)).Run({x, I64s({2, 3})}, 2).status(), "sums to 5"));
  CHECK_FALSE(OpCall("Split", 13).Attr("axis", IntAttr(1)).Run({x, I64s({6})}, 2).ok());
  CHECK_FALSE(OpCall("Split", 13).Attr("axis", IntAttr(2)).Run({x}, 2).ok());
}

TEST_CASE("Slice with inputs, steps and clamping", "[cpu][tensor_ops]") {
  Tensor x = Iota<int32_t>(Shape{3, 4, 5});
  // numpy: x[1:1000, ::-2, -1:-6:-2]
  Tensor y = OpCall("Slice", 13)
                 .Run1({x, I64s({1, kIntMax, -1}), I64s({1000, kIntMin, -6}), I64s({0, 1, 2}), I64s({1, -2, -2})});
  CHECK(y.shape() == Shape{2, 2, 3});
  CHECK(Values<int32_t>(y) == std::vector<int32_t>{39, 37, 35, 29, 27, 25, 59, 57, 55, 49, 47, 45});
  // numpy: x[:, 3:0:-1, 1:4:2] with negative axes and int32 index inputs.
  auto i32 = [](std::vector<int32_t> v) { return Tensor::FromVector<int32_t>(Shape{int64_t(v.size())}, v); };
  Tensor z = OpCall("Slice", 13).Run1({x, i32({3, 1}), i32({0, 4}), i32({-2, -1}), i32({-1, 2})});
  CHECK(z.shape() == Shape{3, 3, 2});
  CHECK(Values<int32_t>(z) ==
        std::vector<int32_t>{16, 18, 11, 13, 6, 8, 36, 38, 31, 33, 26, 28, 56, 58, 51, 53, 46, 48});
  // Default axes and steps: x[-2:, 1:-1].
  Tensor w = OpCall("Slice", 10).Run1({x, I64s({-2, 1}), I64s({kIntMax, -1})});
  CHECK(w.shape() == Shape{2, 2, 5});
  CHECK(w.data<int32_t>()[0] == 25);
  CHECK(w.data<int32_t>()[19] == 54);
  // Out-of-range starts give empty dims.
  CHECK(OpCall("Slice", 13).Run1({x, I64s({7}), I64s({9}), I64s({2})}).shape() == Shape{3, 4, 0});
  CHECK(OpCall("Slice", 13).Run1({x, I64s({10}), I64s({20}), I64s({1}), I64s({-1})}).shape() == Shape{3, 0, 5});
  // Opset 1-9: attributes.
  Tensor v = OpCall("Slice", 9)
                 .Attr("starts", IntsAttr({1}))
                 .Attr("ends", IntsAttr({2}))
                 .Attr("axes", IntsAttr({1}))
                 .Run1({x});
  CHECK(v.shape() == Shape{3, 1, 5});
  CHECK(v.data<int32_t>()[5] == 25);
  Tensor reversed = OpCall("Slice", 13).Run1({x, I64s({-1}), I64s({kIntMin}), I64s({0}), I64s({-1})});
  CHECK(reversed.data<int32_t>()[0] == 40);
}

TEST_CASE("Slice rejects bad arguments and infers partial shapes", "[cpu][tensor_ops]") {
  Tensor x = Iota<float>(Shape{3, 4});
  CHECK(Contains(OpCall("Slice", 13).Run({x, I64s({0}), I64s({1}), I64s({0}), I64s({0})}).status(), "steps"));
  CHECK_FALSE(OpCall("Slice", 13).Run({x, I64s({0, 0}), I64s({1})}).ok());
  CHECK_FALSE(OpCall("Slice", 13).Run({x, I64s({0}), I64s({1}), I64s({2})}).ok());
  CHECK_FALSE(OpCall("Slice", 13).Run({x, I64s({0, 0}), I64s({1, 1}), I64s({1, -1})}).ok());
  CHECK_FALSE(OpCall("Slice", 9).Run({x}).ok());

  OpCall slice("Slice", 13);
  ValueType data = ValueType::Of(DataType::kFloat32, Shape{-1, 4, 6});
  ValueType one = ValueType::Of(DataType::kInt64, Shape{1});
  Tensor axes = I64s({2});
  auto unknown_bounds = slice.Infer({data, one, one, one}, {nullptr, nullptr, nullptr, &axes});
  REQUIRE(unknown_bounds.ok());
  CHECK((*unknown_bounds)[0].dims == Shape{-1, 4, -1});
  Tensor starts = I64s({1});
  Tensor ends = I64s({-1});
  auto known = slice.Infer({data, one, one, one}, {nullptr, &starts, &ends, &axes});
  REQUIRE(known.ok());
  CHECK((*known)[0].dims == Shape{-1, 4, 4});
  auto default_axes = slice.Infer({data, one, one}, {nullptr, nullptr, nullptr});
  REQUIRE(default_axes.ok());
  CHECK((*default_axes)[0].dims == Shape{-1, 4, 6});
}

TEST_CASE("Constant produces its attribute value", "[cpu][tensor_ops]") {
  Tensor value = I64(Shape{2, 2}, {1, 2, 3, 4});
  Tensor y = OpCall("Constant", 13).Attr("value", TensorAttr(value)).Run1({});
  CHECK(y.shape() == Shape{2, 2});
  CHECK(Values<int64_t>(y) == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(y.raw_data() != value.raw_data());
  Tensor f = OpCall("Constant", 13).Attr("value_floats", FloatsAttr({1.5f, 2.5f})).Run1({});
  CHECK(f.dtype() == DataType::kFloat32);
  CHECK(Values<float>(f) == std::vector<float>{1.5f, 2.5f});
  Tensor i = OpCall("Constant", 12).Attr("value_int", IntAttr(9)).Run1({});
  CHECK(i.shape() == Shape{});
  CHECK(Values<int64_t>(i) == std::vector<int64_t>{9});
  CHECK(Values<int64_t>(OpCall("Constant", 13).Attr("value_ints", IntsAttr({4, 5})).Run1({})) ==
        std::vector<int64_t>{4, 5});
  CHECK(Values<float>(OpCall("Constant", 13).Attr("value_float", FloatAttr(3)).Run1({})) == std::vector<float>{3});

  CHECK(Contains(OpCall("Constant", 13).Run({}).status(), "needs one of"));
  CHECK_FALSE(OpCall("Constant", 13).Attr("value_int", IntAttr(1)).Attr("value_float", FloatAttr(1)).Run({}).ok());
  CHECK(OpCall("Constant", 13).Attr("value_string", StringAttr("a")).Run({}).status().code() ==
        StatusCode::kUnimplemented);
}

TEST_CASE("ConstantOfShape fills with its value", "[cpu][tensor_ops]") {
  Tensor y = OpCall("ConstantOfShape", 9).Run1({I64s({2, 3})});
  CHECK(y.dtype() == DataType::kFloat32);
  CHECK(Values<float>(y) == std::vector<float>(6, 0.0f));
  Tensor seven = OpCall("ConstantOfShape", 9).Attr("value", TensorAttr(I64(Shape{1}, {7}))).Run1({I64s({3})});
  CHECK(Values<int64_t>(seven) == std::vector<int64_t>{7, 7, 7});
  Tensor scalar = OpCall("ConstantOfShape", 9).Attr("value", TensorAttr(F32(Shape{1}, {2.5f}))).Run1({I64s({})});
  CHECK(scalar.shape() == Shape{});
  CHECK(Values<float>(scalar) == std::vector<float>{2.5f});
  CHECK(OpCall("ConstantOfShape", 9).Run1({I64s({4, 0})}).NumElements() == 0);

  CHECK(Contains(OpCall("ConstantOfShape", 9).Run({I64s({2, -1})}).status(), "negative"));
  CHECK_FALSE(OpCall("ConstantOfShape", 9).Attr("value", TensorAttr(F32(Shape{2}, {1, 2}))).Run({I64s({2})}).ok());
  auto partial = OpCall("ConstantOfShape", 9).Infer({ValueType::Of(DataType::kInt64, Shape{3})}, {nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1, -1});
}

TEST_CASE("Range counts ceil((limit - start) / delta) elements", "[cpu][tensor_ops]") {
  auto range_i = [](int64_t a, int64_t b, int64_t c) {
    return OpCall("Range", 11)
        .Run({Tensor::Scalar<int64_t>(a), Tensor::Scalar<int64_t>(b), Tensor::Scalar<int64_t>(c)});
  };
  CHECK(Values<int64_t>((*range_i(3, 9, 3))[0]) == std::vector<int64_t>{3, 6});
  CHECK(Values<int64_t>((*range_i(10, 4, -2))[0]) == std::vector<int64_t>{10, 8, 6});
  CHECK(Values<int64_t>((*range_i(0, 5, 2))[0]) == std::vector<int64_t>{0, 2, 4});
  CHECK((*range_i(5, 0, 1))[0].shape() == Shape{0});
  Tensor f = OpCall("Range", 11)
                 .Run1({Tensor::Scalar<float>(1.0f), Tensor::Scalar<float>(2.0f), Tensor::Scalar<float>(0.25f)});
  CHECK(Values<float>(f) == std::vector<float>{1.0f, 1.25f, 1.5f, 1.75f});
  Tensor s =
      OpCall("Range", 11).Run1({Tensor::Scalar<int32_t>(-3), Tensor::Scalar<int32_t>(3), Tensor::Scalar<int32_t>(4)});
  CHECK(Values<int32_t>(s) == std::vector<int32_t>{-3, 1});

  CHECK(Contains(range_i(0, 5, 0).status(), "delta"));
  CHECK_FALSE(OpCall("Range", 11)
                  .Run({Tensor::Scalar<int64_t>(0), Tensor::Scalar<int32_t>(5), Tensor::Scalar<int64_t>(1)})
                  .ok());
  auto partial = OpCall("Range", 11)
                     .Infer({ValueType::Of(DataType::kInt64, Shape{}), ValueType::Of(DataType::kInt64, Shape{}),
                             ValueType::Of(DataType::kInt64, Shape{})},
                            {nullptr, nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1});
}

namespace {

// Reference slice: walks each axis with the spec's clamped start/end and a plain loop instead of a count formula.
std::vector<int64_t> AxisPositions(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  std::vector<int64_t> out;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("Slice matches a reference on random arguments", "[cpu][tensor_ops]") {
  std::mt19937 rng(42);
  const int64_t bounds[] = {-15, -7, -3, -1, 0, 1, 2, 5, 9, 30, kIntMax, kIntMin};
  for (const Shape& dims : {Shape{7, 9, 11}, Shape{40, 50, 3}, Shape{2, 300, 64}}) {
    Tensor x = Iota<float>(dims);
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<int64_t> starts, ends, steps;
      std::vector<std::vector<int64_t>> positions;
      for (size_t a = 0; a < 3; ++a) {
        starts.push_back(bounds[rng() % 12]);
        ends.push_back(bounds[rng() % 12]);
        int64_t step = static_cast<int64_t>(rng() % 3) + 1;
        steps.push_back(rng() % 2 ? step : -step);
        positions.push_back(AxisPositions(dims[a], starts[a], ends[a], steps[a]));
      }
      std::vector<float> expected;
      for (int64_t i : positions[0]) {
        for (int64_t j : positions[1]) {
          for (int64_t k : positions[2]) expected.push_back(static_cast<float>((i * dims[1] + j) * dims[2] + k));
        }
      }
      Tensor y = OpCall("Slice", 13).Run1({x, I64s(starts), I64s(ends), I64s({0, 1, 2}), I64s(steps)});
      INFO("dims " << dims.ToString() << " starts " << Shape(starts).ToString() << " ends " << Shape(ends).ToString()
                   << " steps " << Shape(steps).ToString());
      CHECK(y.shape() ==
            Shape{int64_t(positions[0].size()), int64_t(positions[1].size()), int64_t(positions[2].size())});
      CHECK(Values<float>(y) == expected);
    }
  }
}

TEST_CASE("Large copies split over the pool stay exact", "[cpu][tensor_ops]") {
  Tensor a = Iota<float>(Shape{600, 1000});
  Tensor b = Iota<float>(Shape{200, 1000});
  Tensor rows = OpCall("Concat", 13).Attr("axis", IntAttr(0)).Run1({a, b});
  CHECK(rows.data<float>()[599999] == 599999.0f);
  CHECK(rows.data<float>()[600000] == 0.0f);
  CHECK(rows.data<float>()[799999] == 199999.0f);
  auto parts = OpCall("Split", 13).Attr("axis", IntAttr(1)).Run({rows, I64s({999, 1})}, 2);
  REQUIRE(parts.ok());
  CHECK((*parts)[1].shape() == Shape{800, 1});
  CHECK((*parts)[1].data<float>()[799] == 199999.0f);
  CHECK((*parts)[0].data<float>()[998] == 998.0f);
  CHECK((*parts)[0].data<float>()[999] == 1000.0f);
  Tensor copy = OpCall("Reshape", 13).Run1({rows, I64s({-1})});
  CHECK(Values<float>(copy) == Values<float>(rows));
}
