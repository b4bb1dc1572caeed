// com.edgeai fused ops: each must equal its base op followed by the standalone activation (and bias).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::FloatAttr;
using test::FloatsAttr;
using test::IntAttr;
using test::IntsAttr;
using test::StringAttr;

Tensor Random(const Shape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<float> v(static_cast<size_t>(shape.NumElements()));
  for (float& x : v) x = u(rng);
  return Tensor::FromVector<float>(shape, v);
}

Result<Tensor> Run(const SingleOp& op, const std::vector<Tensor>& inputs) {
  EDGEAI_ASSIGN_OR_RETURN(std::vector<Tensor> out, test::Run(op, inputs));
  return out[0];
}

Tensor MustRun(const SingleOp& op, const std::vector<Tensor>& inputs) {
  Result<Tensor> out = Run(op, inputs);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return std::move(out).value();
}

SingleOp Fused(const std::string& op, const std::string& activation, const std::vector<float>& params,
               int opset = 13) {
  SingleOp s{op, opset, {}, "com.edgeai"};
  s.attrs.Set("activation", StringAttr(activation));
  s.attrs.Set("activation_params", FloatsAttr(params));
  return s;
}

// The standalone activation node equivalent to (activation, params).
SingleOp Standalone(const std::string& activation, const std::vector<float>& params, std::vector<Tensor>* extra) {
  SingleOp s{activation, 14};
  if (activation == "LeakyRelu") s.attrs.Set("alpha", FloatAttr(params[0]));
  if (activation == "HardSigmoid") {
    s.attrs.Set("alpha", FloatAttr(params[0]));
    s.attrs.Set("beta", FloatAttr(params[1]));
  }
  if (activation == "Clip") {
    extra->push_back(Tensor::Scalar<float>(params[0]));
    extra->push_back(Tensor::Scalar<float>(params[1]));
  }
  return s;
}

void CheckClose(const Tensor& expected, const Tensor& actual, double tol = 1e-6) {
  REQUIRE(actual.shape() == expected.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    double e = expected.data<float>()[i], a = actual.data<float>()[i];
    if (!(std::fabs(a - e) <= tol * (1 + std::fabs(e)))) ++bad;
  }
  CHECK(bad == 0);
}

struct ActCase {
  std::string name;
  std::vector<float> params;
};
const ActCase kActivations[] = {{"", {}},          {"Relu", {}},           {"Sigmoid", {}},
                                {"Tanh", {}},      {"HardSwish", {}},      {"LeakyRelu", {0.1f}},
                                {"HardSigmoid", {0.25f, 0.4f}}, {"Clip", {-0.5f, 1.5f}}};

Tensor Activate(const ActCase& act, const Tensor& x) {
  if (act.name.empty()) return x;
  std::vector<Tensor> inputs = {x};
  SingleOp op = Standalone(act.name, act.params, &inputs);
  return MustRun(op, inputs);
}

}  // namespace

TEST_CASE("FusedConv equals Conv followed by the activation", "[cpu][fused_ops]") {
  // The activation is applied by each of Conv's paths as it stores: im2col GEMM, pointwise GEMM (K split into
  // several blocks), depthwise planes (and 16-channel blocks of small planes), the small-channel direct kernel (at most 4
  // input channels).
  struct ConvCase {
    const char* what;
    Shape x, w;
    int64_t group, pad;
  };
  const ConvCase cases[] = {{"3x3 im2col", Shape{2, 5, 6, 6}, Shape{4, 5, 3, 3}, 1, 1},
                            {"3x3 small-channel direct", Shape{2, 3, 6, 20}, Shape{18, 3, 3, 3}, 1, 1},
                            {"1x1 pointwise", Shape{1, 300, 5, 7}, Shape{20, 300, 1, 1}, 1, 0},
                            {"3x3 depthwise", Shape{2, 8, 9, 9}, Shape{8, 1, 3, 3}, 8, 1},
                            {"3x3 depthwise, channel-blocked", Shape{2, 20, 7, 7}, Shape{20, 1, 3, 3}, 20, 1}};
  for (const ConvCase& c : cases) {
    Tensor x = Random(c.x, 1), w = Random(c.w, 2), b = Random(Shape{c.w[0]}, 3);
    SingleOp conv{"Conv", 13};
    conv.attrs.Set("pads", IntsAttr({c.pad, c.pad, c.pad, c.pad}));
    conv.attrs.Set("group", IntAttr(c.group));
    Tensor base = MustRun(conv, {x, w, b});
    for (const ActCase& act : kActivations) {
      INFO(c.what << ", activation '" << act.name << "'");
      SingleOp fused = Fused("FusedConv", act.name, act.params);
      fused.attrs.Set("pads", *conv.attrs.Find("pads"));
      fused.attrs.Set("group", *conv.attrs.Find("group"));
      CheckClose(Activate(act, base), MustRun(fused, {x, w, b}), 1e-5);
    }
  }
}

TEST_CASE("FusedGemm equals Gemm followed by the activation", "[cpu][fused_ops]") {
  // C as a row vector (the GEMM's column bias), a full matrix, a scalar; beta 1 and not.
  Tensor a = Random(Shape{5, 7}, 4), bt = Random(Shape{3, 7}, 5);
  for (const Shape& c_shape : {Shape{3}, Shape{1, 3}, Shape{5, 3}, Shape{1}}) {
    for (float beta : {1.0f, 0.25f}) {
      Tensor c = Random(c_shape, 6);
      // alpha * A * B^T + beta * C, by hand.
      std::vector<float> want(15);
      for (int64_t i = 0; i < 5; ++i) {
        for (int64_t j = 0; j < 3; ++j) {
          double sum = 0;
          for (int64_t k = 0; k < 7; ++k) sum += a.data<float>()[i * 7 + k] * bt.data<float>()[j * 7 + k];
          const int64_t ci = c_shape.rank() == 2 && c_shape[0] == 5 ? i * 3 + j : (c.NumElements() == 1 ? 0 : j);
          want[static_cast<size_t>(i * 3 + j)] = static_cast<float>(0.5 * sum + beta * c.data<float>()[ci]);
        }
      }
      const Tensor base = Tensor::FromVector<float>(Shape{5, 3}, want);
      for (const ActCase& act : kActivations) {
        INFO("activation '" << act.name << "' C " << c.Describe() << " beta " << beta);
        SingleOp fused = Fused("FusedGemm", act.name, act.params);
        fused.attrs.Set("transB", IntAttr(1));
        fused.attrs.Set("alpha", FloatAttr(0.5f));
        fused.attrs.Set("beta", FloatAttr(beta));
        CheckClose(Activate(act, base), MustRun(fused, {a, bt, c}), 1e-5);
      }
    }
  }
}

TEST_CASE("FusedMatMul adds its optional bias before the activation", "[cpu][fused_ops]") {
  Tensor a = Random(Shape{2, 3, 4}, 7), b = Random(Shape{4, 5}, 8);
  Tensor product = MustRun(SingleOp{"MatMul", 13}, {a, b});
  for (const Tensor& bias : {Random(Shape{5}, 9), Tensor::FromVector<float>(Shape{1}, {0.75f})}) {
    Tensor biased = MustRun(SingleOp{"Add", 13}, {product, bias});
    for (const ActCase& act : kActivations) {
      INFO("activation '" << act.name << "' bias " << bias.Describe());
      CheckClose(Activate(act, biased), MustRun(Fused("FusedMatMul", act.name, act.params), {a, b, bias}));
      CheckClose(Activate(act, product), MustRun(Fused("FusedMatMul", act.name, act.params), {a, b}));
    }
  }
}

TEST_CASE("fused ops refuse bad activations and biases", "[cpu][fused_ops]") {
  Tensor a = Random(Shape{2, 4}, 10), b = Random(Shape{4, 3}, 11);
  Result<Tensor> unknown = Run(Fused("FusedMatMul", "Swish", {}), {a, b});
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(unknown.status().message(), Catch::Contains("unknown activation 'Swish'"));
  Result<Tensor> params = Run(Fused("FusedMatMul", "LeakyRelu", {}), {a, b});
  CHECK_THAT(params.status().message(), Catch::Contains("LeakyRelu takes 1 activation_params, got 0"));
  Result<Tensor> bias = Run(Fused("FusedMatMul", "Relu", {}), {a, b, Random(Shape{4}, 12)});
  CHECK(bias.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bias.status().message(), Catch::Contains("FusedMatMul node 'test'") && Catch::Contains("bias"));
  Result<Tensor> shapes = Run(Fused("FusedMatMul", "Relu", {}), {a, Random(Shape{3, 3}, 13)});
  CHECK(shapes.status().code() == StatusCode::kInvalidArgument);
  Tensor one = Tensor::FromVector<int64_t>(Shape{1, 1}, {1});
  Result<Tensor> ints = Run(Fused("FusedGemm", "Relu", {}), {one, one});
  CHECK_FALSE(ints.ok());
}

TEST_CASE("com.edgeai Gelu is the exact erf GELU", "[cpu][fused_ops]") {
  std::vector<float> xs = {-4, -3, -1, -0.5f, 0, 0.25f, 0.5f, 1, 2, 3, 6};
  Tensor x = Tensor::FromVector<float>(Shape{11}, xs);
  Tensor y = MustRun(SingleOp{"Gelu", 13, {}, "com.edgeai"}, {x});
  for (size_t i = 0; i < xs.size(); ++i) {
    double v = xs[i];
    double expected = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    CHECK(y.data<float>()[i] == Approx(expected).margin(1e-6));
  }
  Tensor d = MustRun(SingleOp{"Gelu", 13, {}, "com.edgeai"}, {Tensor::FromVector<double>(Shape{2}, {1.0, -1.0})});
  CHECK(d.data<double>()[0] == Approx(0.8413447460685429).epsilon(1e-12));
  SingleOp tanh_form{"Gelu", 13, {}, "com.edgeai"};
  tanh_form.attrs.Set("approximate", StringAttr("tanh"));
  Result<Tensor> refused = Run(tanh_form, {x});
  CHECK_THAT(refused.status().message(), Catch::Contains("approximate 'tanh'"));
}

TEST_CASE("com.edgeai LayerNormalization runs at any opset like LayerNormalization-17", "[cpu][fused_ops]") {
  Tensor x = Random(Shape{2, 3, 8}, 14), gamma = Random(Shape{8}, 15), beta = Random(Shape{8}, 16);
  SingleOp onnx_ln{"LayerNormalization", 17};
  onnx_ln.attrs.Set("epsilon", FloatAttr(1e-3f));
  SingleOp fused{"LayerNormalization", 11, {}, "com.edgeai"};
  fused.attrs.Set("epsilon", FloatAttr(1e-3f));
  CheckClose(MustRun(onnx_ln, {x, gamma, beta}), MustRun(fused, {x, gamma, beta}), 0);
  Result<Tensor> bad = Run(fused, {x, Random(Shape{5}, 17)});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
}
