// LSTM (gate order i, o, f, c; peepholes P in order i, o, f):
//   it = f(Xt*Wi^T + Ht-1*Ri^T + Pi (.) Ct-1 + Wbi + Rbi)
//   ft = f(Xt*Wf^T + Ht-1*Rf^T + Pf (.) Ct-1 + Wbf + Rbf)      (1 - it when input_forget)
//   ct = g(Xt*Wc^T + Ht-1*Rc^T + Wbc + Rbc)
//   Ct = ft (.) Ct-1 + it (.) ct
//   ot = f(Xt*Wo^T + Ht-1*Ro^T + Po (.) Ct + Wbo + Rbo)
//   Ht = ot (.) h(Ct)
// clip bounds the input of every activation, h's included, but not the cell state that is carried on.
// float32 with the default activations takes the fast path: R packed into panels, fused vector gate math.
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/rnn_common.h"

namespace edgeai::cpu {
namespace rnn {
namespace {

template <typename T>
class LstmCell {
 public:
  explicit LstmCell(const RnnSpec& spec) : spec_(spec) {}
  int Gates() const { return 4; }
  bool Fast() const {
    return std::is_same_v<T, float> &&
           HasActivations(spec_, {ActivationKind::kSigmoid, ActivationKind::kTanh, ActivationKind::kTanh});
  }
  void InputBias(const T* b, int64_t hidden, T* out) const {
    for (int64_t j = 0; j < 4 * hidden; ++j) out[j] = b[j] + b[4 * hidden + j];
  }
  int64_t ScratchSize(int64_t batch, int64_t gate_stride) const { return 4 * batch * gate_stride; }

  // One pass per step: the four gates' products for the task's hidden units, then their gate math. Other tasks of
  // the step still read Ht-1 in full, so Ht goes to the second buffer; Ct is read per unit and updated in place.
  int FastPhases() const { return 1; }
  bool FastInPlace() const { return false; }

  void Run(const FastTask& t) const {
    const RnnProblem<float>& p = *t.problem;
    const int64_t hidden = p.hidden, gs = RecurrentGateStride(hidden), width = 4 * gs;
    const RnnSimdKernels& simd = RnnSimd();
    simd.product(StepProduct(p.packed_r + t.direction * width * hidden, hidden, 0, 4, t.q0, t.q1, p.batch, t.h,
                             t.scratch, width));
    RnnRowArgs row;
    row.gate_stride = gs;
    row.hidden = hidden;
    row.j0 = t.q0 * kRecurrentPanel;
    row.j1 = std::min(t.q1 * kRecurrentPanel, hidden);
    row.clip = spec_.clip;
    row.input_forget = spec_.input_forget;
    row.in_bias = p.InBias(t.direction);
    row.bias = p.p != nullptr ? p.p + t.direction * 3 * hidden : nullptr;
    for (int64_t b = 0; b < p.batch; ++b) {
      row.h_prev = t.h + b * hidden;
      row.h_out = t.h_out + b * hidden;
      const int64_t time = p.TimeAt(b, t.step, t.reverse);
      if (time < 0) {
        std::copy(row.h_prev + row.j0, row.h_prev + row.j1, row.h_out + row.j0);
        continue;
      }
      row.xw = p.XwAt(time, b, t.direction);
      row.g = t.scratch + b * width;
      row.c = t.c + b * hidden;
      simd.lstm(row);
    }
  }

  void Step(const StepArgs<T>& a, const ThreadPool& pool) const {
    const RnnProblem<T>& p = *a.problem;
    const int64_t hidden = p.hidden, width = 4 * hidden;
    RecurrentGemm<T>(p.batch, width, hidden, a.h, hidden, p.r + a.direction * width * hidden, a.scratch, width,
               pool);
    const T* peep = p.p != nullptr ? p.p + a.direction * 3 * hidden : nullptr;
    pool.ParallelFor(p.batch, RowGrain(width), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        if (a.time[b] < 0) continue;
        T* gates = a.scratch + b * width;
        const T* xw = p.XwAt(a.time[b], b, a.direction);
        for (int64_t j = 0; j < width; ++j) gates[j] += xw[j];
        Row(gates, peep, a.h + b * hidden, a.c + b * hidden, hidden, spec_.DirectionActivations(a.direction));
      }
    });
  }

 private:
  // Gate math of one batch row; `gates` holds the pre-activations (i, o, f, c) and is used as scratch.
  void Row(T* gates, const T* peep, T* h, T* c, int64_t hidden, const Activation* act) const {
    T* in = gates;
    T* out = gates + hidden;
    T* forget = gates + 2 * hidden;
    T* cell = gates + 3 * hidden;
    const float clip = spec_.clip;
    if (peep != nullptr) {
      for (int64_t j = 0; j < hidden; ++j) in[j] += peep[j] * c[j];
    }
    ApplyActivation(act[0], clip, in, hidden);
    if (spec_.input_forget) {
      for (int64_t j = 0; j < hidden; ++j) forget[j] = T(1) - in[j];
    } else {
      if (peep != nullptr) {
        for (int64_t j = 0; j < hidden; ++j) forget[j] += peep[2 * hidden + j] * c[j];
      }
      ApplyActivation(act[0], clip, forget, hidden);
    }
    ApplyActivation(act[1], clip, cell, hidden);
    for (int64_t j = 0; j < hidden; ++j) c[j] = forget[j] * c[j] + in[j] * cell[j];
    if (peep != nullptr) {
      for (int64_t j = 0; j < hidden; ++j) out[j] += peep[hidden + j] * c[j];
    }
    ApplyActivation(act[0], clip, out, hidden);
    // h(Ct) goes through the cell slot so that the carried Ct stays unclipped.
    std::copy(c, c + hidden, cell);
    ApplyActivation(act[2], clip, cell, hidden);
    for (int64_t j = 0; j < hidden; ++j) h[j] = out[j] * cell[j];
  }

  const RnnSpec& spec_;
};

const RnnOpInfo& LstmInfo() {
  static const RnnOpInfo info{4, {"Sigmoid", "Tanh", "Tanh"}, 3, true};
  return info;
}

using LstmKernel = RecurrentKernel<LstmCell, LstmInfo>;

Status InferLstm(InferenceContext& ctx) { return InferRnn(ctx, LstmInfo()); }

}  // namespace
}  // namespace rnn

Status RegisterLstmOps(OpRegistry& registry) {
  return rnn::RegisterVersions(registry, "LSTM", {1, 7, 14}, rnn::InferLstm, MakeKernel<rnn::LstmKernel>);
}

}  // namespace edgeai::cpu
