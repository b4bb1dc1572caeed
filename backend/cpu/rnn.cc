// The plain RNN op and what the recurrent family shares: attribute parsing, shape inference and registration.
// GRU and LSTM cells live in rnn_gru.cc and rnn_lstm.cc.
#include <atomic>
#include <cctype>
#include <cmath>
#include <thread>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/rnn_common.h"
#include "backend/shape_util.h"

namespace edgeai::cpu {
namespace rnn {
namespace {

struct ActivationInfo {
  const char* name;  // lower case
  ActivationKind kind;
  bool uses_alpha;
  bool uses_beta;
  float default_alpha;  // those of the ONNX op of the same name
  float default_beta;
};

constexpr ActivationInfo kActivations[] = {
    {"sigmoid", ActivationKind::kSigmoid, false, false, 0.0f, 0.0f},
    {"tanh", ActivationKind::kTanh, false, false, 0.0f, 0.0f},
    {"relu", ActivationKind::kRelu, false, false, 0.0f, 0.0f},
    {"hardsigmoid", ActivationKind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"affine", ActivationKind::kAffine, true, true, 1.0f, 0.0f},
    {"leakyrelu", ActivationKind::kLeakyRelu, true, false, 0.01f, 0.0f},
    {"thresholdedrelu", ActivationKind::kThresholdedRelu, true, false, 1.0f, 0.0f},
    {"scaledtanh", ActivationKind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"elu", ActivationKind::kElu, true, false, 1.0f, 0.0f},
    {"softsign", ActivationKind::kSoftsign, false, false, 0.0f, 0.0f},
    {"softplus", ActivationKind::kSoftplus, false, false, 0.0f, 0.0f},
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// activation_alpha / activation_beta are consumed in order by the functions that take them (as onnxruntime
// reads them); a function whose value is not given falls back to its op's default.
Status ParseActivations(const InferenceContext& ctx, const RnnOpInfo& info, RnnSpec* spec) {
  const AttributeMap& attrs = ctx.attrs();
  std::vector<std::string> names = info.default_activations;
  if (const Attribute* attr = attrs.Find("activations"); attr != nullptr) names = attr->strings;
  const size_t per_direction = info.default_activations.size();
  const size_t nd = static_cast<size_t>(spec->num_directions);
  if (names.size() != per_direction * nd && !(nd == 2 && names.size() == per_direction)) {
    return ctx.Error("activations lists " + std::to_string(names.size()) + " functions, expected " +
                     std::to_string(per_direction) + " per direction (" + std::to_string(per_direction * nd) +
                     " in all)");
  }
  const std::vector<float> alphas = attrs.GetFloats("activation_alpha");
  const std::vector<float> betas = attrs.GetFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  spec->activations.clear();
  for (const std::string& name : names) {
    const std::string lower = Lower(name);
    const ActivationInfo* found = nullptr;
    for (const ActivationInfo& a : kActivations) {
      if (lower == a.name) found = &a;
    }
    if (found == nullptr) return ctx.Error("unsupported activation function '" + name + "'");
    Activation act{found->kind, found->default_alpha, found->default_beta};
    if (found->uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (found->uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    spec->activations.push_back(act);
  }
  // One direction's list given for a bidirectional op serves both.
  if (spec->activations.size() < per_direction * nd) {
    for (size_t i = 0; i < per_direction; ++i) spec->activations.push_back(spec->activations[i]);
  }
  return Status::Ok();
}

// Rank `rank` for input i when present with a known rank.
Status ExpectRank(const InferenceContext& ctx, size_t i, const char* name, size_t rank) {
  if (!ctx.has_input(i) || !ctx.input(i).rank_known || ctx.input(i).dims.rank() == rank) return Status::Ok();
  return ctx.Error(std::string("input ") + name + " must have rank " + std::to_string(rank) + ", got " +
                   ctx.input(i).ToString());
}

// Dims of input i (rank already checked) against `expected`; -1 on either side matches anything.
Status ExpectDims(const InferenceContext& ctx, size_t i, const char* name, const Shape& expected,
                  const std::string& meaning) {
  if (!ctx.has_input(i) || !ctx.input(i).rank_known) return Status::Ok();
  const Shape& dims = ctx.input(i).dims;
  for (size_t k = 0; k < expected.rank(); ++k) {
    if (dims[k] >= 0 && expected[k] >= 0 && dims[k] != expected[k]) {
      return ctx.Error(std::string("input ") + name + " has shape " + dims.ToString() + ", expected " +
                       expected.ToString() + " = " + meaning);
    }
  }
  return Status::Ok();
}

int64_t DimOf(const InferenceContext& ctx, size_t i, size_t axis) {
  if (!ctx.has_input(i) || !ctx.input(i).rank_known || ctx.input(i).dims.rank() <= axis) return -1;
  return ctx.input(i).dims[axis];
}

Status CheckInputTypes(const InferenceContext& ctx, const RnnOpInfo& info) {
  const DataType dtype = ctx.input(kX).dtype;
  if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64) {
    return ctx.Error("X has dtype " + std::string(DataTypeName(dtype)) + "; float32 and float64 are supported");
  }
  const char* names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  const size_t count = info.has_cell_state ? 8 : 6;
  for (size_t i = 1; i < count && i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const DataType got = ctx.input(i).dtype;
    const bool ok = i == kSequenceLens ? (got == DataType::kInt32 || got == DataType::kInt64) : got == dtype;
    if (!ok) {
      const std::string expected = i == kSequenceLens ? "int32" : std::string(DataTypeName(dtype)) + " like X";
      return ctx.Error(std::string("input ") + names[i] + " has dtype " + std::string(DataTypeName(got)) +
                       ", expected " + expected);
    }
  }
  if (ctx.num_inputs() > count) {
    return ctx.Error("takes at most " + std::to_string(count) + " inputs, got " + std::to_string(ctx.num_inputs()));
  }
  return Status::Ok();
}

Status CheckConstantLens(const InferenceContext& ctx, int64_t seq) {
  const Tensor* lens = ctx.input_value(kSequenceLens);
  if (lens == nullptr || seq < 0) return Status::Ok();
  std::vector<int64_t> values;
  if (Status status = ReadInt64s(*lens, &values); !status.ok()) return ctx.Error("sequence_lens: " + status.message());
  for (size_t b = 0; b < values.size(); ++b) {
    if (values[b] < 0 || values[b] > seq) {
      return ctx.Error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(values[b]) +
                       " is outside [0, " + std::to_string(seq) + "] (the sequence length of X)");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseRnnSpec(const InferenceContext& ctx, const RnnOpInfo& info, RnnSpec* spec) {
  const AttributeMap& attrs = ctx.attrs();
  spec->hidden_size = attrs.GetInt("hidden_size", -1);
  if (attrs.Has("hidden_size") && spec->hidden_size <= 0) {
    return ctx.Error("hidden_size must be positive, got " + std::to_string(spec->hidden_size));
  }
  const std::string direction = attrs.GetString("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
    return ctx.Error("direction must be forward, reverse or bidirectional, got '" + direction + "'");
  }
  spec->reverse = direction == "reverse";
  spec->num_directions = direction == "bidirectional" ? 2 : 1;
  spec->clip = 0.0f;
  if (attrs.Has("clip")) {
    spec->clip = attrs.GetFloat("clip", 0.0f);
    if (!(spec->clip > 0.0f)) return ctx.Error("clip must be positive, got " + std::to_string(spec->clip));
  }
  const int64_t layout = ctx.opset() >= 14 ? attrs.GetInt("layout", 0) : 0;
  if (layout != 0 && layout != 1) return ctx.Error("layout must be 0 or 1, got " + std::to_string(layout));
  spec->layout_batch_first = layout == 1;
  spec->linear_before_reset =
      ctx.op_type() == "GRU" && ctx.opset() >= 3 && attrs.GetInt("linear_before_reset", 0) != 0;
  spec->input_forget = ctx.op_type() == "LSTM" && attrs.GetInt("input_forget", 0) != 0;
  return ParseActivations(ctx, info, spec);
}

Status InferRnn(InferenceContext& ctx, const RnnOpInfo& info) {
  for (size_t i = kX; i <= kR; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  RnnSpec spec;
  EDGEAI_RETURN_IF_ERROR(ParseRnnSpec(ctx, info, &spec));
  if (ctx.num_outputs() > static_cast<size_t>(info.max_outputs)) {
    return ctx.Error("has at most " + std::to_string(info.max_outputs) + " outputs, got " +
                     std::to_string(ctx.num_outputs()));
  }
  EDGEAI_RETURN_IF_ERROR(CheckInputTypes(ctx, info));
  const size_t ranks[] = {3, 3, 3, 2, 1, 3, 3, 2};
  const char* names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  for (size_t i = 0; i < ctx.num_inputs(); ++i) EDGEAI_RETURN_IF_ERROR(ExpectRank(ctx, i, names[i], ranks[i]));

  const bool bf = spec.layout_batch_first;
  const int64_t nd = spec.num_directions, gates = info.num_gates;
  const int64_t seq = DimOf(ctx, kX, bf ? 1 : 0), input = DimOf(ctx, kX, 2);
  int64_t batch = DimOf(ctx, kX, bf ? 0 : 1);
  if (batch < 0) batch = DimOf(ctx, kSequenceLens, 0);
  if (batch < 0) batch = DimOf(ctx, kInitialH, bf ? 0 : 1);
  int64_t hidden = spec.hidden_size > 0 ? spec.hidden_size : DimOf(ctx, kR, 2);
  if (hidden < 0) hidden = DimOf(ctx, kInitialH, 2);
  const int64_t gw = hidden >= 0 ? gates * hidden : -1;
  const Shape state = bf ? Shape{batch, nd, hidden} : Shape{nd, batch, hidden};
  const std::string state_meaning =
      bf ? "[batch_size, num_directions, hidden_size]" : "[num_directions, batch_size, hidden_size]";
  const std::string g = std::to_string(gates) + "*hidden_size";
  EDGEAI_RETURN_IF_ERROR(
      ExpectDims(ctx, kW, "W", {nd, gw, input}, "[num_directions, " + g + ", input_size]"));
  EDGEAI_RETURN_IF_ERROR(
      ExpectDims(ctx, kR, "R", {nd, gw, hidden}, "[num_directions, " + g + ", hidden_size]"));
  EDGEAI_RETURN_IF_ERROR(
      ExpectDims(ctx, kB, "B", {nd, gw >= 0 ? 2 * gw : -1}, "[num_directions, 2*" + g + "]"));
  EDGEAI_RETURN_IF_ERROR(ExpectDims(ctx, kSequenceLens, "sequence_lens", {batch}, "[batch_size]"));
  EDGEAI_RETURN_IF_ERROR(ExpectDims(ctx, kInitialH, "initial_h", state, state_meaning));
  if (info.has_cell_state) {
    EDGEAI_RETURN_IF_ERROR(ExpectDims(ctx, kInitialC, "initial_c", state, state_meaning));
    EDGEAI_RETURN_IF_ERROR(
        ExpectDims(ctx, kP, "P", {nd, hidden >= 0 ? 3 * hidden : -1}, "[num_directions, 3*hidden_size]"));
  }
  EDGEAI_RETURN_IF_ERROR(CheckConstantLens(ctx, seq));

  const DataType dtype = ctx.input(kX).dtype;
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const Shape y = bf ? Shape{batch, seq, nd, hidden} : Shape{seq, nd, batch, hidden};
    ctx.output(i) = ValueType::Of(dtype, i == 0 ? y : state);
  }
  return Status::Ok();
}

Status ReadSequenceLens(KernelContext& ctx, int64_t seq, int64_t batch, int64_t* lens) {
  const Tensor* t = kSequenceLens < ctx.num_inputs() ? ctx.input(kSequenceLens) : nullptr;
  if (t == nullptr || !t->defined()) {
    std::fill(lens, lens + batch, seq);
    return Status::Ok();
  }
  if (t->NumElements() != batch) {
    return ctx.Error("sequence_lens has shape " + t->shape().ToString() + ", expected [" + std::to_string(batch) + "]");
  }
  for (int64_t b = 0; b < batch; ++b) {
    if (t->dtype() == DataType::kInt32) {
      lens[b] = t->data<int32_t>()[b];
    } else if (t->dtype() == DataType::kInt64) {
      lens[b] = t->data<int64_t>()[b];
    } else {
      return ctx.Error("sequence_lens must be int32, got " + std::string(DataTypeName(t->dtype())));
    }
    if (lens[b] < 0 || lens[b] > seq) {
      return ctx.Error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                       " is outside [0, " + std::to_string(seq) + "] (the sequence length of X)");
    }
  }
  return Status::Ok();
}

void RnnWeights::Pack(const InferenceContext& ctx, int gates) {
  const Tensor* wt = ctx.input_value(kW);
  if (wt != nullptr && wt->dtype() == DataType::kFloat32 && wt->rank() == 3 && wt->NumElements() > 0) {
    const int64_t rows = wt->shape()[0] * wt->shape()[1], input = wt->shape()[2];
    w = PackSgemmB(true, input, rows, wt->data<float>(), input);
    w_from = wt->data<float>();
  }
  const Tensor* rt = ctx.input_value(kR);
  if (rt != nullptr && rt->dtype() == DataType::kFloat32 && rt->rank() == 3 && rt->NumElements() > 0) {
    const int64_t nd = rt->shape()[0], hidden = rt->shape()[2];
    if (rt->shape()[1] != gates * hidden) return;  // Compute reports the mismatch
    PackRecurrent(rt->data<float>(), nd, gates, hidden, r.Reserve(PackedRecurrentSize(nd, gates, hidden)));
    r_from = rt->data<float>();
    r_hidden = hidden;
    r_directions = nd;
  }
}

void RunStages(int64_t stages, int64_t chunks, const ThreadPool& pool, FunctionRef<void(int64_t, int64_t)> task) {
  if (chunks <= 1 || pool.threads() <= 1) {
    for (int64_t s = 0; s < stages; ++s) {
      for (int64_t c = 0; c < chunks; ++c) task(s, c);
    }
    return;
  }
  const int64_t total = stages * chunks;
  std::atomic<int64_t> next{0}, done{0};
  auto participate = [&](int64_t, int64_t) {
    for (;;) {
      const int64_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= total) return;
      const int64_t stage = t / chunks, ready = stage * chunks;
      // The tasks waited for are running on other threads: spin briefly, then yield in case one of them was
      // preempted (a loaded machine) and needs this CPU.
      for (int spins = 0; done.load(std::memory_order_acquire) < ready; ++spins) {
        if (spins >= 4096) {
          std::this_thread::yield();
        } else {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        }
      }
      task(stage, t % chunks);
      done.fetch_add(1, std::memory_order_release);
    }
  };
  pool.ParallelFor(pool.threads(), 1, participate);
}

Status RegisterVersions(OpRegistry& registry, const char* op_type, std::initializer_list<int> since_versions,
                        InferFn infer, KernelFactory create) {
  std::vector<int> since(since_versions);
  for (size_t i = 0; i < since.size(); ++i) {
    OpDef def;
    def.op_type = op_type;
    def.since_version = since[i];
    def.until_version = i + 1 < since.size() ? since[i + 1] - 1 : kMaxOpset;
    def.types = {DataType::kFloat32, DataType::kFloat64};
    def.infer = infer;
    def.create = create;
    EDGEAI_RETURN_IF_ERROR(registry.Register(std::move(def)));
  }
  return Status::Ok();
}

namespace {

// Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi)
template <typename T>
class RnnCell {
 public:
  explicit RnnCell(const RnnSpec& spec) : spec_(spec) {}
  int Gates() const { return 1; }
  bool Fast() const { return std::is_same_v<T, float> && HasActivations(spec_, {ActivationKind::kTanh}); }
  void InputBias(const T* b, int64_t hidden, T* out) const {
    for (int64_t j = 0; j < hidden; ++j) out[j] = b[j] + b[hidden + j];
  }
  int64_t ScratchSize(int64_t batch, int64_t gate_stride) const { return batch * gate_stride; }

  int FastPhases() const { return 1; }
  bool FastInPlace() const { return false; }

  // The product and tanh for the task's hidden units; rows whose sequence has ended carry their state over.
  void Run(const FastTask& t) const {
    const RnnProblem<float>& p = *t.problem;
    const int64_t hidden = p.hidden, gs = RecurrentGateStride(hidden);
    const RnnSimdKernels& simd = RnnSimd();
    simd.product(StepProduct(p.packed_r + t.direction * gs * hidden, hidden, 0, 1, t.q0, t.q1, p.batch, t.h,
                             t.scratch, gs));
    RnnRowArgs row;
    row.gate_stride = gs;
    row.hidden = hidden;
    row.j0 = t.q0 * kRecurrentPanel;
    row.j1 = std::min(t.q1 * kRecurrentPanel, hidden);
    row.clip = spec_.clip;
    row.in_bias = p.InBias(t.direction);
    for (int64_t b = 0; b < p.batch; ++b) {
      row.h_prev = t.h + b * hidden;
      row.h_out = t.h_out + b * hidden;
      const int64_t time = p.TimeAt(b, t.step, t.reverse);
      if (time < 0) {
        std::copy(row.h_prev + row.j0, row.h_prev + row.j1, row.h_out + row.j0);
        continue;
      }
      row.xw = p.XwAt(time, b, t.direction);
      row.g = t.scratch + b * gs;
      simd.rnn_tanh(row);
    }
  }

  void Step(const StepArgs<T>& a, const ThreadPool& pool) const {
    const RnnProblem<T>& p = *a.problem;
    const int64_t hidden = p.hidden;
    RecurrentGemm<T>(p.batch, hidden, hidden, a.h, hidden, p.r + a.direction * hidden * hidden, a.scratch,
               hidden, pool);
    const Activation& f = spec_.DirectionActivations(a.direction)[0];
    pool.ParallelFor(p.batch, RowGrain(hidden), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        if (a.time[b] < 0) continue;
        const T* xw = p.XwAt(a.time[b], b, a.direction);
        const T* hr = a.scratch + b * hidden;
        T* h = a.h + b * hidden;
        for (int64_t j = 0; j < hidden; ++j) h[j] = xw[j] + hr[j];
        ApplyActivation(f, spec_.clip, h, hidden);
      }
    });
  }

 private:

  const RnnSpec& spec_;
};

const RnnOpInfo& PlainRnnInfo() {
  static const RnnOpInfo info{1, {"Tanh"}, 2, false};
  return info;
}

using RnnKernel = RecurrentKernel<RnnCell, PlainRnnInfo>;

Status InferPlainRnn(InferenceContext& ctx) { return InferRnn(ctx, PlainRnnInfo()); }

}  // namespace
}  // namespace rnn

Status RegisterRnnOps(OpRegistry& registry) {
  return rnn::RegisterVersions(registry, "RNN", {1, 7, 14}, rnn::InferPlainRnn, MakeKernel<rnn::RnnKernel>);
}

}  // namespace edgeai::cpu
