// com.edgeai ReorderToBlocked / ReorderFromBlocked / BlockedConv (backend/cpu/blocked_layout_ops.cc): every
// blocked convolution must equal the NCHW Conv (then its activation) on the same data, on every ISA level.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Tensor Run1(const SingleOp& op, const std::vector<Tensor>& inputs) {
  auto out = RunSingleOp(CpuOpRegistry(), op, inputs, 1, TestPool());
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return (*out)[0];
}

SingleOp Blocked(const char* op) {
  SingleOp s;
  s.op_type = op;
  s.opset = 1;
  s.domain = "com.edgeai";
  return s;
}

void CheckSame(const Tensor& expected, const Tensor& actual, float tol) {
  REQUIRE(actual.shape() == expected.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    const float e = expected.data<float>()[i], a = actual.data<float>()[i];
    if (!(std::fabs(a - e) <= tol * std::max(1.0f, std::fabs(e)))) ++bad;
  }
  CHECK(bad == 0);
}

struct IsaGuard {
  ~IsaGuard() { cpu::ResetSgemmIsa(); }
};

// The conv of X (NCHW) with W through BlockedConv between reorders, against FusedConv / Conv.
void CheckConv(const Shape& x_shape, const Shape& w_shape, int64_t group, std::vector<int64_t> strides,
               std::vector<int64_t> pads, const std::string& activation, std::vector<float> params, bool bias) {
  INFO("X " << x_shape.ToString() << " W " << w_shape.ToString() << " group " << group << " stride "
            << strides[0] << " pads " << pads[0] << pads[1] << pads[2] << pads[3] << " activation '" << activation
            << "' bias " << bias);
  const Tensor x = RandomF32(x_shape, 1), w = RandomF32(w_shape, 2), b = RandomF32(Shape{w_shape[0]}, 3);
  SingleOp conv;
  conv.op_type = activation.empty() ? "Conv" : "FusedConv";
  conv.opset = activation.empty() ? 13 : 1;
  conv.domain = activation.empty() ? "" : "com.edgeai";
  SingleOp blocked = Blocked("BlockedConv");
  for (SingleOp* op : {&conv, &blocked}) {
    op->attrs.Set("group", IntAttr(group));
    op->attrs.Set("strides", IntsAttr(strides));
    op->attrs.Set("pads", IntsAttr(pads));
    if (!activation.empty()) {
      op->attrs.Set("activation", StringAttr(activation));
      op->attrs.Set("activation_params", FloatsAttr(params));
    }
  }
  std::vector<Tensor> conv_inputs = {x, w};
  if (bias) conv_inputs.push_back(b);
  const Tensor expected = Run1(conv, conv_inputs);
  std::vector<Tensor> blocked_inputs = {Run1(Blocked("ReorderToBlocked"), {x}), w};
  if (bias) blocked_inputs.push_back(b);
  const Tensor y = Run1(blocked, blocked_inputs);
  CHECK(y.shape().rank() == 5);
  CheckSame(expected, Run1(Blocked("ReorderFromBlocked"), {y}), 1e-4f);
}

}  // namespace

TEST_CASE("blocked reorders move channels innermost and back", "[cpu][blocked_layout]") {
  IsaGuard guard;
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO("isa " << cpu::SgemmIsaName(isa));
    for (const Shape& shape : {Shape{1, 16, 1, 1}, Shape{2, 32, 5, 7}, Shape{1, 48, 14, 14}, Shape{3, 16, 4, 4}}) {
      const Tensor x = RandomF32(shape, 7);
      const Tensor b = Run1(Blocked("ReorderToBlocked"), {x});
      REQUIRE(b.shape() == Shape{shape[0], shape[1] / 16, shape[2], shape[3], 16});
      const int64_t pixels = shape[2] * shape[3];
      int64_t bad = 0;
      for (int64_t i = 0; i < x.NumElements(); ++i) {
        const int64_t p = i % pixels, c = i / pixels % shape[1], n = i / (pixels * shape[1]);
        const int64_t j = ((n * (shape[1] / 16) + c / 16) * pixels + p) * 16 + c % 16;
        bad += x.data<float>()[i] != b.data<float>()[j];
      }
      CHECK(bad == 0);
      CheckSame(x, Run1(Blocked("ReorderFromBlocked"), {b}), 0.0f);
    }
  }
}

TEST_CASE("BlockedConv equals Conv: pointwise and depthwise, strides, pads, activations", "[cpu][blocked_layout]") {
  IsaGuard guard;
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO("isa " << cpu::SgemmIsaName(isa));
    // Pointwise: pixel counts around the 14-pixel register tile, output channels in whole and half panels of 32.
    for (const Shape& x : {Shape{1, 16, 1, 1}, Shape{2, 32, 7, 7}, Shape{1, 48, 14, 14}, Shape{1, 16, 3, 5}}) {
      for (int64_t m : {16, 32, 48, 96}) {
        CheckConv(x, Shape{m, x[1], 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, "", {}, m != 48);
      }
    }
    CheckConv(Shape{2, 32, 7, 7}, Shape{64, 32, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, "Clip", {0.0f, 6.0f}, true);
    CheckConv(Shape{1, 32, 4, 6}, Shape{48, 32, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, "HardSwish", {}, true);
    // Depthwise 3x3: planes from 1x1, stride 1 and 2, "same" and TF-style pads.
    for (int64_t side : {1, 2, 3, 7, 8, 14}) {
      for (int64_t stride : {1, 2}) {
        CheckConv(Shape{2, 32, side, side + 1}, Shape{32, 1, 3, 3}, 32, {stride, stride}, {1, 1, 1, 1}, "", {},
                  true);
        if (side >= 2) {
          CheckConv(Shape{1, 16, side, side}, Shape{16, 1, 3, 3}, 16, {stride, stride}, {0, 0, 1, 1}, "Relu", {},
                    false);
        }
      }
    }
    CheckConv(Shape{1, 48, 7, 7}, Shape{48, 1, 3, 3}, 48, {1, 1}, {1, 1, 1, 1}, "Sigmoid", {}, true);
  }
}

TEST_CASE("BlockedConv refuses what it does not run", "[cpu][blocked_layout]") {
  const Tensor x = Run1(Blocked("ReorderToBlocked"), {RandomF32(Shape{1, 32, 5, 5}, 1)});
  SingleOp op = Blocked("BlockedConv");
  op.attrs.Set("pads", IntsAttr({1, 1, 1, 1}));
  // A 3x3 convolution with one group is neither pointwise nor depthwise.
  auto dense = RunSingleOp(CpuOpRegistry(), op, {x, RandomF32(Shape{32, 32, 3, 3}, 2)}, 1, TestPool());
  REQUIRE_FALSE(dense.ok());
  CHECK_THAT(dense.status().message(), Catch::Contains("1x1 and depthwise 3x3"));
  // Output channels must fill blocks of 16.
  SingleOp pointwise = Blocked("BlockedConv");
  auto ragged = RunSingleOp(CpuOpRegistry(), pointwise, {x, RandomF32(Shape{24, 32, 1, 1}, 3)}, 1, TestPool());
  REQUIRE_FALSE(ragged.ok());
  // Channels that do not fill blocks cannot be reordered.
  auto reorder = RunSingleOp(CpuOpRegistry(), Blocked("ReorderToBlocked"), {RandomF32(Shape{1, 24, 2, 2}, 4)}, 1,
                             TestPool());
  REQUIRE_FALSE(reorder.ok());
  CHECK_THAT(reorder.status().message(), Catch::Contains("multiple of 16"));
}
