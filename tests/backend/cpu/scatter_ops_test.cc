// Scatter, ScatterElements, ScatterND and GatherND (scatter_ops.cc). Expected values from numpy.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Tensor I32(const Shape& shape, const std::vector<int32_t>& v) { return Tensor::FromVector<int32_t>(shape, v); }

}  // namespace

TEST_CASE("ScatterElements writes and reduces along an axis", "[cpu][scatter]") {
  Tensor data = Iota<float>(Shape{3, 4});
  Tensor idx = I64(Shape{2, 2}, {1, -1, 0, 0});
  Tensor upd = F32(Shape{2, 2}, {10, 20, 30, 40});
  auto run = [&](const char* reduction, int opset) {
    OpCall call("ScatterElements", opset);
    call.Attr("axis", IntAttr(1));
    if (reduction != nullptr) call.Attr("reduction", StringAttr(reduction));
    return Values<float>(call.Run1({data, idx, upd}));
  };
  // Duplicate indices apply in order: the last write wins, reductions accumulate.
  CHECK(run(nullptr, 13) == std::vector<float>{0, 10, 2, 20, 40, 5, 6, 7, 8, 9, 10, 11});
  CHECK(run("add", 16) == std::vector<float>{0, 11, 2, 23, 74, 5, 6, 7, 8, 9, 10, 11});
  CHECK(run("mul", 16) == std::vector<float>{0, 10, 2, 60, 4800, 5, 6, 7, 8, 9, 10, 11});
  CHECK(run("max", 18) == std::vector<float>{0, 10, 2, 20, 40, 5, 6, 7, 8, 9, 10, 11});
  CHECK(run("min", 18) == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});

  // Axis 0 with int32 indices smaller than data; Scatter-9 is the same op.
  Tensor down = I32(Shape{1, 3}, {2, 0, 1});
  Tensor vals = F32(Shape{1, 3}, {-1, -2, -3});
  const std::vector<float> want = {0, -2, 2, 3, 4, 5, -3, 7, -1, 9, 10, 11};
  CHECK(Values<float>(OpCall("ScatterElements", 11).Run1({data, down, vals})) == want);
  CHECK(Values<float>(OpCall("Scatter", 9).Run1({data, down, vals})) == want);

  // Other dtypes: bytes move by size; reductions use the real type (int8 wraps, bool add is "or").
  Tensor bytes = Tensor::FromVector<int8_t>(Shape{3}, {100, 1, 2});
  Tensor sum = OpCall("ScatterElements", 16)
                   .Attr("reduction", StringAttr("add"))
                   .Run1({bytes, I64s({0, 2}), Tensor::FromVector<int8_t>(Shape{2}, {100, 5})});
  CHECK(Values<int8_t>(sum) == std::vector<int8_t>{-56, 1, 7});
  Tensor flags = Tensor::FromVector<bool>(Shape{3}, {false, true, false});
  Tensor ored = OpCall("ScatterElements", 16)
                    .Attr("reduction", StringAttr("add"))
                    .Run1({flags, I64s({0, 1}), Tensor::FromVector<bool>(Shape{2}, {true, false})});
  CHECK(Values<bool>(ored) == std::vector<bool>{true, true, false});
  Tensor wide = Tensor::FromVector<double>(Shape{2}, {1.5, 2.5});
  Tensor maxed = OpCall("ScatterElements", 18)
                     .Attr("reduction", StringAttr("max"))
                     .Run1({wide, I64s({1, 1}), Tensor::FromVector<double>(Shape{2}, {3.0, 2.0})});
  CHECK(Values<double>(maxed) == std::vector<double>{1.5, 3.0});
}

TEST_CASE("ScatterElements rejects bad indices, shapes and reductions", "[cpu][scatter]") {
  Tensor data = Iota<float>(Shape{3, 4});
  auto bad =
      OpCall("ScatterElements", 13).Attr("axis", IntAttr(1)).Run({data, I64(Shape{1, 1}, {4}), F32(Shape{1, 1}, {0})});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad.status(), "ScatterElements node 'test'"));
  CHECK(Contains(bad.status(), "index 4 is out of range for axis 1 of size 4"));
  CHECK_FALSE(OpCall("ScatterElements", 13).Run({data, I64(Shape{1, 1}, {-4}), F32(Shape{1, 1}, {0})}).ok());
  // updates must match indices; indices must have data's rank and fit it off the axis.
  CHECK_FALSE(OpCall("ScatterElements", 13).Run({data, I64(Shape{1, 2}, {0, 0}), F32(Shape{1, 1}, {0})}).ok());
  CHECK_FALSE(OpCall("ScatterElements", 13).Run({data, I64s({0}), F32(Shape{1}, {0})}).ok());
  CHECK_FALSE(OpCall("ScatterElements", 13)
                  .Run({data, I64(Shape{1, 5}, {0, 0, 0, 0, 0}), F32(Shape{1, 5}, {0, 0, 0, 0, 0})})
                  .ok());
  CHECK_FALSE(OpCall("ScatterElements", 13)
                  .Attr("axis", IntAttr(2))
                  .Run({data, I64(Shape{1, 1}, {0}), F32(Shape{1, 1}, {0})})
                  .ok());
  // Reductions exist from opset 16 (add, mul) and 18 (max, min).
  auto early = OpCall("ScatterElements", 16)
                   .Attr("reduction", StringAttr("max"))
                   .Run({data, I64(Shape{1, 1}, {0}), F32(Shape{1, 1}, {0})});
  CHECK(Contains(early.status(), "needs opset 18"));
  CHECK_FALSE(OpCall("ScatterElements", 18)
                  .Attr("reduction", StringAttr("sub"))
                  .Run({data, I64(Shape{1, 1}, {0}), F32(Shape{1, 1}, {0})})
                  .ok());
}

TEST_CASE("ScatterND replaces or reduces slices", "[cpu][scatter]") {
  Tensor data = Iota<float>(Shape{2, 2, 2});
  // Whole [2, 2] slices, the second index repeated.
  Tensor idx = I64(Shape{2, 1}, {1, 1});
  Tensor upd = F32(Shape{2, 2, 2}, {1, 1, 1, 1, 2, 2, 2, 2});
  CHECK(Values<float>(OpCall("ScatterND", 13).Run1({data, idx, upd})) == std::vector<float>{0, 1, 2, 3, 2, 2, 2, 2});
  Tensor added = OpCall("ScatterND", 16).Attr("reduction", StringAttr("add")).Run1({data, idx, upd});
  CHECK(Values<float>(added) == std::vector<float>{0, 1, 2, 3, 7, 8, 9, 10});
  Tensor multiplied = OpCall("ScatterND", 16).Attr("reduction", StringAttr("mul")).Run1({data, idx, upd});
  CHECK(Values<float>(multiplied) == std::vector<float>{0, 1, 2, 3, 8, 10, 12, 14});
  // Single elements with negative indices; int64 data.
  Tensor ints = Iota<int64_t>(Shape{2, 3});
  Tensor points = OpCall("ScatterND", 18)
                      .Attr("reduction", StringAttr("min"))
                      .Run1({ints, I64(Shape{2, 2}, {-1, -1, 0, 1}), I64s({-5, 7})});
  CHECK(Values<int64_t>(points) == std::vector<int64_t>{0, 1, 2, 3, 4, -5});

  auto bad = OpCall("ScatterND", 13).Run({data, I64(Shape{1, 1}, {2}), F32(Shape{1, 2, 2}, {0, 0, 0, 0})});
  CHECK(Contains(bad.status(), "ScatterND node 'test'"));
  CHECK(Contains(bad.status(), "index 2 is out of range for axis 0 of size 2"));
  // updates must be indices.shape[:-1] + data.shape[k:].
  CHECK_FALSE(OpCall("ScatterND", 13).Run({data, I64(Shape{1, 1}, {0}), F32(Shape{1, 2}, {0, 0})}).ok());
  CHECK_FALSE(OpCall("ScatterND", 13).Run({data, I64(Shape{1, 4}, {0, 0, 0, 0}), F32(Shape{1}, {0})}).ok());
  CHECK_FALSE(OpCall("ScatterND", 13).Attr("reduction", StringAttr("add")).Run({data, idx, upd}).ok());
}

TEST_CASE("GatherND gathers slices, with batch dims", "[cpu][scatter]") {
  Tensor data = Iota<int32_t>(Shape{2, 3, 4});
  Tensor rows = OpCall("GatherND", 13).Run1({data, I64(Shape{2, 2}, {1, 2, 0, -1})});
  CHECK(rows.shape() == Shape{2, 4});
  CHECK(Values<int32_t>(rows) == std::vector<int32_t>{20, 21, 22, 23, 8, 9, 10, 11});
  Tensor points = OpCall("GatherND", 11).Run1({data, I64(Shape{1, 3}, {1, 0, 3})});
  CHECK(Values<int32_t>(points) == std::vector<int32_t>{15});
  Tensor batched =
      OpCall("GatherND", 12).Attr("batch_dims", IntAttr(1)).Run1({data, I64(Shape{2, 2, 2}, {1, 2, 0, 3, 2, 0, 1, 1})});
  CHECK(batched.shape() == Shape{2, 2});
  CHECK(Values<int32_t>(batched) == std::vector<int32_t>{6, 3, 20, 17});

  auto inferred = OpCall("GatherND", 13)
                      .Attr("batch_dims", IntAttr(1))
                      .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 5, 6, 7}),
                              ValueType::Of(DataType::kInt64, Shape{-1, 9, 1})},
                             {nullptr, nullptr});
  REQUIRE(inferred.ok());
  CHECK((*inferred)[0].dims == Shape{-1, 9, 6, 7});

  auto bad = OpCall("GatherND", 13).Run({data, I64(Shape{1, 1}, {-3})});
  CHECK(Contains(bad.status(), "GatherND node 'test'"));
  CHECK(Contains(bad.status(), "out of range"));
  CHECK_FALSE(OpCall("GatherND", 13).Run({data, I64(Shape{1, 4}, {0, 0, 0, 0})}).ok());
  CHECK_FALSE(OpCall("GatherND", 13).Attr("batch_dims", IntAttr(3)).Run({data, I64(Shape{2, 1}, {0, 0})}).ok());
  // Batch dims must agree.
  CHECK_FALSE(OpCall("GatherND", 13).Attr("batch_dims", IntAttr(1)).Run({data, I64(Shape{3, 1}, {0, 0, 0})}).ok());
}
