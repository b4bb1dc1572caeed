// Shrink, IsInf, IsNaN, Det, LRN, MeanVarianceNormalization (misc_ops.cc), LpPool and MaxUnpool
// (pool_misc_ops.cc). Expected values from numpy.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

}  // namespace

TEST_CASE("Shrink zeroes small values and shifts the rest", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{5}, {-2, -1, 0, 1, 2});
  CHECK(Values<float>(OpCall("Shrink", 9).Attr("lambd", FloatAttr(1.5f)).Run1({x})) ==
        std::vector<float>{-2, 0, 0, 0, 2});
  CHECK(Values<float>(OpCall("Shrink", 9).Attr("lambd", FloatAttr(0.5f)).Attr("bias", FloatAttr(0.5f)).Run1({x})) ==
        std::vector<float>{-1.5f, -0.5f, 0, 0.5f, 1.5f});
  Tensor ints = Tensor::FromVector<int32_t>(Shape{3}, {-3, 0, 3});
  CHECK(Values<int32_t>(OpCall("Shrink", 9).Attr("bias", FloatAttr(1)).Run1({ints})) == std::vector<int32_t>{-2, 0, 2});
  CHECK_FALSE(OpCall("Shrink", 9).Run({Tensor::FromVector<bool>(Shape{1}, {true})}).ok());
}

TEST_CASE("IsInf and IsNaN classify floats", "[cpu][misc_ops]") {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = F32(Shape{4}, {1, inf, -inf, std::nanf("")});
  CHECK(Values<bool>(OpCall("IsInf", 10).Run1({x})) == std::vector<bool>{false, true, true, false});
  CHECK(Values<bool>(OpCall("IsInf", 10).Attr("detect_negative", IntAttr(0)).Run1({x})) ==
        std::vector<bool>{false, true, false, false});
  CHECK(Values<bool>(OpCall("IsInf", 10).Attr("detect_positive", IntAttr(0)).Run1({x})) ==
        std::vector<bool>{false, false, true, false});
  CHECK(Values<bool>(OpCall("IsNaN", 13).Run1({x})) == std::vector<bool>{false, false, false, true});
  Tensor d = Tensor::FromVector<double>(Shape{2}, {std::nan(""), 0});
  CHECK(Values<bool>(OpCall("IsNaN", 9).Run1({d})) == std::vector<bool>{true, false});
  CHECK_FALSE(OpCall("IsNaN", 13).Run({I64s({1})}).ok());
}

TEST_CASE("Det computes batched determinants with pivoting", "[cpu][misc_ops]") {
  Tensor batch = F32(Shape{2, 2, 2}, {1, 2, 3, 4, 2, 0, 0, 3});
  Tensor y = OpCall("Det", 11).Run1({batch});
  CHECK(y.shape() == Shape{2});
  CheckClose(y, {-2, 6});
  Tensor pivot = Tensor::FromVector<double>(Shape{3, 3}, {0, 1, 2, 1, 0, 3, 4, -3, 8});
  Tensor d = OpCall("Det", 11).Run1({pivot});
  CHECK(d.shape() == Shape{});
  CHECK(d.data<double>()[0] == Approx(-2.0));
  CheckClose(OpCall("Det", 11).Run1({F32(Shape{2, 2}, {1, 2, 2, 4})}), {0});
  CHECK(Contains(OpCall("Det", 11).Run({Iota<float>(Shape{2, 3})}).status(), "square"));
}

TEST_CASE("LRN normalises across neighbouring channels", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{1, 4, 2}, {-3, -2, -1, 0, 1, 2, 3, 4});
  Tensor y = OpCall("LRN", 13).Attr("size", IntAttr(3)).Attr("alpha", FloatAttr(0.1f)).Run1({x});
  CheckClose(y, {-2.4177823f, -1.8207979f, -0.7911395f, 0, 0.7911395f, 1.3634633f, 2.4177823f, 2.7269266f});
  CHECK(Contains(OpCall("LRN", 13).Run({x}).status(), "size is required"));
  CHECK_FALSE(OpCall("LRN", 1).Attr("size", IntAttr(0)).Run({x}).ok());
}

TEST_CASE("MeanVarianceNormalization normalises over the given axes", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{1, 2, 2, 1}, {1, 2, 3, 5});
  CheckClose(OpCall("MeanVarianceNormalization", 13).Run1({x}), {-1, 1, -1, 1});
  // Over the channels instead: pairs (1, 3) and (2, 5).
  CheckClose(OpCall("MeanVarianceNormalization", 9).Attr("axes", IntsAttr({1})).Run1({x}), {-1, -1, 1, 1});
  CHECK(
      Contains(OpCall("MeanVarianceNormalization", 13).Attr("axes", IntsAttr({4})).Run({x}).status(), "out of range"));
  CHECK_FALSE(OpCall("MeanVarianceNormalization", 13).Run({Iota<float>(Shape{2, 2})}).ok());
}

TEST_CASE("LpPool takes the p-norm of each window", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{1, 1, 5}, {3, -4, 1, 2, -2});
  OpCall op("LpPool", 11);
  op.Attr("kernel_shape", IntsAttr({2})).Attr("strides", IntsAttr({2})).Attr("pads", IntsAttr({0, 1}));
  Tensor y = op.Run1({x});
  CHECK(y.shape() == Shape{1, 1, 3});
  CheckClose(y, {5, 2.2360680f, 2});
  op.Attr("p", IntAttr(1));
  CheckClose(op.Run1({x}), {7, 3, 2});
  // Opset 1 spells p as a float.
  CheckClose(OpCall("LpPool", 1)
                 .Attr("kernel_shape", IntsAttr({1, 2}))
                 .Attr("p", FloatAttr(3))
                 .Run1({F32(Shape{1, 1, 1, 3}, {1, 2, 0})}),
             {2.0800838f, 2});
  CHECK(Contains(OpCall("LpPool", 11).Run({x}).status(), "kernel_shape is required"));
  CHECK_FALSE(OpCall("LpPool", 11).Attr("kernel_shape", IntsAttr({2, 2})).Run({x}).ok());
}

TEST_CASE("MaxUnpool scatters values to their MaxPool indices", "[cpu][misc_ops]") {
  Tensor x = F32(Shape{1, 1, 2, 2}, {5, 6, 7, 8});
  Tensor idx = I64(Shape{1, 1, 2, 2}, {5, 7, 13, 15});
  OpCall op("MaxUnpool", 11);
  op.Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}));
  Tensor y = op.Run1({x, idx});
  CHECK(y.shape() == Shape{1, 1, 4, 4});
  CHECK(Values<float>(y) == std::vector<float>{0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8});
  // A larger output_shape pads at the end of each axis; indices keep their 4x4 meaning.
  Tensor padded = op.Run1({x, idx, I64s({1, 1, 5, 5})});
  CHECK(padded.shape() == Shape{1, 1, 5, 5});
  CHECK(padded.data<float>()[6] == 5);
  CHECK(padded.data<float>()[18] == 8);
  CHECK(Contains(op.Run({x, I64(Shape{1, 1, 2, 2}, {5, 7, 13, 16})}).status(), "index 16 is out of range"));
  CHECK(Contains(op.Run({x, idx, I64s({1, 1, 3, 3})}).status(), "must not be smaller"));
}
