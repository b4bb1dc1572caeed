#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

// What a test case asks of Conv; pads here are always explicit, auto_pad cases compute them themselves.
struct ConvCase {
  std::vector<int64_t> x_dims, w_dims;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // empty = default
  bool bias = false;
};

int64_t Product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

// Naive N-D convolution, straight from the definition, accumulating in double.
std::vector<float> ReferenceConv(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                                 const std::vector<float>& b, std::vector<int64_t>* out_dims) {
  const size_t n = c.x_dims.size() - 2;
  std::vector<int64_t> s(n, 1), d(n, 1), pb(n, 0), out(n);
  for (size_t i = 0; i < n; ++i) {
    if (!c.strides.empty()) s[i] = c.strides[i];
    if (!c.dilations.empty()) d[i] = c.dilations[i];
    int64_t pe = 0;
    if (!c.pads.empty()) {
      pb[i] = c.pads[i];
      pe = c.pads[i + n];
    }
    out[i] = (c.x_dims[i + 2] + pb[i] + pe - (c.w_dims[i + 2] - 1) * d[i] - 1) / s[i] + 1;
  }
  const int64_t batch = c.x_dims[0], cin = c.x_dims[1], m = c.w_dims[0];
  const int64_t cpg = cin / c.group, mpg = m / c.group;
  const int64_t out_size = Product(out), in_size = Product(c.x_dims, 2), k_size = Product(c.w_dims, 2);
  *out_dims = {batch, m};
  out_dims->insert(out_dims->end(), out.begin(), out.end());
  std::vector<float> y(static_cast<size_t>(batch * m * out_size));
  std::vector<int64_t> o(n), k(n);
  for (int64_t img = 0; img < batch; ++img) {
    for (int64_t oc = 0; oc < m; ++oc) {
      const int64_t g = oc / mpg;
      for (int64_t op = 0; op < out_size; ++op) {
        for (int64_t r = op, i = static_cast<int64_t>(n) - 1; i >= 0; --i) o[i] = r % out[i], r /= out[i];
        double acc = c.bias ? b[oc] : 0.0;
        for (int64_t ic = 0; ic < cpg; ++ic) {
          for (int64_t kp = 0; kp < k_size; ++kp) {
            int64_t in_off = 0;
            bool inside = true;
            for (int64_t r = kp, i = static_cast<int64_t>(n) - 1; i >= 0; --i) {
              k[i] = r % c.w_dims[i + 2];
              r /= c.w_dims[i + 2];
            }
            for (size_t i = 0; i < n; ++i) {
              int64_t pos = o[i] * s[i] + k[i] * d[i] - pb[i];
              inside = inside && pos >= 0 && pos < c.x_dims[i + 2];
              in_off = in_off * c.x_dims[i + 2] + pos;
            }
            if (!inside) continue;
            acc += double(x[(img * cin + g * cpg + ic) * in_size + in_off]) * w[(oc * cpg + ic) * k_size + kp];
          }
        }
        y[(img * m + oc) * out_size + op] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

void SetWindowAttrs(const ConvCase& c, SingleOp* op) {
  if (c.group != 1) op->attrs.Set("group", IntAttr(c.group));
  if (!c.strides.empty()) op->attrs.Set("strides", IntsAttr(c.strides));
  if (!c.dilations.empty()) op->attrs.Set("dilations", IntsAttr(c.dilations));
  if (!c.pads.empty()) op->attrs.Set("pads", IntsAttr(c.pads));
}

Result<std::vector<Tensor>> RunConv(const SingleOp& op, const ConvCase& c, const std::vector<float>& x,
                                    const std::vector<float>& w, const std::vector<float>& b) {
  ThreadPool pool(2);
  std::vector<Tensor> inputs = {Tensor::FromVector(Shape(c.x_dims), x), Tensor::FromVector(Shape(c.w_dims), w)};
  if (c.bias) inputs.push_back(Tensor::FromVector(Shape{c.w_dims[0]}, b));
  return RunSingleOp(CpuOpRegistry(), op, inputs, 1, pool);
}

void CheckClose(const Tensor& y, const std::vector<int64_t>& dims, const std::vector<float>& expected) {
  REQUIRE(y.shape() == Shape(dims));
  REQUIRE(y.NumElements() == static_cast<int64_t>(expected.size()));
  const float* v = y.data<float>();
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::abs(v[i] - expected[i]) <= 1e-4f * std::max(1.0f, std::abs(expected[i])));
  }
}

// Runs `c` through Conv (with `extra` attributes, e.g. auto_pad) and checks it against the reference, whose
// pads are `ref.pads` (the explicit equivalent of the auto_pad under test).
void CheckConv(const ConvCase& c, const ConvCase& ref, const AttributeMap& extra = {}, int opset = 17) {
  const std::vector<float> x = RandomFloats(Product(c.x_dims), 1);
  const std::vector<float> w = RandomFloats(Product(c.w_dims), 2);
  const std::vector<float> b = RandomFloats(c.w_dims[0], 3);
  SingleOp op = MakeSingleOp("Conv", opset, extra);
  SetWindowAttrs(c, &op);
  auto y = RunConv(op, c, x, w, b);
  REQUIRE(y.ok());
  std::vector<int64_t> dims;
  std::vector<float> expected = ReferenceConv(ref, x, w, b, &dims);
  CheckClose((*y)[0], dims, expected);
}
void CheckConv(const ConvCase& c) { CheckConv(c, c); }

}  // namespace

TEST_CASE("Conv 2-D matches the reference: plain, padded, strided, dilated, with bias", "[cpu][conv]") {
  CheckConv({{2, 3, 7, 6}, {4, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true});
  CheckConv({{1, 3, 9, 8}, {5, 3, 3, 2}, 1, {2, 3}, {}, {0, 1, 2, 0}, false});
  CheckConv({{1, 2, 10, 9}, {3, 2, 3, 3}, 1, {1, 2}, {2, 3}, {1, 0, 2, 1}, true});
  CheckConv({{1, 1, 5, 5}, {1, 1, 5, 5}, 1, {}, {}, {}, true});  // window covers the whole input
  CheckConv({{1, 2, 4, 4}, {3, 2, 2, 2}, 1, {}, {}, {3, 3, 3, 3}, true});  // padding larger than the kernel
  // Opset 1 uses the same kernel.
  ConvCase opset1{{1, 3, 6, 6}, {2, 3, 3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}, true};
  CheckConv(opset1, opset1, {}, 1);
}

TEST_CASE("Conv with groups and depthwise convolution", "[cpu][conv]") {
  CheckConv({{1, 4, 8, 7}, {6, 2, 3, 3}, 2, {2, 1}, {2, 1}, {1, 2, 0, 1}, true});  // grouped
  CheckConv({{2, 8, 9, 9}, {8, 1, 3, 3}, 8, {}, {}, {1, 1, 1, 1}, true});          // depthwise stride 1
  CheckConv({{1, 8, 10, 11}, {8, 1, 3, 3}, 8, {2, 2}, {}, {1, 1, 1, 1}, true});   // depthwise stride 2
  CheckConv({{1, 8, 10, 11}, {8, 1, 3, 3}, 8, {2, 2}, {}, {0, 0, 1, 1}, false});  // MobileNet-style TF pads
  CheckConv({{1, 3, 8, 8}, {6, 1, 3, 3}, 3, {1, 2}, {2, 1}, {2, 1, 0, 2}, true}); // multiplier 2, dilated
  CheckConv({{1, 1, 6, 6}, {4, 1, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true});          // one input channel
  CheckConv({{1, 4, 5, 5}, {4, 1, 5, 5}, 4, {}, {}, {0, 0, 0, 0}, true});          // window = input
  // Many (image, group) pairs: the parallel-items path with serial GEMMs.
  CheckConv({{3, 8, 6, 6}, {8, 2, 3, 3}, 4, {}, {}, {1, 1, 1, 1}, true});
  CheckConv({{5, 3, 6, 5}, {4, 3, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, true});
}

// The 3x3 depthwise rows have an AVX-512 and an AVX2 form, chosen with the SGEMM's ISA; each one the CPU runs
// is checked over widths that leave every partial last vector, with padded and unpadded borders.
TEST_CASE("Conv 3x3 depthwise matches the reference on every ISA level", "[cpu][conv]") {
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx2, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO("isa " << cpu::SgemmIsaName(isa));
    for (int64_t width : {1, 2, 3, 5, 8, 9, 16, 17, 18, 31, 33, 40, 57}) {
      INFO("width " << width);
      for (int64_t stride : {1, 2}) {
        CheckConv({{1, 3, 5, width}, {3, 1, 3, 3}, 3, {stride, stride}, {}, {1, 1, 1, 1}, true});
        if (width >= 2) CheckConv({{1, 2, 4, width}, {2, 1, 3, 3}, 2, {1, stride}, {}, {0, 0, 1, 1}, false});
        CheckConv({{1, 2, 3, width}, {4, 1, 3, 3}, 2, {stride, stride}, {}, {2, 2, 2, 2}, true});
        CheckConv({{1, 2, 7, width}, {2, 1, 3, 3}, 2, {stride, stride}, {2, 1}, {2, 1, 1, 1}, true});
        // Asymmetric and oversized pads (whole rows and columns of padding) in the padded-plane path.
        CheckConv({{1, 2, 6, width}, {2, 1, 3, 3}, 2, {stride, stride}, {}, {1, 0, 0, 2}, true});
        CheckConv({{1, 1, 4, width}, {1, 1, 3, 3}, 1, {stride, stride}, {}, {3, 3, 3, 3}, true});
      }
    }
    // Output planes of at most 64 take the channel-blocked kernel on AVX-512: 16 channels per block, the last
    // block partial, stride 1 and 2, "same" and TF-style pads, planes from 1x1 to 8x8 outputs.
    for (int64_t side : {1, 3, 7, 8, 13, 14, 15}) {
      INFO("side " << side);
      CheckConv({{2, 40, side, side}, {40, 1, 3, 3}, 40, {1, 1}, {}, {1, 1, 1, 1}, true});
      CheckConv({{1, 33, side, side + 1}, {33, 1, 3, 3}, 33, {2, 2}, {}, {1, 1, 1, 1}, true});
      if (side >= 2) CheckConv({{1, 17, side, side}, {17, 1, 3, 3}, 17, {2, 2}, {}, {0, 0, 1, 1}, false});
    }
    // A plane too large for the padded copy takes the row path.
    CheckConv({{1, 2, 260, 260}, {2, 1, 3, 3}, 2, {}, {}, {1, 1, 1, 1}, true});
  }
  cpu::ResetSgemmIsa();
}

// Stride-2 im2col rows gather every other input column, with an AVX-512 form; every width leaves a different
// partial last vector and padded border.
TEST_CASE("Conv stride-2 im2col rows match the reference on every ISA level", "[cpu][conv]") {
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx2, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO("isa " << cpu::SgemmIsaName(isa));
    for (int64_t width = 1; width <= 70; width += (width < 40 ? 1 : 7)) {
      INFO("width " << width);
      // Five input channels: up to four take the small-channel direct path on AVX-512 (tested below).
      CheckConv({{1, 5, 5, width}, {4, 5, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, true});
      if (width >= 3) CheckConv({{1, 6, 6, width}, {3, 6, 3, 3}, 1, {2, 2}, {}, {0, 0, 0, 0}, false});
      CheckConv({{1, 2, 7, width}, {3, 2, 1, 1}, 1, {2, 2}, {}, {}, true});
    }
  }
  cpu::ResetSgemmIsa();
}

// Convolutions over at most four input channels (an RGB stem) run a direct AVX-512 kernel: 16 output channels
// per pass, vectors along the output row, stride 1 and 2 from plain or masked loads, other strides gathered.
// Widths cross the 16- and 32-column vector boundaries with every kind of border.
TEST_CASE("Conv with few input channels matches the reference on every ISA level", "[cpu][conv]") {
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx2, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO("isa " << cpu::SgemmIsaName(isa));
    for (int64_t width : {1, 4, 15, 16, 17, 31, 33, 47, 70}) {
      INFO("width " << width);
      CheckConv({{2, 3, 9, width}, {17, 3, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, true});   // MobileNet's stem
      CheckConv({{1, 3, 8, width}, {33, 3, 3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}, false});  // stride 1
      CheckConv({{1, 1, 6, width + 2}, {5, 1, 3, 3}, 1, {2, 2}, {}, {0, 0, 0, 0}, true});  // SqueezeNet-like
      CheckConv({{1, 4, 12, width + 6}, {16, 4, 7, 7}, 1, {2, 2}, {}, {3, 3, 3, 3}, true});  // ResNet's stem
      CheckConv({{1, 2, 7, width}, {7, 2, 1, 3}, 1, {1, 3}, {}, {0, 2, 1, 1}, true});    // stride 3: gathered
      CheckConv({{1, 3, 9, width + 4}, {16, 3, 5, 3}, 1, {3, 2}, {}, {2, 0, 1, 3}, true});  // asymmetric pads
    }
  }
  cpu::ResetSgemmIsa();
}

TEST_CASE("Conv 1x1 runs as a plain GEMM, grouped or not", "[cpu][conv]") {
  CheckConv({{2, 16, 5, 7}, {24, 16, 1, 1}, 1, {}, {}, {}, true});
  CheckConv({{1, 8, 4, 4}, {6, 4, 1, 1}, 2, {}, {}, {}, false});
  CheckConv({{1, 8, 7, 7}, {6, 8, 1, 1}, 1, {2, 2}, {}, {}, true});      // strided 1x1 needs im2col
  CheckConv({{1, 4, 3, 3}, {5, 4, 1, 1}, 1, {}, {}, {1, 0, 1, 1}, true});  // padded 1x1 too
}

TEST_CASE("Conv auto_pad SAME_UPPER, SAME_LOWER and VALID", "[cpu][conv]") {
  AttributeMap upper, lower, valid;
  upper.Set("auto_pad", StringAttr("SAME_UPPER"));
  lower.Set("auto_pad", StringAttr("SAME_LOWER"));
  valid.Set("auto_pad", StringAttr("VALID"));
  // 7x7 input, 2x2 kernel, stride 1: one unit of padding per axis, at the end (UPPER) or the begin (LOWER).
  ConvCase even{{1, 2, 7, 7}, {3, 2, 2, 2}, 1, {}, {}, {}, false};
  ConvCase even_upper = even, even_lower = even;
  even_upper.pads = {0, 0, 1, 1};
  even_lower.pads = {1, 1, 0, 0};
  CheckConv(even, even_upper, upper);
  CheckConv(even, even_lower, lower);
  // 8x7 input, 3x3 kernel, stride 2: out 4x4; total pads 1 (rows) and 2 (cols).
  ConvCase strided{{1, 4, 8, 7}, {4, 1, 3, 3}, 4, {2, 2}, {}, {}, true};
  ConvCase up_ref = strided, low_ref = strided;
  up_ref.pads = {0, 1, 1, 1};
  low_ref.pads = {1, 1, 0, 1};
  CheckConv(strided, up_ref, upper);
  CheckConv(strided, low_ref, lower);
  ConvCase valid_case{{1, 2, 8, 7}, {3, 2, 3, 2}, 1, {2, 3}, {}, {}, true};
  CheckConv(valid_case, valid_case, valid);
}

TEST_CASE("Conv 1-D and 3-D", "[cpu][conv]") {
  CheckConv({{2, 3, 17}, {4, 3, 3}, 1, {2}, {2}, {1, 3}, true});
  CheckConv({{1, 4, 12}, {8, 1, 5}, 4, {1}, {}, {2, 2}, true});  // depthwise 1-D with multiplier
  CheckConv({{1, 6, 9}, {6, 6, 1}, 1, {}, {}, {}, false});       // pointwise 1-D
  CheckConv({{1, 2, 5, 6, 7}, {3, 2, 3, 3, 3}, 1, {1, 2, 1}, {}, {1, 1, 0, 1, 1, 2}, true});
  CheckConv({{2, 4, 4, 5, 6}, {4, 2, 2, 3, 2}, 2, {2, 1, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 0}, false});
  CheckConv({{1, 3, 4, 4, 4}, {3, 1, 3, 3, 3}, 3, {}, {}, {1, 1, 1, 1, 1, 1}, true});  // depthwise 3-D
}

TEST_CASE("Conv accepts a matching kernel_shape and float64", "[cpu][conv]") {
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({3, 3}));
  ConvCase c{{1, 2, 5, 5}, {2, 2, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, false};
  CheckConv(c, c, attrs);

  // float64: a 1x1 input channel with a 2x2 kernel of ones sums 2x2 windows.
  ThreadPool pool(2);
  Tensor x = Tensor::FromVector<double>(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = Tensor::FromVector<double>(Shape{1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor b = Tensor::FromVector<double>(Shape{1}, {0.5});
  auto y = RunSingleOp(CpuOpRegistry(), MakeSingleOp("Conv", 11), {x, w, b}, 1, pool);
  REQUIRE(y.ok());
  REQUIRE((*y)[0].shape() == Shape{1, 1, 2, 2});
  const double* v = (*y)[0].data<double>();
  CHECK(v[0] == 12.5);
  CHECK(v[1] == 16.5);
  CHECK(v[2] == 24.5);
  CHECK(v[3] == 28.5);
}

TEST_CASE("Conv shape inference handles unknown dims at load time", "[cpu][conv]") {
  auto def = CpuOpRegistry().Find("", "Conv", 13, {DataType::kFloat32, DataType::kFloat32});
  REQUIRE(def.ok());
  AttributeMap attrs;
  attrs.Set("strides", IntsAttr({2, 2}));
  attrs.Set("auto_pad", StringAttr("SAME_UPPER"));
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{-1, 3, 224, -1});
  ValueType w = ValueType::Of(DataType::kFloat32, Shape{32, 3, 3, 3});
  InferenceContext ctx("c", "Conv", 13, attrs, {&x, &w}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).dims == Shape{-1, 32, 112, -1});

  ValueType unknown = ValueType::UnknownRank(DataType::kFloat32);
  InferenceContext ctx2("c", "Conv", 13, attrs, {&unknown, &w}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx2).ok());
  CHECK(ctx2.output(0).dims == Shape{-1, 32, -1, -1});
}

TEST_CASE("Conv rejects inconsistent inputs and attributes", "[cpu][conv]") {
  ThreadPool pool(2);
  auto run = [&](std::vector<int64_t> xd, std::vector<int64_t> wd, AttributeMap attrs, int64_t bias = -1) {
    std::vector<Tensor> in = {Tensor::FromVector(Shape(xd), RandomFloats(Product(xd), 1)),
                              Tensor::FromVector(Shape(wd), RandomFloats(Product(wd), 2))};
    if (bias >= 0) in.push_back(Tensor::FromVector(Shape{bias}, RandomFloats(bias, 3)));
    return RunSingleOp(CpuOpRegistry(), MakeSingleOp("Conv", 13, attrs), in, 1, pool).status();
  };
  Status s = run({1, 3, 5, 5}, {4, 2, 3, 3}, {});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("input channels"));

  AttributeMap grouped;
  grouped.Set("group", IntAttr(2));
  s = run({1, 3, 5, 5}, {4, 1, 3, 3}, grouped);
  CHECK_THAT(s.message(), Catch::Contains("does not divide the 3 input channels"));
  s = run({1, 4, 5, 5}, {3, 2, 3, 3}, grouped);
  CHECK_THAT(s.message(), Catch::Contains("output channels"));

  s = run({1, 3, 5, 5}, {4, 3, 3, 3}, {}, 5);
  CHECK_THAT(s.message(), Catch::Contains("bias"));
  s = run({3, 5}, {4, 5}, {});
  CHECK_THAT(s.message(), Catch::Contains("rank >= 3"));
  s = run({1, 3, 5, 5}, {4, 3, 3}, {});
  CHECK_THAT(s.message(), Catch::Contains("rank of X"));
  s = run({1, 3, 2, 2}, {4, 3, 3, 3}, {});
  CHECK_THAT(s.message(), Catch::Contains("smaller than the window"));

  AttributeMap bad_kernel, bad_pad, bad_strides, bad_group;
  bad_kernel.Set("kernel_shape", IntsAttr({2, 2}));
  CHECK_THAT(run({1, 3, 5, 5}, {4, 3, 3, 3}, bad_kernel).message(), Catch::Contains("kernel_shape"));
  bad_pad.Set("auto_pad", StringAttr("SAME"));
  CHECK_THAT(run({1, 3, 5, 5}, {4, 3, 3, 3}, bad_pad).message(), Catch::Contains("auto_pad"));
  bad_strides.Set("strides", IntsAttr({1, 1, 1}));
  CHECK_THAT(run({1, 3, 5, 5}, {4, 3, 3, 3}, bad_strides).message(), Catch::Contains("strides"));
  bad_group.Set("group", IntAttr(0));
  CHECK_THAT(run({1, 3, 5, 5}, {4, 3, 3, 3}, bad_group).message(), Catch::Contains("group"));

  // Integer inputs are not a Conv type.
  Tensor xi = Tensor::FromVector<int32_t>(Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  CHECK(RunSingleOp(CpuOpRegistry(), MakeSingleOp("Conv", 13), {xi, xi}, 1, pool).status().code() ==
        StatusCode::kUnimplemented);
}
