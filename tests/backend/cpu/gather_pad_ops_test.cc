// Gather, GatherElements, Tile, Trilu and Pad (the tensor_ops family, split over several source files).
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

TEST_CASE("Gather picks slices along an axis", "[cpu][tensor_ops]") {
  Tensor data = Iota<float>(Shape{3, 4});
  Tensor rows = OpCall("Gather", 13).Run1({data, I64(Shape{2, 2}, {2, 0, -1, 1})});
  CHECK(rows.shape() == Shape{2, 2, 4});
  CHECK(Values<float>(rows) == std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7});
  Tensor idx32 = Tensor::FromVector<int32_t>(Shape{3}, {3, 0, -4});
  Tensor cols = OpCall("Gather", 11).Attr("axis", IntAttr(-1)).Run1({data, idx32});
  CHECK(cols.shape() == Shape{3, 3});
  CHECK(Values<float>(cols) == std::vector<float>{3, 0, 0, 7, 4, 4, 11, 8, 8});
  Tensor scalar = OpCall("Gather", 1).Attr("axis", IntAttr(1)).Run1({data, Tensor::Scalar<int64_t>(2)});
  CHECK(scalar.shape() == Shape{3});
  CHECK(Values<float>(scalar) == std::vector<float>{2, 6, 10});
  Tensor bytes = OpCall("Gather", 13).Run1({Iota<uint8_t>(Shape{4}), I64s({3, 3, 1})});
  CHECK(Values<uint8_t>(bytes) == std::vector<uint8_t>{3, 3, 1});
}

TEST_CASE("Gather reports out-of-range indices naming the node", "[cpu][tensor_ops]") {
  Tensor data = Iota<float>(Shape{3, 4});
  auto bad = OpCall("Gather", 13).Run({data, I64s({0, 3})});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad.status(), "Gather node 'test'"));
  CHECK(Contains(bad.status(), "index 3 is out of range"));
  CHECK_FALSE(OpCall("Gather", 13).Run({data, I64s({-4})}).ok());
  CHECK_FALSE(OpCall("Gather", 13).Run({data, F32(Shape{1}, {0})}).ok());
  CHECK_FALSE(OpCall("Gather", 13).Attr("axis", IntAttr(2)).Run({data, I64s({0})}).ok());

  // The output shape composes data and indices dims; index values are checked only when computing, since
  // reading them in inference would mark the shape as data-dependent for the executor.
  auto partial =
      OpCall("Gather", 13)
          .Attr("axis", IntAttr(1))
          .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 8, 2}), ValueType::Of(DataType::kInt64, Shape{-1, 3})},
                 {nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1, 3, 2});
}

TEST_CASE("GatherElements indexes element by element", "[cpu][tensor_ops]") {
  Tensor data = Iota<int64_t>(Shape{3, 4});
  Tensor down = OpCall("GatherElements", 13).Run1({data, I64(Shape{2, 4}, {2, -1, 0, 1, 0, 0, 2, 1})});
  CHECK(down.shape() == Shape{2, 4});
  CHECK(Values<int64_t>(down) == std::vector<int64_t>{8, 9, 2, 7, 0, 1, 10, 7});
  Tensor idx = Tensor::FromVector<int32_t>(Shape{3, 2}, {3, 0, 1, 1, -4, 2});
  Tensor across = OpCall("GatherElements", 11).Attr("axis", IntAttr(1)).Run1({data, idx});
  CHECK(Values<int64_t>(across) == std::vector<int64_t>{3, 0, 5, 5, 8, 10});

  auto bad = OpCall("GatherElements", 13).Run({data, I64(Shape{1, 1}, {3})});
  CHECK(Contains(bad.status(), "GatherElements node 'test'"));
  CHECK(Contains(bad.status(), "out of range"));
  CHECK_FALSE(OpCall("GatherElements", 13).Run({data, I64s({0})}).ok());  // rank differs
  CHECK_FALSE(OpCall("GatherElements", 13).Run({data, I64(Shape{1, 5}, {0, 0, 0, 0, 0})}).ok());
}

TEST_CASE("Tile repeats the input", "[cpu][tensor_ops]") {
  Tensor x = Iota<int64_t>(Shape{1, 2, 3});
  Tensor y = OpCall("Tile", 13).Run1({x, I64s({2, 1, 2})});
  CHECK(y.shape() == Shape{2, 2, 6});
  CHECK(Values<int64_t>(y) ==
        std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  Tensor m = F32(Shape{2, 2}, {1, 2, 3, 4});
  CHECK(Values<float>(OpCall("Tile", 6).Run1({m, I64s({1, 2})})) == std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4});
  CHECK(OpCall("Tile", 13).Run1({m, I64s({0, 3})}).shape() == Shape{0, 6});
  // Opset 1: `tiles` copies along `axis`.
  Tensor old = OpCall("Tile", 1).Run1({m, Tensor::Scalar<int64_t>(2), Tensor::Scalar<int64_t>(0)});
  CHECK(Values<float>(old) == std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4});

  CHECK(Contains(OpCall("Tile", 13).Run({m, I64s({2})}).status(), "one entry per input dim"));
  CHECK_FALSE(OpCall("Tile", 13).Run({m, I64s({1, -1})}).ok());
}

TEST_CASE("Trilu keeps the upper or lower triangle", "[cpu][tensor_ops]") {
  Tensor x = Iota<int64_t>(Shape{3, 4});
  CHECK(Values<int64_t>(OpCall("Trilu", 14).Run1({x, Tensor::Scalar<int64_t>(1)})) ==
        std::vector<int64_t>{0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11});
  CHECK(Values<int64_t>(OpCall("Trilu", 14).Attr("upper", IntAttr(0)).Run1({x, Tensor::Scalar<int64_t>(-1)})) ==
        std::vector<int64_t>{0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0});
  CHECK(Values<int64_t>(OpCall("Trilu", 14).Run1({x, Tensor::Scalar<int64_t>(-1)})) ==
        std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11});
  Tensor batch = OpCall("Trilu", 14).Attr("upper", IntAttr(0)).Run1({Iota<float>(Shape{2, 2, 2})});
  CHECK(Values<float>(batch) == std::vector<float>{0, 0, 2, 3, 4, 0, 6, 7});
  CHECK(Contains(OpCall("Trilu", 14).Run({Iota<float>(Shape{3})}).status(), "rank 2"));
}

TEST_CASE("Pad in every mode", "[cpu][tensor_ops]") {
  Tensor x = F32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor c = OpCall("Pad", 13).Run1({x, I64s({1, 2, 0, 1}), Tensor::Scalar<float>(9)});
  CHECK(c.shape() == Shape{3, 6});
  CHECK(Values<float>(c) == std::vector<float>{9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9});
  Tensor r = OpCall("Pad", 11).Attr("mode", StringAttr("reflect")).Run1({x, I64s({1, 2, 1, 2})});
  CHECK(Values<float>(r) ==
        std::vector<float>{6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1});
  Tensor e = OpCall("Pad", 13).Attr("mode", StringAttr("edge")).Run1({x, I64s({0, 1, 1, 3})});
  CHECK(Values<float>(e) == std::vector<float>{1, 1, 2, 3, 3, 3, 3, 4, 4, 5, 6, 6, 6, 6, 4, 4, 5, 6, 6, 6, 6});
  Tensor w = OpCall("Pad", 19).Attr("mode", StringAttr("wrap")).Run1({x, I64s({1, 4, 0, 2})});
  // Periodic (numpy before 1.25 mis-wraps pads longer than the axis on both sides).
  CHECK(Values<float>(w) ==
        std::vector<float>{6, 4, 5, 6, 4, 5, 6, 4, 5, 3, 1, 2, 3, 1, 2, 3, 1, 2, 6, 4, 5, 6, 4, 5, 6, 4, 5});
  // Negative pads crop.
  Tensor crop = OpCall("Pad", 13).Run1({x, I64s({0, -1, 1, 0})});
  CHECK(crop.shape() == Shape{3, 2});
  CHECK(Values<float>(crop) == std::vector<float>{2, 3, 5, 6, 0, 0});
  // Opset 2-10 attributes; opset 18 axes.
  Tensor old = OpCall("Pad", 2).Attr("pads", IntsAttr({0, 1, 0, 0})).Attr("value", FloatAttr(7)).Run1({x});
  CHECK(Values<float>(old) == std::vector<float>{7, 1, 2, 3, 7, 4, 5, 6});
  Tensor ints = OpCall("Pad", 18).Run1({Iota<int32_t>(Shape{2, 2}), I64s({1, 0}), Tensor(), I64s({-1})});
  CHECK(Values<int32_t>(ints) == std::vector<int32_t>{0, 0, 1, 0, 2, 3});
}

TEST_CASE("Pad rejects bad pads and modes", "[cpu][tensor_ops]") {
  Tensor x = Iota<float>(Shape{2, 3});
  CHECK(Contains(OpCall("Pad", 13).Run({x, I64s({1, 1})}).status(), "2 entries per padded axis"));
  CHECK(Contains(OpCall("Pad", 13).Attr("mode", StringAttr("wrap")).Run({x, I64s({0, 0, 0, 0})}).status(),
                 "unsupported mode"));
  CHECK_FALSE(OpCall("Pad", 13).Run({x, I64s({0, -4, 0, 0})}).ok());
  CHECK_FALSE(
      OpCall("Pad", 13).Attr("mode", StringAttr("edge")).Run({Iota<float>(Shape{2, 0}), I64s({0, 1, 0, 0})}).ok());
  CHECK_FALSE(OpCall("Pad", 13).Run({x, I64s({0, 0, 0, 0}), Tensor::Scalar<int64_t>(1)}).ok());
  CHECK_FALSE(OpCall("Pad", 2).Run({x}).ok());
  auto partial = OpCall("Pad", 13).Infer(
      {ValueType::Of(DataType::kFloat32, Shape{2, 3}), ValueType::Of(DataType::kInt64, Shape{4})}, {nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1});
}

TEST_CASE("Inference reads input values only where they decide the shape", "[cpu][tensor_ops]") {
  ValueType data = ValueType::Of(DataType::kFloat32, Shape{4, 5});
  ValueType index = ValueType::Of(DataType::kInt64, Shape{2});
  Tensor idx = I64s({0, 1});
  uint64_t read = 0;
  REQUIRE(OpCall("Gather", 13).Infer({data, index}, {nullptr, &idx}, 1, &read).ok());
  CHECK(read == 0);
  REQUIRE(OpCall("GatherElements", 13)
              .Infer({data, ValueType::Of(DataType::kInt64, Shape{4, 5})}, {nullptr, &idx}, 1, &read)
              .ok());
  CHECK(read == 0);
  Tensor k = Tensor::Scalar<int64_t>(1);
  REQUIRE(OpCall("Trilu", 14).Infer({data, ValueType::Of(DataType::kInt64, Shape{})}, {nullptr, &k}, 1, &read).ok());
  CHECK(read == 0);
  Tensor pads = I64s({0, 0, 1, 1});
  Tensor value = Tensor::Scalar<float>(1);
  REQUIRE(OpCall("Pad", 13)
              .Infer({data, ValueType::Of(DataType::kInt64, Shape{4}), ValueType::Of(DataType::kFloat32, Shape{})},
                     {nullptr, &pads, &value}, 1, &read)
              .ok());
  CHECK(read == 2);  // pads only, not the constant value
  Tensor shape = I64s({20});
  REQUIRE(
      OpCall("Reshape", 13).Infer({data, ValueType::Of(DataType::kInt64, Shape{1})}, {nullptr, &shape}, 1, &read).ok());
  CHECK(read == 2);
}
