// Hardmax, CumSum, TopK, OneHot, EyeLike, ReverseSequence (index_ops.cc) and the data-dependent Unique,
// NonZero, Compress (data_dependent_ops.cc). Expected values from numpy.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

TEST_CASE("Hardmax follows the opset 13 and the coerced 2-D semantics", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{2, 2, 2}, {1, 4, 3, 2, 5, 5, 0, 7});
  // Opset 13: along axis 1 only; ties keep the first.
  CHECK(Values<float>(OpCall("Hardmax", 13).Attr("axis", IntAttr(1)).Run1({x})) ==
        std::vector<float>{0, 1, 1, 0, 1, 0, 0, 1});
  CHECK(Values<float>(OpCall("Hardmax", 13).Run1({x})) == std::vector<float>{0, 1, 1, 0, 1, 0, 0, 1});
  // Before 13: [2, 4] rows (axis 1 flattens what follows), one 1 per row.
  CHECK(Values<float>(OpCall("Hardmax", 11).Run1({x})) == std::vector<float>{0, 1, 0, 0, 0, 0, 0, 1});
  CHECK(Values<float>(OpCall("Hardmax", 1).Attr("axis", IntAttr(0)).Run1({x})) ==
        std::vector<float>{0, 0, 0, 0, 0, 0, 0, 1});
  auto bad = OpCall("Hardmax", 13).Attr("axis", IntAttr(3)).Run({x});
  CHECK(Contains(bad.status(), "axis 3 is out of range"));
}

TEST_CASE("CumSum scans forwards, backwards and exclusively", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{2, 4}, {1, 3, 3, 0, 5, -1, 2, 2});
  CHECK(Values<float>(OpCall("CumSum", 14).Run1({x, Tensor::Scalar<int32_t>(1)})) ==
        std::vector<float>{1, 4, 7, 7, 5, 4, 6, 8});
  CHECK(Values<float>(OpCall("CumSum", 14).Attr("reverse", IntAttr(1)).Run1({x, Tensor::Scalar<int64_t>(-1)})) ==
        std::vector<float>{7, 6, 3, 0, 8, 3, 4, 2});
  CHECK(Values<float>(OpCall("CumSum", 11).Attr("exclusive", IntAttr(1)).Run1({x, I64s({0})})) ==
        std::vector<float>{0, 0, 0, 0, 1, 3, 3, 0});
  Tensor ints = Tensor::FromVector<int32_t>(Shape{4}, {1, 2, 3, 4});
  CHECK(Values<int32_t>(OpCall("CumSum", 14)
                            .Attr("exclusive", IntAttr(1))
                            .Attr("reverse", IntAttr(1))
                            .Run1({ints, Tensor::Scalar<int64_t>(0)})) == std::vector<int32_t>{9, 7, 4, 0});
  auto bad = OpCall("CumSum", 14).Run({x, Tensor::Scalar<int64_t>(2)});
  CHECK(Contains(bad.status(), "axis 2 is out of range"));
  CHECK_FALSE(OpCall("CumSum", 14).Run({x, F32(Shape{}, {0})}).ok());
}

TEST_CASE("TopK selects largest or smallest with ties by lower index", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{2, 4}, {1, 3, 3, 0, 5, -1, 2, 2});
  auto top = OpCall("TopK", 11).Run({x, I64s({2})}, 2);
  REQUIRE(top.ok());
  CHECK((*top)[0].shape() == Shape{2, 2});
  CHECK(Values<float>((*top)[0]) == std::vector<float>{3, 3, 5, 2});
  CHECK(Values<int64_t>((*top)[1]) == std::vector<int64_t>{1, 2, 0, 2});
  auto low = OpCall("TopK", 11).Attr("largest", IntAttr(0)).Attr("axis", IntAttr(0)).Run({x, I64s({1})}, 2);
  REQUIRE(low.ok());
  CHECK(Values<float>((*low)[0]) == std::vector<float>{1, -1, 2, 0});
  CHECK(Values<int64_t>((*low)[1]) == std::vector<int64_t>{0, 1, 1, 0});
  // Opset 1: k is an attribute.
  auto v1 = OpCall("TopK", 1).Attr("k", IntAttr(1)).Run({x}, 2);
  REQUIRE(v1.ok());
  CHECK(Values<float>((*v1)[0]) == std::vector<float>{3, 5});
  auto bad = OpCall("TopK", 11).Run({x, I64s({5})}, 2);
  CHECK(Contains(bad.status(), "k = 5"));
  auto load = OpCall("TopK", 11)
                  .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 8}), ValueType::Of(DataType::kInt64, Shape{1})},
                         {nullptr, nullptr}, 2);
  REQUIRE(load.ok());
  CHECK((*load)[1].dims == Shape{-1, -1});
}

TEST_CASE("OneHot places on/off values along an axis", "[cpu][misc_ops]") {
  Tensor values = F32(Shape{2}, {0, 7});
  Tensor y = OpCall("OneHot", 11).Run1({I64s({0, -1, 5}), Tensor::Scalar<float>(3), values});
  CHECK(y.shape() == Shape{3, 3});
  // -1 wraps to 2; 5 is out of range and stays all off.
  CHECK(Values<float>(y) == std::vector<float>{7, 0, 0, 0, 0, 7, 0, 0, 0});
  Tensor y0 = OpCall("OneHot", 11).Attr("axis", IntAttr(0)).Run1({I64s({1, 0}), I64s({2}), values});
  CHECK(y0.shape() == Shape{2, 2});
  CHECK(Values<float>(y0) == std::vector<float>{0, 7, 7, 0});
  auto bad = OpCall("OneHot", 11).Run({I64s({0}), Tensor::Scalar<int64_t>(0), values});
  CHECK(Contains(bad.status(), "depth must be positive"));
  CHECK_FALSE(OpCall("OneHot", 11).Run({I64s({0}), Tensor::Scalar<int64_t>(2), F32(Shape{3}, {0, 1, 2})}).ok());
}

TEST_CASE("EyeLike writes a shifted diagonal in the requested dtype", "[cpu][misc_ops]") {
  Tensor x = Iota<int32_t>(Shape{2, 3});
  CHECK(Values<int32_t>(OpCall("EyeLike", 9).Run1({x})) == std::vector<int32_t>{1, 0, 0, 0, 1, 0});
  Tensor shifted = OpCall("EyeLike", 9).Attr("k", IntAttr(1)).Attr("dtype", IntAttr(11)).Run1({x});
  CHECK(shifted.dtype() == DataType::kFloat64);
  CHECK(Values<double>(shifted) == std::vector<double>{0, 1, 0, 0, 0, 1});
  CHECK(Values<int32_t>(OpCall("EyeLike", 9).Attr("k", IntAttr(-1)).Run1({x})) ==
        std::vector<int32_t>{0, 0, 0, 1, 0, 0});
  CHECK_FALSE(OpCall("EyeLike", 9).Run({Iota<float>(Shape{3})}).ok());
  CHECK(Contains(OpCall("EyeLike", 9).Attr("dtype", IntAttr(8)).Run({x}).status(), "dtype 8"));
}

TEST_CASE("ReverseSequence reverses each batch entry's prefix", "[cpu][misc_ops]") {
  Tensor x = Iota<float>(Shape{3, 2});  // [time, batch]
  Tensor y = OpCall("ReverseSequence", 10).Run1({x, I64s({3, 2})});
  CHECK(Values<float>(y) == std::vector<float>{4, 3, 2, 1, 0, 5});
  Tensor batch_major = OpCall("ReverseSequence", 10)
                           .Attr("batch_axis", IntAttr(0))
                           .Attr("time_axis", IntAttr(1))
                           .Run1({Iota<float>(Shape{2, 3}), I64s({1, 3})});
  CHECK(Values<float>(batch_major) == std::vector<float>{0, 1, 2, 5, 4, 3});
  CHECK(Contains(OpCall("ReverseSequence", 10).Run({x, I64s({4, 1})}).status(), "out of range"));
  CHECK_FALSE(OpCall("ReverseSequence", 10).Attr("time_axis", IntAttr(1)).Run({x, I64s({1, 1})}).ok());
}

TEST_CASE("Unique returns values, first indices, inverse and counts", "[cpu][misc_ops]") {
  Tensor x = Tensor::FromVector<int32_t>(Shape{6}, {2, 1, 1, 3, 4, 3});
  auto sorted = OpCall("Unique", 11).Run({x}, 4);
  REQUIRE(sorted.ok());
  CHECK(Values<int32_t>((*sorted)[0]) == std::vector<int32_t>{1, 2, 3, 4});
  CHECK(Values<int64_t>((*sorted)[1]) == std::vector<int64_t>{1, 0, 3, 4});
  CHECK(Values<int64_t>((*sorted)[2]) == std::vector<int64_t>{1, 0, 0, 2, 3, 2});
  CHECK(Values<int64_t>((*sorted)[3]) == std::vector<int64_t>{2, 1, 2, 1});
  auto unsorted = OpCall("Unique", 11).Attr("sorted", IntAttr(0)).Run({x}, 4);
  REQUIRE(unsorted.ok());
  CHECK(Values<int32_t>((*unsorted)[0]) == std::vector<int32_t>{2, 1, 3, 4});
  CHECK(Values<int64_t>((*unsorted)[2]) == std::vector<int64_t>{0, 1, 1, 2, 3, 2});

  Tensor rows = F32(Shape{3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4});
  auto by_row = OpCall("Unique", 11).Attr("axis", IntAttr(0)).Run({rows}, 4);
  REQUIRE(by_row.ok());
  CHECK((*by_row)[0].shape() == Shape{2, 3});
  CHECK(Values<float>((*by_row)[0]) == std::vector<float>{1, 0, 0, 2, 3, 4});
  CHECK(Values<int64_t>((*by_row)[3]) == std::vector<int64_t>{2, 1});

  auto load = OpCall("Unique", 11)
                  .Attr("axis", IntAttr(1))
                  .Infer({ValueType::Of(DataType::kFloat32, Shape{2, 5})}, {nullptr}, 4);
  REQUIRE(load.ok());
  CHECK((*load)[0].dims == Shape{2, -1});
  CHECK((*load)[2].dims == Shape{5});
  CHECK(Contains(OpCall("Unique", 11).Attr("axis", IntAttr(2)).Run({rows}, 4).status(), "axis 2"));
}

TEST_CASE("NonZero lists the indices of non-zero elements", "[cpu][misc_ops]") {
  Tensor cond = Tensor::FromVector<bool>(Shape{2, 2}, {true, false, true, true});
  Tensor y = OpCall("NonZero", 13).Run1({cond});
  CHECK(y.shape() == Shape{2, 3});
  CHECK(Values<int64_t>(y) == std::vector<int64_t>{0, 1, 1, 0, 0, 1});
  Tensor none = OpCall("NonZero", 9).Run1({F32(Shape{3}, {0, 0, 0})});
  CHECK(none.shape() == Shape{1, 0});
  auto load = OpCall("NonZero", 13).Infer({ValueType::Of(DataType::kFloat32, Shape{4, 5, 6})}, {nullptr});
  REQUIRE(load.ok());
  CHECK((*load)[0].dims == Shape{3, -1});
  CHECK_FALSE(OpCall("NonZero", 13).Run({Tensor()}).ok());
}

TEST_CASE("Compress keeps the selected slices", "[cpu][misc_ops]") {
  Tensor x = Iota<float>(Shape{3, 2});
  Tensor cond = Tensor::FromVector<bool>(Shape{3}, {false, true, true});
  Tensor rows = OpCall("Compress", 11).Attr("axis", IntAttr(0)).Run1({x, cond});
  CHECK(rows.shape() == Shape{2, 2});
  CHECK(Values<float>(rows) == std::vector<float>{2, 3, 4, 5});
  Tensor cols = OpCall("Compress", 11).Attr("axis", IntAttr(-1)).Run1({x, Tensor::FromVector<bool>(Shape{1}, {true})});
  CHECK(Values<float>(cols) == std::vector<float>{0, 2, 4});
  Tensor flat = OpCall("Compress", 9).Run1({x, Tensor::FromVector<bool>(Shape{5}, {false, true, false, false, true})});
  CHECK(Values<float>(flat) == std::vector<float>{1, 4});
  auto too_long = OpCall("Compress", 11).Attr("axis", IntAttr(1)).Run({x, cond});
  CHECK(Contains(too_long.status(), "past the end"));
  CHECK_FALSE(OpCall("Compress", 11).Run({x, I64s({1})}).ok());
}
