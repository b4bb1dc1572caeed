// DepthToSpace, SpaceToDepth, GridSample, RoiAlign and NonMaxSuppression.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

const Tensor kNone;

}  // namespace

TEST_CASE("DepthToSpace moves channel blocks in DCR and CRD order", "[cpu][spatial]") {
  Tensor x = Iota<float>(Shape{1, 8, 1, 1});
  Tensor dcr = OpCall("DepthToSpace", 13).Attr("blocksize", IntAttr(2)).Run1({x});
  CHECK(dcr.shape() == Shape{1, 2, 2, 2});
  CHECK(Values<float>(dcr) == std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7});
  Tensor crd = OpCall("DepthToSpace", 13).Attr("blocksize", IntAttr(2)).Attr("mode", StringAttr("CRD")).Run1({x});
  CHECK(Values<float>(crd) == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
  // Opset 1 has no mode attribute: always DCR. Any element type moves.
  Tensor bytes = Iota<uint8_t>(Shape{1, 4, 1, 2});
  Tensor old = OpCall("DepthToSpace", 1).Attr("blocksize", IntAttr(2)).Run1({bytes});
  CHECK(old.shape() == Shape{1, 1, 2, 4});
  CHECK(Values<uint8_t>(old) == std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7});
}

TEST_CASE("SpaceToDepth inverts DepthToSpace (DCR)", "[cpu][spatial]") {
  Tensor x =
      F32(Shape{1, 1, 4, 6}, {0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23});
  Tensor y = OpCall("SpaceToDepth", 13).Attr("blocksize", IntAttr(2)).Run1({x});
  CHECK(y.shape() == Shape{1, 4, 2, 3});
  CHECK(Values<float>(y) == Values<float>(Iota<float>(Shape{24})));
  Tensor data = Iota<int32_t>(Shape{2, 3, 6, 9});
  Tensor packed = OpCall("SpaceToDepth", 1).Attr("blocksize", IntAttr(3)).Run1({data});
  CHECK(packed.shape() == Shape{2, 27, 2, 3});
  Tensor back = OpCall("DepthToSpace", 11).Attr("blocksize", IntAttr(3)).Run1({packed});
  CHECK(Values<int32_t>(back) == Values<int32_t>(data));
}

TEST_CASE("DepthToSpace and SpaceToDepth validate shapes and attributes", "[cpu][spatial]") {
  Tensor x = Iota<float>(Shape{1, 6, 2, 2});
  auto channels = OpCall("DepthToSpace", 13).Attr("blocksize", IntAttr(2)).Run({x});
  REQUIRE_FALSE(channels.ok());
  CHECK(Contains(channels.status(), "DepthToSpace node 'test'"));
  CHECK(Contains(channels.status(), "not a multiple of blocksize^2"));
  CHECK(Contains(OpCall("DepthToSpace", 13).Run({x}).status(), "needs the blocksize attribute"));
  auto mode = OpCall("DepthToSpace", 13).Attr("blocksize", IntAttr(1)).Attr("mode", StringAttr("RDC")).Run({x});
  CHECK(Contains(mode.status(), "unsupported mode 'RDC'"));
  auto odd = OpCall("SpaceToDepth", 13).Attr("blocksize", IntAttr(4)).Run({x});
  CHECK(Contains(odd.status(), "not a multiple of blocksize 4"));
  auto rank = OpCall("SpaceToDepth", 13).Attr("blocksize", IntAttr(1)).Run({Iota<float>(Shape{6, 2, 2})});
  CHECK(Contains(rank.status(), "must be 4-D"));
  auto partial = OpCall("DepthToSpace", 13)
                     .Attr("blocksize", IntAttr(2))
                     .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 12, -1, 5})}, {nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, 3, -1, 10});
}

TEST_CASE("GridSample samples with each mode and padding", "[cpu][spatial]") {
  Tensor x = F32(Shape{1, 1, 3, 2}, {0, 1, 2, 3, 4, 5});
  Tensor far = F32(Shape{1, 2, 4, 2}, {-10, -10, -5, -5, -0.2f, -0.2f, 10, 10, 10, 10, -0.2f, -0.2f, 5, 5, 10, 10});
  CheckClose(OpCall("GridSample", 16).Run1({x, far}), {0, 0, 1.7f, 0, 0, 1.7f, 0, 0});
  CheckClose(OpCall("GridSample", 16).Attr("padding_mode", StringAttr("border")).Run1({x, far}),
             {0, 0, 1.7f, 5, 5, 1.7f, 5, 5});
  CheckClose(OpCall("GridSample", 16).Attr("padding_mode", StringAttr("reflection")).Run1({x, far}),
             {2.5f, 0, 1.7f, 2.5f, 2.5f, 1.7f, 5, 2.5f});
  Tensor near =
      F32(Shape{1, 2, 4, 2}, {-1, -1, -0.5f, -0.5f, -0.2f, -0.2f, 0, 0, 0, 0, -0.2f, -0.2f, 0.5f, 0.5f, 1, 1});
  CheckClose(OpCall("GridSample", 16).Attr("align_corners", IntAttr(1)).Run1({x, near}),
             {0, 1.25f, 2, 2.5f, 2.5f, 2, 3.75f, 5});
  CheckClose(OpCall("GridSample", 16).Attr("mode", StringAttr("nearest")).Run1({x, near}), {0, 0, 2, 2, 2, 2, 5, 0});
  CheckClose(OpCall("GridSample", 16).Attr("mode", StringAttr("bicubic")).Run1({x, near}),
             {-0.1406f, 0.3828f, 1.7556f, 2.9688f, 2.9688f, 1.7556f, 5.1445f, 1.3906f}, 1e-4);
  // Opset 20 spells the modes linear / cubic.
  CheckClose(OpCall("GridSample", 20).Attr("mode", StringAttr("cubic")).Run1({x, near}),
             {-0.1406f, 0.3828f, 1.7556f, 2.9688f, 2.9688f, 1.7556f, 5.1445f, 1.3906f}, 1e-4);
}

TEST_CASE("GridSample rejects mismatched inputs and unknown modes", "[cpu][spatial]") {
  Tensor x = F32(Shape{1, 1, 3, 2}, {0, 1, 2, 3, 4, 5});
  auto last = OpCall("GridSample", 16).Run({x, F32(Shape{1, 1, 1, 3}, {0, 0, 0})});
  REQUIRE_FALSE(last.ok());
  CHECK(Contains(last.status(), "GridSample node 'test'"));
  CHECK(Contains(last.status(), "grid must be (N, H_out, W_out, 2)"));
  auto batch = OpCall("GridSample", 16).Run({x, F32(Shape{2, 1, 1, 2}, {0, 0, 0, 0})});
  CHECK(Contains(batch.status(), "differ in batch size"));
  auto mode = OpCall("GridSample", 16).Attr("mode", StringAttr("linear")).Run({x, F32(Shape{1, 1, 1, 2}, {0, 0})});
  CHECK(Contains(mode.status(), "unsupported mode 'linear'"));
  auto pad = OpCall("GridSample", 16).Attr("padding_mode", StringAttr("wrap")).Run({x, F32(Shape{1, 1, 1, 2}, {0, 0})});
  CHECK(Contains(pad.status(), "unsupported padding_mode 'wrap'"));
}

TEST_CASE("RoiAlign averages or maxes bilinear samples per bin", "[cpu][spatial]") {
  Tensor x = Iota<float>(Shape{1, 1, 4, 4});
  Tensor idx = I64s({0});
  // One bin, one sample at the roi centre (1.5, 1.5): 1.5 * 4 + 1.5.
  Tensor legacy =
      OpCall("RoiAlign", 10).Attr("sampling_ratio", IntAttr(1)).Run1({x, F32(Shape{1, 4}, {0, 0, 3, 3}), idx});
  CHECK(legacy.shape() == Shape{1, 1, 1, 1});
  CheckClose(legacy, {7.5f});
  // half_pixel shifts the roi by -0.5 first.
  CheckClose(OpCall("RoiAlign", 16)
                 .Attr("sampling_ratio", IntAttr(1))
                 .Run1({x, F32(Shape{1, 4}, {0.5f, 0.5f, 3.5f, 3.5f}), idx}),
             {7.5f});
  // 2x2 samples at 0.5 / 1.5: the average of the bilinear values, or the largest weighted corner value.
  Tensor roi = F32(Shape{1, 4}, {0, 0, 2, 2});
  auto base = OpCall("RoiAlign", 16)
                  .Attr("coordinate_transformation_mode", StringAttr("output_half_pixel"))
                  .Attr("sampling_ratio", IntAttr(2));
  CheckClose(base.Run1({x, roi, idx}), {5.0f});
  CheckClose(OpCall(base).Attr("mode", StringAttr("max")).Run1({x, roi, idx}), {2.5f});
  // Two rois on two images, 2x2 bins.
  Tensor two = Iota<float>(Shape{2, 1, 4, 4});
  Tensor out = OpCall("RoiAlign", 16)
                   .Attr("output_height", IntAttr(2))
                   .Attr("output_width", IntAttr(2))
                   .Attr("sampling_ratio", IntAttr(1))
                   .Attr("coordinate_transformation_mode", StringAttr("output_half_pixel"))
                   .Run1({two, F32(Shape{2, 4}, {0, 0, 2, 2, 0, 0, 2, 2}), I64s({0, 1})});
  CHECK(out.shape() == Shape{2, 1, 2, 2});
  CheckClose(out, {2.5f, 3.5f, 6.5f, 7.5f, 18.5f, 19.5f, 22.5f, 23.5f});
}

TEST_CASE("RoiAlign validates batch indices and shapes", "[cpu][spatial]") {
  Tensor x = Iota<float>(Shape{1, 1, 4, 4});
  auto index = OpCall("RoiAlign", 16).Run({x, F32(Shape{1, 4}, {0, 0, 1, 1}), I64s({1})});
  REQUIRE_FALSE(index.ok());
  CHECK(Contains(index.status(), "RoiAlign node 'test'"));
  CHECK(Contains(index.status(), "batch index 1 of roi 0 is out of range"));
  auto rois = OpCall("RoiAlign", 16).Run({x, F32(Shape{1, 3}, {0, 0, 1}), I64s({0})});
  CHECK(Contains(rois.status(), "rois must be (num_rois, 4)"));
  auto count = OpCall("RoiAlign", 16).Run({x, F32(Shape{1, 4}, {0, 0, 1, 1}), I64s({0, 0})});
  CHECK(Contains(count.status(), "differ in length"));
  auto mode =
      OpCall("RoiAlign", 16).Attr("mode", StringAttr("sum")).Run({x, F32(Shape{1, 4}, {0, 0, 1, 1}), I64s({0})});
  CHECK(Contains(mode.status(), "unsupported mode 'sum'"));
}

TEST_CASE("NonMaxSuppression keeps the best boxes per batch and class", "[cpu][spatial]") {
  Tensor boxes = F32(Shape{1, 6, 4}, {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                      0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101});
  Tensor scores = F32(Shape{1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
  Tensor three = I64s({3});
  Tensor iou = F32(Shape{1}, {0.5f});
  Tensor picked = OpCall("NonMaxSuppression", 11).Run1({boxes, scores, three, iou, F32(Shape{1}, {0})});
  CHECK(picked.shape() == Shape{3, 3});
  CHECK(Values<int64_t>(picked) == std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5});
  // The score threshold drops box 5 (0.3) and box 4 (0.5 is not above 0.5).
  Tensor strict = OpCall("NonMaxSuppression", 11).Run1({boxes, scores, three, iou, F32(Shape{1}, {0.5f})});
  CHECK(Values<int64_t>(strict) == std::vector<int64_t>{0, 0, 3, 0, 0, 0});
  // No max_output_boxes_per_class: nothing is selected.
  Tensor none = OpCall("NonMaxSuppression", 10).Run1({boxes, scores});
  CHECK(none.shape() == Shape{0, 3});
  // Centre format, two classes.
  Tensor centres = F32(Shape{1, 3, 4}, {0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 10.5f, 1, 1});
  Tensor two = F32(Shape{1, 2, 3}, {0.9f, 0.8f, 0.7f, 0.1f, 0.2f, 0.3f});
  Tensor both =
      OpCall("NonMaxSuppression", 11).Attr("center_point_box", IntAttr(1)).Run1({centres, two, I64s({2}), iou, kNone});
  CHECK(Values<int64_t>(both) == std::vector<int64_t>{0, 0, 0, 0, 0, 2, 0, 1, 2, 0, 1, 1});
  auto inferred = OpCall("NonMaxSuppression", 11)
                      .Infer({ValueType::Of(DataType::kFloat32, Shape{1, -1, 4}),
                              ValueType::Of(DataType::kFloat32, Shape{1, 2, -1})},
                             {nullptr, nullptr});
  REQUIRE(inferred.ok());
  CHECK((*inferred)[0].dims == Shape{-1, 3});
}

TEST_CASE("NonMaxSuppression rejects malformed boxes and thresholds", "[cpu][spatial]") {
  Tensor scores = F32(Shape{1, 1, 2}, {0.9f, 0.8f});
  auto boxes = OpCall("NonMaxSuppression", 11).Run({F32(Shape{1, 2, 3}, {0, 0, 1, 0, 0, 1}), scores});
  REQUIRE_FALSE(boxes.ok());
  CHECK(Contains(boxes.status(), "NonMaxSuppression node 'test'"));
  CHECK(Contains(boxes.status(), "boxes must be [num_batches, spatial_dimension, 4]"));
  Tensor good = F32(Shape{1, 2, 4}, {0, 0, 1, 1, 0, 0, 1, 1});
  auto count = OpCall("NonMaxSuppression", 11).Run({good, F32(Shape{1, 1, 3}, {0.9f, 0.8f, 0.1f})});
  CHECK(Contains(count.status(), "disagree on batches or boxes"));
  auto iou = OpCall("NonMaxSuppression", 11).Run({good, scores, I64s({1}), F32(Shape{1}, {1.5f})});
  CHECK(Contains(iou.status(), "iou_threshold must be in [0, 1]"));
  auto center = OpCall("NonMaxSuppression", 11).Attr("center_point_box", IntAttr(2)).Run({good, scores});
  CHECK(Contains(center.status(), "center_point_box must be 0 or 1"));
}
