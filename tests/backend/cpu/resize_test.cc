// Resize and Upsample. Expected values come from the ONNX reference interpolation
// (onnx/backend/test/case/node/resize.py, interpolate_nd) unless computed by hand in a comment.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Tensor Iota1(const Shape& shape) {  // 1, 2, 3, ...
  std::vector<float> v(static_cast<size_t>(shape.NumElements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return F32(shape, v);
}

// Relative tolerance only, unlike the shared CheckClose.
void CheckRelClose(const Tensor& t, const std::vector<float>& expected) {
  REQUIRE(t.NumElements() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) CHECK(t.data<float>()[i] == Approx(expected[i]).epsilon(1e-5));
}

const Tensor kNone;  // an absent optional input

}  // namespace

TEST_CASE("Resize nearest follows nearest_mode and the coordinate mode", "[cpu][resize]") {
  Tensor x = Iota1(Shape{1, 1, 2, 2});
  Tensor up = OpCall("Resize", 13).Run1({x, kNone, F32(Shape{4}, {1, 1, 2, 3})});
  CHECK(up.shape() == Shape{1, 1, 4, 6});
  CHECK(Values<float>(up) == std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,  //
                                                3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  // half_pixel with nearest_mode ceil, sizes 3x5 from a 4x4 input.
  Tensor big = Iota1(Shape{1, 1, 4, 4});
  Tensor ceil =
      OpCall("Resize", 13).Attr("nearest_mode", StringAttr("ceil")).Run1({big, kNone, kNone, I64s({1, 1, 3, 5})});
  CHECK(Values<float>(ceil) == std::vector<float>{5, 6, 7, 8, 8, 9, 10, 11, 12, 12, 13, 14, 15, 16, 16});
  // Integer data moves as raw elements.
  Tensor ints = Tensor::FromVector<int64_t>(Shape{1, 2}, {7, -9});
  Tensor wide = OpCall("Resize", 11)
                    .Attr("coordinate_transformation_mode", StringAttr("asymmetric"))
                    .Run1({ints, F32(Shape{0}, {}), F32(Shape{2}, {1, 2})});
  CHECK(Values<int64_t>(wide) == std::vector<int64_t>{7, 7, -9, -9});
}

TEST_CASE("Resize-10 and Upsample use the legacy asymmetric floor/ceil mapping", "[cpu][resize]") {
  Tensor x = Iota1(Shape{1, 1, 2, 2});
  Tensor up9 = OpCall("Upsample", 9).Run1({x, F32(Shape{4}, {1, 1, 2, 3})});
  CHECK(Values<float>(up9) == std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,  //
                                                 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  Tensor up7 = OpCall("Upsample", 7).Attr("scales", FloatsAttr({1, 1, 1, 2})).Run1({x});
  CHECK(Values<float>(up7) == std::vector<float>{1, 1, 2, 2, 3, 3, 4, 4});
  Tensor up1 = OpCall("Upsample", 1)
                   .Attr("height_scale", FloatAttr(2))
                   .Attr("width_scale", FloatAttr(1))
                   .Attr("mode", StringAttr("bilinear"))
                   .Run1({x});
  // Asymmetric: rows at source 0, 0.5, 1, 1.5 (clamped to 1).
  CHECK(Values<float>(up1) == std::vector<float>{1, 2, 2, 3, 3, 4, 3, 4});
  // Shrinking takes the element at or after the scaled index: x = 1 maps to 1 / 0.6 -> 2.
  Tensor wide = Iota1(Shape{1, 1, 2, 4});
  Tensor down = OpCall("Resize", 10).Run1({wide, F32(Shape{4}, {1, 1, 0.6f, 0.6f})});
  CHECK(down.shape() == Shape{1, 1, 1, 2});
  CHECK(Values<float>(down) == std::vector<float>{1, 3});
}

TEST_CASE("Resize linear and cubic match the reference interpolation", "[cpu][resize]") {
  Tensor x = Iota1(Shape{1, 1, 2, 2});
  Tensor lin = OpCall("Resize", 13).Attr("mode", StringAttr("linear")).Run1({x, kNone, F32(Shape{4}, {1, 1, 2, 2})});
  CheckRelClose(lin, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  Tensor corners = OpCall("Resize", 13)
                       .Attr("mode", StringAttr("linear"))
                       .Attr("coordinate_transformation_mode", StringAttr("align_corners"))
                       .Run1({x, kNone, kNone, I64s({1, 1, 3, 3})});
  CheckRelClose(corners, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  Tensor big = Iota1(Shape{1, 1, 4, 4});
  Tensor cubic = OpCall("Resize", 13)
                     .Attr("mode", StringAttr("cubic"))
                     .Attr("cubic_coeff_a", FloatAttr(-0.5f))
                     .Attr("exclude_outside", IntAttr(1))
                     .Run1({big, kNone, kNone, I64s({1, 1, 3, 2})});
  CheckRelClose(cubic, {1.8231432f, 3.9996138f, 7.4117646f, 9.588235f, 13.000386f, 15.176857f});
  // An output of one element samples at -0.5 in pytorch_half_pixel mode (row 0 after edge padding).
  Tensor torch = OpCall("Resize", 13)
                     .Attr("mode", StringAttr("linear"))
                     .Attr("coordinate_transformation_mode", StringAttr("pytorch_half_pixel"))
                     .Run1({big, kNone, kNone, I64s({1, 1, 1, 3})});
  CheckRelClose(torch, {1.1666666f, 2.5f, 3.8333333f});
  // Linear on integers truncates like the reference's astype.
  Tensor bytes = Tensor::FromVector<uint8_t>(Shape{1, 2}, {0, 255});
  Tensor mid = OpCall("Resize", 13)
                   .Attr("mode", StringAttr("linear"))
                   .Attr("coordinate_transformation_mode", StringAttr("align_corners"))
                   .Run1({bytes, kNone, kNone, I64s({1, 3})});
  CHECK(Values<uint8_t>(mid) == std::vector<uint8_t>{0, 127, 255});
}

TEST_CASE("Resize tf_crop_and_resize extrapolates outside the roi", "[cpu][resize]") {
  Tensor big = Iota1(Shape{1, 1, 4, 4});
  Tensor roi = F32(Shape{8}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  Tensor crop = OpCall("Resize", 13)
                    .Attr("mode", StringAttr("linear"))
                    .Attr("coordinate_transformation_mode", StringAttr("tf_crop_and_resize"))
                    .Attr("extrapolation_value", FloatAttr(10))
                    .Run1({big, roi, kNone, I64s({1, 1, 3, 3})});
  CheckRelClose(crop, {7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10});
}

TEST_CASE("Resize-18 axes, keep_aspect_ratio_policy and antialias", "[cpu][resize]") {
  // Only the last axis shrinks by 2; the antialiased linear filter spans 4 taps {1, 3, 3, 1} / 8.
  Tensor x = Tensor::FromVector<float>(Shape{4, 8}, [] {
    std::vector<float> v(32);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    return v;
  }());
  Tensor aa = OpCall("Resize", 18)
                  .Attr("mode", StringAttr("linear"))
                  .Attr("antialias", IntAttr(1))
                  .Attr("axes", IntsAttr({-1}))
                  .Run1({x, kNone, F32(Shape{1}, {0.5f})});
  CHECK(aa.shape() == Shape{4, 4});
  CheckRelClose(aa, {0.625f, 2.5f, 4.5f, 6.375f, 8.625f, 10.5f, 12.5f, 14.375f, 16.625f, 18.5f, 20.5f, 22.375f, 24.625f,
                  26.5f, 28.5f, 30.375f});
  // not_larger: one scale min(3/2, 3/4) = 0.75 for both axes, sizes rounded half up: 2x3.
  Tensor img = Iota1(Shape{1, 1, 2, 4});
  auto fit = OpCall("Resize", 18)
                 .Attr("axes", IntsAttr({2, 3}))
                 .Attr("keep_aspect_ratio_policy", StringAttr("not_larger"))
                 .Run({img, kNone, kNone, I64s({3, 3})});
  REQUIRE(fit.ok());
  CHECK((*fit)[0].shape() == Shape{1, 1, 2, 3});
  Tensor sizes = I64s({3, 3});
  auto inferred = OpCall("Resize", 18)
                      .Attr("axes", IntsAttr({2, 3}))
                      .Attr("keep_aspect_ratio_policy", StringAttr("not_smaller"))
                      .Infer({ValueType::Of(DataType::kFloat32, Shape{1, 1, 2, 4}), ValueType{}, ValueType{},
                              ValueType::Of(DataType::kInt64, Shape{2})},
                             {nullptr, nullptr, nullptr, &sizes});
  REQUIRE(inferred.ok());
  CHECK((*inferred)[0].dims == Shape{1, 1, 3, 6});
}

TEST_CASE("Resize-19 half_pixel_symmetric centres the sampled region", "[cpu][resize]") {
  // Scale 0.6 of 4 gives 2 outputs for a 2.4 wide output: offset 2 * (1 - 2 / 2.4) = 1/3, so the sources are
  // 1/3 + (x + 0.5) / 0.6 - 0.5 = 2/3 and 7/3 (values 1 + source).
  Tensor x = F32(Shape{1, 4}, {1, 2, 3, 4});
  Tensor y = OpCall("Resize", 19)
                 .Attr("mode", StringAttr("linear"))
                 .Attr("coordinate_transformation_mode", StringAttr("half_pixel_symmetric"))
                 .Run1({x, kNone, F32(Shape{2}, {1, 0.6f})});
  REQUIRE(y.shape() == Shape{1, 2});
  CHECK(y.data<float>()[0] == Approx(5.0 / 3).epsilon(1e-5));
  CHECK(y.data<float>()[1] == Approx(10.0 / 3).epsilon(1e-5));
}

TEST_CASE("Resize shape inference works on partially known inputs", "[cpu][resize]") {
  Tensor scales = F32(Shape{4}, {1, 1, 2, 0.5f});
  auto known = OpCall("Resize", 13)
                   .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 3, 8, 9}), ValueType{},
                           ValueType::Of(DataType::kFloat32, Shape{4})},
                          {nullptr, nullptr, &scales});
  REQUIRE(known.ok());
  CHECK((*known)[0].dims == Shape{-1, 3, 16, 4});
  auto unknown = OpCall("Resize", 13)
                     .Infer({ValueType::Of(DataType::kFloat32, Shape{1, 3, 8, 8}), ValueType{}, ValueType{},
                             ValueType::Of(DataType::kInt64, Shape{4})},
                            {nullptr, nullptr, nullptr, nullptr});
  REQUIRE(unknown.ok());
  CHECK((*unknown)[0].dims == Shape{-1, -1, -1, -1});
}

TEST_CASE("Resize and Upsample reject bad attributes and inputs", "[cpu][resize]") {
  Tensor x = Iota1(Shape{1, 1, 2, 2});
  auto bad_len = OpCall("Resize", 13).Run({x, kNone, F32(Shape{2}, {2, 2})});
  REQUIRE_FALSE(bad_len.ok());
  CHECK(Contains(bad_len.status(), "Resize node 'test'"));
  CHECK(Contains(bad_len.status(), "scales must hold 4 values"));
  auto both = OpCall("Resize", 13).Run({x, kNone, F32(Shape{4}, {1, 1, 2, 2}), I64s({1, 1, 4, 4})});
  CHECK(Contains(both.status(), "only one of scales and sizes"));
  auto neither = OpCall("Resize", 13).Run({x});
  CHECK_FALSE(neither.ok());
  auto negative = OpCall("Resize", 13).Run({x, kNone, F32(Shape{4}, {1, 1, -2, 2})});
  CHECK(Contains(negative.status(), "scales must be positive"));
  auto mode = OpCall("Resize", 13).Attr("mode", StringAttr("area")).Run({x, kNone, F32(Shape{4}, {1, 1, 2, 2})});
  CHECK(Contains(mode.status(), "unsupported mode 'area'"));
  auto coord = OpCall("Resize", 13)
                   .Attr("coordinate_transformation_mode", StringAttr("half_pixel_symmetric"))
                   .Run({x, kNone, F32(Shape{4}, {1, 1, 2, 2})});
  CHECK(Contains(coord.status(), "unsupported coordinate_transformation_mode"));
  auto crop = OpCall("Resize", 13)
                  .Attr("coordinate_transformation_mode", StringAttr("tf_crop_and_resize"))
                  .Run({x, kNone, kNone, I64s({1, 1, 3, 3})});
  CHECK(Contains(crop.status(), "needs a roi input"));
  auto shrink = OpCall("Upsample", 9).Run({x, F32(Shape{4}, {1, 1, 0.5f, 1})});
  CHECK(Contains(shrink.status(), "Upsample scales must be >= 1"));
  auto no_scales = OpCall("Upsample", 7).Run({x});
  CHECK(Contains(no_scales.status(), "needs the scales attribute"));
  auto axes = OpCall("Resize", 18).Attr("axes", IntsAttr({2, 2})).Run({x, kNone, F32(Shape{2}, {2, 2})});
  CHECK(Contains(axes.status(), "axes repeat axis 2"));
}
