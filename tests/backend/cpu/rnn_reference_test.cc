// The recurrent ops (RNN, GRU, LSTM) swept over directions, layouts, sequence_lens, optional inputs, activations,
// dtypes and sizes, against the naive double-precision reference below, which follows the ONNX equations one batch
// entry and one direction at a time. (rnn_test.cc anchors the same semantics on numpy-computed numbers.) The
// float32 fast path (packed R, vector gate math) is checked on every kernel level and with R known only at run time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/gemm.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

struct Case {
  std::string op = "GRU";
  int opset = 17;
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t lbr = 0;
  int64_t input_forget = 0;
  float clip = 0.0f;
  std::vector<std::string> acts;
  std::vector<float> alphas, betas;
  int64_t seq = 4, batch = 3, input = 5, hidden = 6;
  bool bias = true, h0 = true, c0 = true, peep = false;
  std::vector<int32_t> lens;  // empty: input absent
  bool runtime_weights = false;  // no input known when the kernel is created: W and R are packed by each run

  int Gates() const { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }
  int64_t Directions() const { return direction == "bidirectional" ? 2 : 1; }
  std::string Describe() const {
    return op + " " + direction + " layout=" + std::to_string(layout) + " lbr=" + std::to_string(lbr) +
           " lens=" + std::to_string(lens.size()) + " bias=" + std::to_string(bias) + " h0=" + std::to_string(h0) +
           " peep=" + std::to_string(peep) + " acts=" + std::to_string(acts.size()) + " batch=" +
           std::to_string(batch) + " hidden=" + std::to_string(hidden) + " clip=" + std::to_string(clip) +
           (runtime_weights ? " runtime weights" : "");
  }
};

SingleOp MakeOp(const Case& c) {
  SingleOp op = MakeSingleOp(c.op, c.opset);
  op.attrs.Set("hidden_size", IntAttr(c.hidden));
  op.attrs.Set("direction", StringAttr(c.direction));
  if (c.layout != 0) op.attrs.Set("layout", IntAttr(c.layout));
  if (c.op == "GRU") op.attrs.Set("linear_before_reset", IntAttr(c.lbr));
  if (c.op == "LSTM") op.attrs.Set("input_forget", IntAttr(c.input_forget));
  if (c.clip > 0) op.attrs.Set("clip", FloatAttr(c.clip));
  if (!c.acts.empty()) op.attrs.Set("activations", StringsAttr(c.acts));
  if (!c.alphas.empty()) op.attrs.Set("activation_alpha", FloatsAttr(c.alphas));
  if (!c.betas.empty()) op.attrs.Set("activation_beta", FloatsAttr(c.betas));
  return op;
}

template <typename T>
Tensor Random(const Shape& shape, double scale, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-scale, scale);
  std::vector<T> v(static_cast<size_t>(shape.NumElements()));
  for (T& x : v) x = static_cast<T>(dist(rng));
  return Tensor::FromVector<T>(shape, v);
}

template <typename T>
std::vector<Tensor> MakeInputs(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t nd = c.Directions(), gh = c.Gates() * c.hidden;
  const double w = 1.0 / std::sqrt(static_cast<double>(std::max(c.input, c.hidden)));
  const Shape state = c.layout ? Shape{c.batch, nd, c.hidden} : Shape{nd, c.batch, c.hidden};
  std::vector<Tensor> in = {
      Random<T>(c.layout ? Shape{c.batch, c.seq, c.input} : Shape{c.seq, c.batch, c.input}, 1.0, rng),
      Random<T>({nd, gh, c.input}, w, rng), Random<T>({nd, gh, c.hidden}, w, rng),
      c.bias ? Random<T>({nd, 2 * gh}, 0.5, rng) : Tensor(), c.lens.empty() ? Tensor() : I32s(c.lens),
      c.h0 ? Random<T>(state, 0.8, rng) : Tensor()};
  if (c.op == "LSTM") {
    in.push_back(c.c0 ? Random<T>(state, 0.8, rng) : Tensor());
    in.push_back(c.peep ? Random<T>({nd, 3 * c.hidden}, 0.5, rng) : Tensor());
  }
  while (!in.back().defined()) in.pop_back();
  return in;
}

std::vector<double> AsDouble(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.NumElements()));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = t.dtype() == DataType::kFloat64 ? t.data<double>()[i] : static_cast<double>(t.data<float>()[i]);
  }
  return v;
}

struct RefActivation {
  std::string name;
  double alpha = 0, beta = 0;
  double operator()(double x, double clip) const {
    if (clip > 0) x = std::min(clip, std::max(-clip, x));
    if (name == "Sigmoid") return 1 / (1 + std::exp(-x));
    if (name == "Tanh") return std::tanh(x);
    if (name == "Relu") return std::max(0.0, x);
    if (name == "HardSigmoid") return std::min(1.0, std::max(0.0, alpha * x + beta));
    if (name == "Affine") return alpha * x + beta;
    if (name == "LeakyRelu") return x >= 0 ? x : alpha * x;
    if (name == "ThresholdedRelu") return x >= alpha ? x : 0;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * x);
    if (name == "Elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "Softsign") return x / (1 + std::abs(x));
    if (name == "Softplus") return std::log(1 + std::exp(x));
    FAIL("unknown activation " << name);
    return 0;
  }
};

std::vector<RefActivation> RefActivations(const Case& c) {
  std::vector<std::string> names = c.acts;
  const std::vector<std::string> defaults = c.op == "RNN" ? std::vector<std::string>{"Tanh"}
                                            : c.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                            : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  if (names.empty()) names = defaults;
  std::vector<RefActivation> out;
  size_t a = 0, b = 0;
  for (const std::string& n : names) {
    RefActivation act{n};
    const bool uses_alpha = n == "HardSigmoid" || n == "Affine" || n == "LeakyRelu" || n == "ThresholdedRelu" ||
                            n == "ScaledTanh" || n == "Elu";
    const bool uses_beta = n == "HardSigmoid" || n == "Affine" || n == "ScaledTanh";
    act.alpha = n == "HardSigmoid" ? 0.2 : n == "LeakyRelu" ? 0.01 : 1.0;
    act.beta = n == "HardSigmoid" ? 0.5 : n == "ScaledTanh" ? 1.0 : 0.0;
    if (uses_alpha && a < c.alphas.size()) act.alpha = c.alphas[a++];
    if (uses_beta && b < c.betas.size()) act.beta = c.betas[b++];
    out.push_back(act);
  }
  if (out.size() < defaults.size() * c.Directions()) {
    const std::vector<RefActivation> once = out;
    out.insert(out.end(), once.begin(), once.end());
  }
  return out;
}

struct RefOutputs {
  std::vector<double> y, yh, yc;
};

// The ONNX equations, one batch entry and one direction at a time, in double precision.
RefOutputs Reference(const Case& c, const std::vector<Tensor>& in) {
  const int64_t nd = c.Directions(), H = c.hidden, G = c.Gates(), S = c.seq, N = c.batch, I = c.input;
  auto get = [&](size_t i) { return i < in.size() && in[i].defined() ? AsDouble(in[i]) : std::vector<double>(); };
  const std::vector<double> x = get(0), w = get(1), r = get(2), bias = get(3), h0 = get(5), c0 = get(6), p = get(7);
  const std::vector<RefActivation> acts = RefActivations(c);
  const size_t per = acts.size() / nd;
  RefOutputs out{std::vector<double>(S * nd * N * H, 0.0), std::vector<double>(nd * N * H, 0.0),
                 std::vector<double>(nd * N * H, 0.0)};
  auto state_at = [&](int64_t d, int64_t b) { return (c.layout ? b * nd + d : d * N + b) * H; };
  for (int64_t d = 0; d < nd; ++d) {
    const bool reverse = c.direction == "reverse" || d == 1;
    auto f = [&](size_t k, double v) { return acts[d * per + k](v, c.clip); };
    auto wb = [&](int64_t row) { return bias.empty() ? 0.0 : bias[d * 2 * G * H + row]; };
    auto rb = [&](int64_t row) { return bias.empty() ? 0.0 : bias[d * 2 * G * H + G * H + row]; };
    auto pp = [&](int64_t k) { return p.empty() ? 0.0 : p[d * 3 * H + k]; };
    for (int64_t b = 0; b < N; ++b) {
      std::vector<double> h(H, 0.0), cs(H, 0.0), next(H);
      for (int64_t j = 0; j < H; ++j) {
        if (!h0.empty()) h[j] = h0[state_at(d, b) + j];
        if (!c0.empty()) cs[j] = c0[state_at(d, b) + j];
      }
      const int64_t len = c.lens.empty() ? S : c.lens[b];
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = reverse ? len - 1 - s : s;
        const double* xt = &x[(c.layout ? b * S + t : t * N + b) * I];
        auto wx = [&](int64_t row) {
          double acc = 0;
          for (int64_t k = 0; k < I; ++k) acc += w[(d * G * H + row) * I + k] * xt[k];
          return acc;
        };
        auto rv = [&](int64_t row, const std::vector<double>& v) {
          double acc = 0;
          for (int64_t k = 0; k < H; ++k) acc += r[(d * G * H + row) * H + k] * v[k];
          return acc;
        };
        if (c.op == "RNN") {
          for (int64_t j = 0; j < H; ++j) next[j] = f(0, wx(j) + rv(j, h) + wb(j) + rb(j));
        } else if (c.op == "GRU") {
          std::vector<double> z(H), rr(H), rh(H);
          for (int64_t j = 0; j < H; ++j) {
            z[j] = f(0, wx(j) + rv(j, h) + wb(j) + rb(j));
            rr[j] = f(0, wx(H + j) + rv(H + j, h) + wb(H + j) + rb(H + j));
            rh[j] = rr[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const int64_t row = 2 * H + j;
            const double pre = c.lbr ? wx(row) + rr[j] * (rv(row, h) + rb(row)) + wb(row)
                                     : wx(row) + rv(row, rh) + rb(row) + wb(row);
            next[j] = (1 - z[j]) * f(1, pre) + z[j] * h[j];
          }
        } else {
          auto pre = [&](int64_t gate, int64_t j) {
            const int64_t row = gate * H + j;
            return wx(row) + rv(row, h) + wb(row) + rb(row);
          };
          std::vector<double> cn(H);
          for (int64_t j = 0; j < H; ++j) {
            const double i = f(0, pre(0, j) + pp(j) * cs[j]);
            const double fg = c.input_forget ? 1 - i : f(0, pre(2, j) + pp(2 * H + j) * cs[j]);
            cn[j] = fg * cs[j] + i * f(1, pre(3, j));
            const double o = f(0, pre(1, j) + pp(H + j) * cn[j]);
            next[j] = o * f(2, cn[j]);
          }
          cs = cn;
        }
        h = next;
        const int64_t y_at = (c.layout ? (b * S + t) * nd + d : (t * nd + d) * N + b) * H;
        for (int64_t j = 0; j < H; ++j) out.y[y_at + j] = h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        out.yh[state_at(d, b) + j] = h[j];
        out.yc[state_at(d, b) + j] = cs[j];
      }
    }
  }
  return out;
}

void CheckAgainst(const Tensor& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.NumElements() == static_cast<int64_t>(want.size()));
  const std::vector<double> g = AsDouble(got);
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::abs(g[i] - want[i]);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  INFO("worst error " << worst << " at element " << at);
  CHECK(worst <= tol);
}

// RunSingleOp, except that the kernel is created with no input value known (as for graph inputs), so that
// nothing is packed at load time.
Result<std::vector<Tensor>> RunWithoutConstants(const SingleOp& op, const std::vector<Tensor>& inputs,
                                                size_t num_outputs) {
  std::vector<ValueType> types(inputs.size());
  std::vector<const ValueType*> type_ptrs(inputs.size(), nullptr);
  std::vector<const Tensor*> values(inputs.size(), nullptr), unknown(inputs.size(), nullptr);
  std::vector<DataType> dtypes(inputs.size(), DataType::kUndefined);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    types[i] = ValueType::Of(inputs[i].dtype(), inputs[i].shape());
    type_ptrs[i] = &types[i];
    values[i] = &inputs[i];
    dtypes[i] = inputs[i].dtype();
  }
  EDGEAI_ASSIGN_OR_RETURN(const OpDef* def, CpuOpRegistry().Find(op.domain, op.op_type, op.opset, dtypes));
  InferenceContext ctx(op.name, op.op_type, op.opset, op.attrs, type_ptrs, unknown, num_outputs);
  EDGEAI_RETURN_IF_ERROR(def->infer(ctx));
  EDGEAI_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, def->create(ctx));
  HeapKernelContext kctx(op.op_type, values, ctx.outputs(), TestPool());
  Status status;
  TestPool().Execute([&] { status = kernel->Compute(kctx); });
  EDGEAI_RETURN_IF_ERROR(status);
  return std::move(kctx.outputs());
}

template <typename T = float>
void CheckCase(const Case& c, uint32_t seed = 7, double tol = 1e-5) {
  INFO(c.Describe());
  const std::vector<Tensor> in = MakeInputs<T>(c, seed);
  const size_t outputs = c.op == "LSTM" ? 3 : 2;
  auto out = c.runtime_weights ? RunWithoutConstants(MakeOp(c), in, outputs) : Run(MakeOp(c), in, outputs);
  REQUIRE(out.ok());
  const RefOutputs want = Reference(c, in);
  const int64_t nd = c.Directions();
  CHECK((*out)[0].shape() == (c.layout ? Shape{c.batch, c.seq, nd, c.hidden} : Shape{c.seq, nd, c.batch, c.hidden}));
  CHECK((*out)[1].shape() == (c.layout ? Shape{c.batch, nd, c.hidden} : Shape{nd, c.batch, c.hidden}));
  CheckAgainst((*out)[0], want.y, tol);
  CheckAgainst((*out)[1], want.yh, tol);
  if (c.op == "LSTM") CheckAgainst((*out)[2], want.yc, tol);
}

const char* const kDirections[] = {"forward", "reverse", "bidirectional"};

}  // namespace
TEST_CASE("GRU sweep over directions, layouts, linear_before_reset, sequence_lens and optional inputs",
          "[cpu][rnn]") {
  for (const char* direction : kDirections) {
    for (int64_t layout : {0, 1}) {
      for (int64_t lbr : {0, 1}) {
        for (bool lens : {false, true}) {
          for (bool optional : {false, true}) {
            Case c;
            c.direction = direction;
            c.layout = layout;
            c.lbr = lbr;
            if (lens) c.lens = {4, 1, 3};
            c.bias = c.h0 = optional;
            CheckCase(c);
          }
        }
      }
    }
  }
}

TEST_CASE("LSTM sweep over directions, layouts, peepholes, input_forget and sequence_lens", "[cpu][rnn]") {
  for (const char* direction : kDirections) {
    for (int64_t layout : {0, 1}) {
      for (int variant = 0; variant < 4; ++variant) {
        Case c;
        c.op = "LSTM";
        c.direction = direction;
        c.layout = layout;
        c.peep = variant & 1;
        c.input_forget = variant == 2;
        c.bias = c.h0 = c.c0 = variant != 3;
        if (variant >= 1) c.lens = {2, 4, 0};
        CheckCase(c);
      }
    }
  }
}

TEST_CASE("RNN sweep over directions, layouts and sequence_lens", "[cpu][rnn]") {
  for (const char* direction : kDirections) {
    for (int64_t layout : {0, 1}) {
      for (bool lens : {false, true}) {
        Case c;
        c.op = "RNN";
        c.direction = direction;
        c.layout = layout;
        if (lens) c.lens = {3, 0, 4};
        CheckCase(c);
      }
    }
  }
}

TEST_CASE("Every activation function, with given and default alpha/beta", "[cpu][rnn]") {
  const char* const names[] = {"Sigmoid", "Tanh",       "Relu", "HardSigmoid", "Affine",  "LeakyRelu",
                               "ThresholdedRelu", "ScaledTanh", "Elu",  "Softsign",    "Softplus"};
  for (const char* name : names) {
    for (bool given : {false, true}) {
      Case c;
      c.op = "RNN";
      c.direction = "bidirectional";
      c.acts = {name, "Tanh"};
      if (given) {
        c.alphas = {0.35f};
        c.betas = {0.25f};
      }
      CheckCase(c);
      // As f of a GRU, with the alpha list consumed across functions (given: g takes none).
      Case g;
      g.acts = {name, "ScaledTanh"};
      if (given) {
        g.alphas = {0.4f, 0.9f};
        g.betas = {0.3f, 1.2f};
      }
      CheckCase(g);
    }
  }
}

TEST_CASE("clip bounds every activation input of GRU and RNN", "[cpu][rnn]") {
  for (const char* op : {"GRU", "RNN"}) {
    Case c;
    c.op = op;
    c.direction = "bidirectional";
    c.clip = 0.3f;
    c.acts = op == std::string("GRU") ? std::vector<std::string>{"Relu", "Affine", "Relu", "Affine"}
                                      : std::vector<std::string>{"Relu", "Relu"};
    c.alphas = {1.5f, 1.5f};
    CheckCase(c);
  }
}

TEST_CASE("Large recurrences use the parallel paths and stay exact", "[cpu][rnn]") {
  Case gru;
  gru.direction = "bidirectional";
  gru.seq = 5;
  gru.batch = 100;  // past the row grain of the gate loops (16384 / (3 * 64) rows)
  gru.input = 24;
  gru.hidden = 64;
  gru.lens = std::vector<int32_t>(100, 5);
  gru.lens[3] = 2;
  gru.lens[40] = 0;
  CheckCase(gru, 11, 1e-4);
  gru.lbr = 1;
  gru.layout = 1;
  CheckCase(gru, 12, 1e-4);
  Case lstm;
  lstm.op = "LSTM";
  lstm.direction = "bidirectional";
  lstm.peep = true;
  lstm.seq = 4;
  lstm.batch = 48;
  lstm.input = 16;
  lstm.hidden = 96;
  CheckCase(lstm, 13, 1e-4);
}

TEST_CASE("float64 recurrences match the double reference closely", "[cpu][rnn]") {
  for (const char* op : {"GRU", "LSTM", "RNN"}) {
    Case c;
    c.op = op;
    c.direction = "bidirectional";
    c.lens = {4, 2, 3};
    c.peep = true;
    CheckCase<double>(c, 5, 1e-9);
  }
}

TEST_CASE("RNN ops: opset versions, one activation list for both directions, Y only", "[cpu][rnn]") {
  for (int opset : {1, 3, 7, 13, 14, 21}) {
    Case c;
    c.opset = opset;
    c.direction = "bidirectional";
    c.lbr = opset >= 3 ? 1 : 0;  // the attribute exists from GRU-3 on
    c.acts = {"Sigmoid", "Softsign"};  // given once, used by both directions
    CheckCase(c);
    c.op = "LSTM";
    c.acts = {"Sigmoid", "Softsign", "Tanh"};
    CheckCase(c);
    c.op = "RNN";
    c.acts.clear();
    CheckCase(c);
  }
  Case c;
  auto out = Run(MakeOp(c), MakeInputs<float>(c, 3), 1);
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  CheckAgainst((*out)[0], Reference(c, MakeInputs<float>(c, 3)).y, 1e-5);
}

// float32 with the default activations runs on R packed into panels and fused vector gate math; batches of 8 and
// more fill and pass the register tiles' rows, a hidden size of 20 leaves a partial panel and vector.
TEST_CASE("The float32 fast path matches the reference on every kernel level", "[cpu][rnn]") {
  struct ResetIsa {
    ~ResetIsa() { cpu::ResetSgemmIsa(); }
  } reset;
  for (cpu::SgemmIsa isa : {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx2, cpu::SgemmIsa::kAvx512}) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    INFO(cpu::SgemmIsaName(isa));
    for (const char* op : {"GRU", "LSTM", "RNN"}) {
      for (int variant = 0; variant < 4; ++variant) {
        Case c;
        c.op = op;
        c.direction = variant == 1 ? "reverse" : "bidirectional";
        c.seq = 5;
        c.batch = variant == 3 ? 11 : 8;
        c.input = 7;
        c.hidden = 20;
        c.lbr = variant & 1;
        c.peep = variant != 2;
        c.input_forget = variant == 1;
        c.layout = variant == 2;
        if (variant >= 2) c.lens = std::vector<int32_t>(static_cast<size_t>(c.batch), 5);
        if (variant == 2) c.lens = {5, 3, 5, 0, 5, 1, 5, 5};
        if (variant == 3) c.clip = 0.9f;
        CheckCase(c, 20 + variant);
      }
    }
  }
}

// One direction with steps of kParallelStepMacs (2^17) or more: each step's hidden units are split over the
// test pool's two threads, GRU's linear_before_reset = 0 in two phases per step.
TEST_CASE("Single-direction recurrences with large steps split them across threads", "[cpu][rnn]") {
  for (const char* op : {"GRU", "LSTM", "RNN"}) {
    for (int64_t lbr : {0, 1}) {
      Case c;
      c.op = op;
      c.lbr = lbr;
      c.direction = lbr ? "reverse" : "forward";
      c.peep = true;
      c.seq = 6;
      c.batch = op == std::string("RNN") ? 40 : 16;
      c.input = 10;
      c.hidden = 72;  // 5 panels: uneven chunks, the last one partial
      c.lens = std::vector<int32_t>(static_cast<size_t>(c.batch), 6);
      c.lens[1] = 3;
      c.lens[5] = 0;
      CheckCase(c, 40 + static_cast<uint32_t>(lbr), 2e-5);
    }
  }
}

TEST_CASE("Recurrent weights known only at run time give the same results", "[cpu][rnn]") {
  for (const char* op : {"GRU", "LSTM", "RNN"}) {
    for (int64_t lbr : {0, 1}) {
      Case c;
      c.op = op;
      c.lbr = lbr;
      c.peep = true;
      c.direction = "bidirectional";
      c.batch = 8;
      c.hidden = 17;
      c.lens = {4, 2, 4, 0, 3, 4, 4, 1};
      c.runtime_weights = true;
      CheckCase(c, 30);
      c.acts = op == std::string("RNN") ? std::vector<std::string>{"Relu"} : std::vector<std::string>{};
      if (!c.acts.empty()) CheckCase(c, 31);  // the general path with its unpacked R
    }
  }
}
