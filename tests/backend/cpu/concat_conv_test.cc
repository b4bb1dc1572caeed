// com.edgeai.ConcatConv (backend/cpu/concat_conv.cc) must equal Concat(axis 1) followed by the 1x1 Conv (and
// FusedConv's activation), for any split of the channels into parts.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Result<Tensor> Run(const SingleOp& op, const std::vector<Tensor>& inputs, const ThreadPool& pool) {
  EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> out, RunSingleOp(CpuOpRegistry(), op, inputs, 1, pool));
  return out[0];
}

void CheckFused(int64_t batch, const std::vector<int64_t>& channels, int64_t m, int64_t side, bool bias,
                const std::string& activation, const std::vector<float>& params, const ThreadPool& pool) {
  INFO("batch " << batch << " parts " << channels.size() << " M " << m << " side " << side << " bias " << bias
                << " activation '" << activation << "' threads " << pool.threads());
  std::vector<Tensor> parts;
  int64_t c = 0;
  for (size_t i = 0; i < channels.size(); ++i) {
    parts.push_back(RandomF32(Shape{batch, channels[i], side, side + 1}, 10 + static_cast<uint32_t>(i)));
    c += channels[i];
  }
  const Tensor w = RandomF32(Shape{m, c, 1, 1}, 3), b = RandomF32(Shape{m}, 4);
  SingleOp concat{"Concat", 13};
  concat.attrs.Set("axis", IntAttr(1));
  auto x = Run(concat, parts, pool);
  REQUIRE(x.ok());
  SingleOp conv{activation.empty() ? "Conv" : "FusedConv", activation.empty() ? 13 : 1};
  SingleOp fused{"ConcatConv", 1};
  fused.domain = "com.edgeai";
  if (!activation.empty()) {
    conv.domain = "com.edgeai";
    for (SingleOp* op : {&conv, &fused}) {
      op->attrs.Set("activation", StringAttr(activation));
      op->attrs.Set("activation_params", FloatsAttr(params));
    }
  }
  std::vector<Tensor> conv_inputs = {*x, w};
  if (bias) conv_inputs.push_back(b);
  auto expected = Run(conv, conv_inputs, pool);
  REQUIRE(expected.ok());
  std::vector<Tensor> fused_inputs = {w, bias ? b : Tensor()};
  fused_inputs.insert(fused_inputs.end(), parts.begin(), parts.end());
  auto actual = Run(fused, fused_inputs, pool);
  INFO(actual.status().ToString());
  REQUIRE(actual.ok());
  REQUIRE(actual->shape() == expected->shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < expected->NumElements(); ++i) {
    const float e = expected->data<float>()[i], a = actual->data<float>()[i];
    if (!(std::fabs(a - e) <= 1e-4f * std::max(1.0f, std::fabs(e)))) ++bad;
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("ConcatConv equals Concat then a 1x1 Conv", "[cpu][concat_conv]") {
  ThreadPool pool1(1), pool2(2);
  for (const ThreadPool* pool : {&pool1, &pool2}) {
    CheckFused(1, {64, 64}, 16, 13, true, "Relu", {}, *pool);      // SqueezeNet's squeeze
    CheckFused(3, {5, 17, 9}, 33, 4, false, "", {}, *pool);         // ragged parts, several images
    CheckFused(5, {16, 16}, 40, 7, true, "Clip", {0.0f, 6.0f}, *pool);
    CheckFused(2, {3, 4}, 8, 2, true, "Sigmoid", {}, *pool);        // an activation after the product
    CheckFused(1, {300, 212}, 1000, 3, true, "", {}, *pool);        // K spans several blocks
  }
}

TEST_CASE("ConcatConv refuses parts that do not match the weights", "[cpu][concat_conv]") {
  ThreadPool pool(1);
  SingleOp op{"ConcatConv", 1};
  op.domain = "com.edgeai";
  const Tensor w = RandomF32(Shape{8, 10, 1, 1}, 1);
  auto short_parts = RunSingleOp(CpuOpRegistry(), op, {w, Tensor(), RandomF32(Shape{1, 4, 3, 3}, 2),
                                                       RandomF32(Shape{1, 4, 3, 3}, 3)}, 1, pool);
  REQUIRE_FALSE(short_parts.ok());
  CHECK_THAT(short_parts.status().message(), Catch::Contains("8 channels, W expects 10"));
  auto mismatched = RunSingleOp(CpuOpRegistry(), op, {w, Tensor(), RandomF32(Shape{1, 4, 3, 3}, 2),
                                                      RandomF32(Shape{1, 6, 3, 4}, 3)}, 1, pool);
  REQUIRE_FALSE(mismatched.ok());
}
