#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::IntAttr;
using test::IntsAttr;
using test::StringAttr;

struct Case {
  std::vector<int64_t> x_dims, w_dims;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads, output_padding, output_shape;
  std::string auto_pad;
  bool bias = false;
};

SingleOp MakeOp(const Case& c) {
  SingleOp op;
  op.op_type = "ConvTranspose";
  op.opset = 11;
  if (c.group != 1) op.attrs.Set("group", IntAttr(c.group));
  if (!c.strides.empty()) op.attrs.Set("strides", IntsAttr(c.strides));
  if (!c.dilations.empty()) op.attrs.Set("dilations", IntsAttr(c.dilations));
  if (!c.pads.empty()) op.attrs.Set("pads", IntsAttr(c.pads));
  if (!c.output_padding.empty()) op.attrs.Set("output_padding", IntsAttr(c.output_padding));
  if (!c.output_shape.empty()) op.attrs.Set("output_shape", IntsAttr(c.output_shape));
  if (!c.auto_pad.empty()) op.attrs.Set("auto_pad", StringAttr(c.auto_pad));
  return op;
}

int64_t Product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

std::vector<double> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = dist(rng);
  return v;
}

// Scatter form, straight from the definition: every input value times every kernel tap lands on output
// position in * stride + k * dilation - pad_begin. `out` holds the spatial output dims.
std::vector<double> Reference(const Case& c, const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>& b, const std::vector<int64_t>& pad_begin,
                              const std::vector<int64_t>& out) {
  const size_t n = c.x_dims.size() - 2;
  const int64_t batch = c.x_dims[0], channels = c.x_dims[1], mpg = c.w_dims[1], cpg = channels / c.group;
  const int64_t m_total = mpg * c.group, in_size = Product(c.x_dims, 2), k_size = Product(c.w_dims, 2);
  const int64_t out_size = Product(out);
  std::vector<double> y(static_cast<size_t>(batch * m_total * out_size), 0.0);
  for (int64_t i = 0; i < batch * m_total; ++i) {
    for (int64_t o = 0; o < out_size; ++o) y[i * out_size + o] = b.empty() ? 0.0 : b[i % m_total];
  }
  for (int64_t img = 0; img < batch; ++img) {
    for (int64_t ch = 0; ch < channels; ++ch) {
      for (int64_t mo = 0; mo < mpg; ++mo) {
        const int64_t m = (ch / cpg) * mpg + mo;
        for (int64_t p = 0; p < in_size; ++p) {
          for (int64_t kk = 0; kk < k_size; ++kk) {
            int64_t rest_p = p, rest_k = kk, index = 0, scale = 1;
            bool inside = true;
            for (size_t a = n; a-- > 0;) {
              const int64_t ip = rest_p % c.x_dims[a + 2], kp = rest_k % c.w_dims[a + 2];
              rest_p /= c.x_dims[a + 2];
              rest_k /= c.w_dims[a + 2];
              const int64_t s = c.strides.empty() ? 1 : c.strides[a];
              const int64_t d = c.dilations.empty() ? 1 : c.dilations[a];
              const int64_t o = ip * s + kp * d - pad_begin[a];
              inside = inside && o >= 0 && o < out[a];
              index += o * scale;
              scale *= out[a];
            }
            if (!inside) continue;
            y[(img * m_total + m) * out_size + index] +=
                x[(img * channels + ch) * in_size + p] * w[(ch * mpg + mo) * k_size + kk];
          }
        }
      }
    }
  }
  return y;
}

template <typename T>
Tensor ToTensor(const std::vector<int64_t>& dims, const std::vector<double>& v) {
  return Tensor::FromVector<T>(Shape(dims), std::vector<T>(v.begin(), v.end()));
}

template <typename T = float>
void CheckCase(const Case& c, const std::vector<int64_t>& pad_begin, const std::vector<int64_t>& out, uint32_t seed) {
  ThreadPool pool(2);
  const std::vector<double> x = Random(Product(c.x_dims), seed);
  const std::vector<double> w = Random(Product(c.w_dims), seed + 1);
  const std::vector<double> b = c.bias ? Random(c.w_dims[1] * c.group, seed + 2) : std::vector<double>{};
  std::vector<Tensor> inputs = {ToTensor<T>(c.x_dims, x), ToTensor<T>(c.w_dims, w)};
  if (c.bias) inputs.push_back(ToTensor<T>({c.w_dims[1] * c.group}, b));
  auto result = RunSingleOp(CpuOpRegistry(), MakeOp(c), inputs, 1, pool);
  REQUIRE(result.ok());
  const Tensor& y = (*result)[0];
  std::vector<int64_t> dims = {c.x_dims[0], c.w_dims[1] * c.group};
  dims.insert(dims.end(), out.begin(), out.end());
  REQUIRE(y.shape() == Shape(dims));
  const std::vector<double> expected = Reference(c, x, w, b, pad_begin, out);
  for (size_t i = 0; i < expected.size(); ++i) CHECK(y.data<T>()[i] == Approx(expected[i]).margin(1e-4));
}

Status RunError(const Case& c) {
  ThreadPool pool(2);
  std::vector<Tensor> inputs = {ToTensor<float>(c.x_dims, Random(Product(c.x_dims), 1)),
                                ToTensor<float>(c.w_dims, Random(Product(c.w_dims), 2))};
  if (c.bias) inputs.push_back(ToTensor<float>({5}, Random(5, 3)));
  auto result = RunSingleOp(CpuOpRegistry(), MakeOp(c), inputs, 1, pool);
  return result.ok() ? Status::Ok() : result.status();
}

}  // namespace

TEST_CASE("ConvTranspose matches the spec's example", "[cpu][conv_transpose]") {
  ThreadPool pool(2);
  Tensor x = Tensor::FromVector<float>(Shape{1, 1, 3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  Tensor w = Tensor::FromVector<float>(Shape{1, 2, 3, 3}, std::vector<float>(18, 1.0f));
  auto result = RunSingleOp(CpuOpRegistry(), MakeOp(Case{}), {x, w}, 1, pool);
  REQUIRE(result.ok());
  const Tensor& y = (*result)[0];
  REQUIRE(y.shape() == Shape{1, 2, 5, 5});
  const float row2[] = {9, 21, 36, 27, 15};
  for (int i = 0; i < 5; ++i) {
    CHECK(y.data<float>()[10 + i] == row2[i]);
    CHECK(y.data<float>()[25 + 10 + i] == row2[i]);
  }
}

TEST_CASE("ConvTranspose with groups, strides, dilations, pads and output_padding", "[cpu][conv_transpose]") {
  // 1-D: out = 2 * (5 - 1) + 1 + 2 * 2 + 1 - 1 - 2 = 11.
  CheckCase({{2, 4, 5}, {4, 3, 3}, 2, {2}, {2}, {1, 2}, {1}, {}, "", true}, {1}, {11}, 10);
  // 2-D: out = [2 * 3 + 1 + 1 - 0 - 2, 3 * 2 + 2 * 2 + 1 - 1 - 0] = [6, 10].
  CheckCase({{1, 3, 4, 3}, {3, 2, 2, 3}, 1, {2, 3}, {1, 2}, {0, 1, 2, 0}, {}, {}, "", true}, {0, 1}, {6, 10}, 20);
  // 3-D, one channel per group, and a batch large enough for the parallel per-image path.
  CheckCase({{4, 2, 3, 2, 3}, {2, 1, 2, 2, 2}, 2, {1, 2, 1}, {}, {}, {}, {}, "", false}, {0, 0, 0}, {4, 4, 4}, 30);
  CheckCase<double>({{1, 3, 4, 3}, {3, 2, 2, 3}, 1, {2, 3}, {1, 2}, {0, 1, 2, 0}, {}, {}, "", true}, {0, 1}, {6, 10},
                    40);
}

TEST_CASE("ConvTranspose derives pads from output_shape and auto_pad", "[cpu][conv_transpose]") {
  // full = [3 * 2 + 3, 2 * 2 + 3] = [9, 7]; output_shape one past it: the extra row and column stay at 0.
  CheckCase({{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {3, 2}, {}, {}, {}, {10, 8}, "", false}, {0, 0}, {10, 8}, 50);
  // Smaller than full: total padding 3 (rows) and 1 (cols), the larger half at the beginning for NOTSET.
  CheckCase({{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {3, 2}, {}, {}, {}, {6, 6}, "", false}, {2, 1}, {6, 6}, 60);
  // SAME_UPPER: out = in * stride = 6, total padding 1, at the end; SAME_LOWER puts it at the beginning.
  CheckCase({{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {2, 2}, {}, {}, {}, {}, "SAME_UPPER", false}, {0, 0}, {6, 6}, 70);
  CheckCase({{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {2, 2}, {}, {}, {}, {}, "SAME_LOWER", false}, {1, 1}, {6, 6}, 80);
  CheckCase({{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, {}, {}, "VALID", false}, {0, 0}, {7, 7}, 90);
}

TEST_CASE("ConvTranspose rejects inconsistent inputs and attributes", "[cpu][conv_transpose]") {
  auto make = [](std::vector<int64_t> x, std::vector<int64_t> w) {
    Case c;
    c.x_dims = std::move(x);
    c.w_dims = std::move(w);
    return c;
  };
  Status s = RunError(make({1, 3, 4, 4}, {2, 2, 3, 3}));
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("W dim 0 == C"));
  Case c = make({1, 2, 4, 4}, {2, 2, 3, 3});
  c.output_shape = {5, 5, 5};
  CHECK_THAT(RunError(c).message(), Catch::Contains("output_shape has 3 values"));
  c = make({1, 2, 4, 4}, {2, 2, 3, 3});
  c.bias = true;
  CHECK_THAT(RunError(c).message(), Catch::Contains("one value per output channel"));
  c = make({1, 2, 4, 4}, {2, 2, 3, 3});
  c.strides = {1, 1, 1};
  CHECK_THAT(RunError(c).message(), Catch::Contains("strides"));
  c = make({1, 3, 4, 4}, {3, 2, 3, 3});
  c.group = 2;
  CHECK_THAT(RunError(c).message(), Catch::Contains("does not divide"));
}

TEST_CASE("ConvTranspose shape inference handles unknown dims at load time", "[cpu][conv_transpose]") {
  auto def = CpuOpRegistry().Find("", "ConvTranspose", 11, {DataType::kFloat32, DataType::kFloat32});
  REQUIRE(def.ok());
  AttributeMap attrs;
  attrs.Set("strides", IntsAttr({2, 2}));
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{-1, 3, 10, -1});
  ValueType w = ValueType::Of(DataType::kFloat32, Shape{3, 4, 3, 3});
  InferenceContext ctx("c", "ConvTranspose", 11, attrs, {&x, &w}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).dims == Shape{-1, 4, 21, -1});

  attrs.Set("output_shape", IntsAttr({20, 30}));
  InferenceContext ctx2("c", "ConvTranspose", 11, attrs, {&x, &w}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx2).ok());
  CHECK(ctx2.output(0).dims == Shape{-1, 4, 20, 30});

  ValueType unknown = ValueType::UnknownRank(DataType::kFloat32);
  InferenceContext ctx3("c", "ConvTranspose", 11, attrs, {&unknown, &w}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx3).ok());
  CHECK(ctx3.output(0).dims == Shape{-1, 4, 20, 30});
}
