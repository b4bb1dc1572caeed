// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, weights, ignore_index, extra dims and the
// optional log_prob output. Expected values from numpy.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Tensor Scores() { return F32(Shape{2, 3}, {1, 2, 3, 2, 0, -1}); }

}  // namespace

TEST_CASE("NegativeLogLikelihoodLoss reduces with and without weights", "[cpu][loss]") {
  Tensor target = I64s({2, 0});
  Tensor none = OpCall("NegativeLogLikelihoodLoss", 13).Attr("reduction", StringAttr("none")).Run1({Scores(), target});
  CHECK(none.shape() == Shape{2});
  CheckClose(none, {-3, -2});
  Tensor sum = OpCall("NegativeLogLikelihoodLoss", 13).Attr("reduction", StringAttr("sum")).Run1({Scores(), target});
  CHECK(sum.shape() == Shape{});
  CheckClose(sum, {-5});
  CheckClose(OpCall("NegativeLogLikelihoodLoss", 12).Run1({Scores(), target}), {-2.5f});
  // Weighted mean divides by the sum of the weights picked by the targets.
  Tensor w = F32(Shape{3}, {1, 2, 0.5f});
  CheckClose(OpCall("NegativeLogLikelihoodLoss", 13).Run1({Scores(), target, w}), {-2.3333333f});
  Tensor idx32 = Tensor::FromVector<int32_t>(Shape{2}, {2, 0});
  CheckClose(OpCall("NegativeLogLikelihoodLoss", 13).Run1({Scores(), idx32, w}), {-2.3333333f});
}

TEST_CASE("NegativeLogLikelihoodLoss handles extra dims and ignore_index", "[cpu][loss]") {
  Tensor x = Iota<float>(Shape{1, 2, 3});
  Tensor target = I64(Shape{1, 3}, {0, 1, -1});
  OpCall op("NegativeLogLikelihoodLoss", 13);
  op.Attr("ignore_index", IntAttr(-1));
  CheckClose(op.Run1({x, target}), {-2});  // (0 + 4) over the 2 targets not ignored
  op.Attr("reduction", StringAttr("none"));
  Tensor none = op.Run1({x, target});
  CHECK(none.shape() == Shape{1, 3});
  CheckClose(none, {0, -4, 0});

  Tensor x64 = Iota<double>(Shape{1, 2, 1, 2});
  Tensor t4 = I64(Shape{1, 1, 2}, {1, 0});
  Tensor d = OpCall("NegativeLogLikelihoodLoss", 13).Attr("reduction", StringAttr("sum")).Run1({x64, t4});
  CHECK(d.dtype() == DataType::kFloat64);
  CHECK(d.data<double>()[0] == Approx(-(2.0 + 1.0)));
}

TEST_CASE("NegativeLogLikelihoodLoss rejects bad targets and attributes", "[cpu][loss]") {
  auto out_of_range = OpCall("NegativeLogLikelihoodLoss", 13).Run({Scores(), I64s({3, 0})});
  CHECK(out_of_range.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(out_of_range.status(), "target value 3 is out of range [0, 3)"));
  auto bad_reduction =
      OpCall("NegativeLogLikelihoodLoss", 13).Attr("reduction", StringAttr("avg")).Run({Scores(), I64s({0, 0})});
  CHECK(Contains(bad_reduction.status(), "reduction must be"));
  auto bad_shape = OpCall("NegativeLogLikelihoodLoss", 13).Run({Scores(), I64s({0, 0, 0})});
  CHECK(Contains(bad_shape.status(), "does not match input"));
  auto bad_weight = OpCall("NegativeLogLikelihoodLoss", 13).Run({Scores(), I64s({0, 0}), F32(Shape{2}, {1, 1})});
  CHECK(Contains(bad_weight.status(), "weight"));
  CHECK_FALSE(OpCall("NegativeLogLikelihoodLoss", 13).Run({Scores(), F32(Shape{2}, {0, 0})}).ok());
}

TEST_CASE("SoftmaxCrossEntropyLoss computes the loss and log_prob", "[cpu][loss]") {
  Tensor target = I64s({2, 0});
  auto both = OpCall("SoftmaxCrossEntropyLoss", 13).Attr("reduction", StringAttr("none")).Run({Scores(), target}, 2);
  REQUIRE(both.ok());
  CheckClose((*both)[0], {0.40760586f, 0.16984606f});
  CHECK((*both)[1].shape() == Shape{2, 3});
  CheckClose((*both)[1], {-2.4076059f, -1.4076059f, -0.4076059f, -0.1698461f, -2.1698461f, -3.1698461f});
  CheckClose(OpCall("SoftmaxCrossEntropyLoss", 12).Run1({Scores(), target}), {0.28872597f});
  // All targets ignored: the mean is 0 / 0.
  Tensor all_ignored =
      OpCall("SoftmaxCrossEntropyLoss", 13).Attr("ignore_index", IntAttr(5)).Run1({Scores(), I64s({5, 5})});
  CHECK(std::isnan(all_ignored.data<float>()[0]));

  auto load =
      OpCall("SoftmaxCrossEntropyLoss", 13)
          .Attr("reduction", StringAttr("none"))
          .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 5, 7}), ValueType::Of(DataType::kInt64, Shape{-1, 7})},
                 {nullptr, nullptr}, 2);
  REQUIRE(load.ok());
  CHECK((*load)[0].dims == Shape{-1, 7});
  CHECK((*load)[1].dims == Shape{-1, 5, 7});
  CHECK_FALSE(OpCall("SoftmaxCrossEntropyLoss", 13).Run({F32(Shape{3}, {1, 2, 3}), I64s({0})}).ok());
}
