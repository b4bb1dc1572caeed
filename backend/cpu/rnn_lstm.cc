// LSTM (gate order i, o, f, c; peepholes P in order i, o, f):
//   it = f(Xt*Wi^T + Ht-1*Ri^T + Pi (.) Ct-1 + Wbi + Rbi)
//   ft = f(Xt*Wf^T + Ht-1*Rf^T + Pf (.) Ct-1 + Wbf + Rbf)      (1 - it when input_forget)
//   ct = g(Xt*Wc^T + Ht-1*Rc^T + Wbc + Rbc)
//   Ct = ft (.) Ct-1 + it (.) ct
//   ot = f(Xt*Wo^T + Ht-1*Ro^T + Po (.) Ct + Wbo + Rbo)
//   Ht = ot (.) h(Ct)
// clip bounds the input of every activation, h's included, but not the cell state that is carried on.
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
  void InputBias(const T* b, int64_t hidden, T* out) const {
    for (int64_t j = 0; j < 4 * hidden; ++j) out[j] = b[j] + b[4 * hidden + j];
  }
  int64_t ScratchSize(int64_t batch, int64_t hidden) const { return 4 * batch * hidden; }

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

class LstmKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseRnnSpec(ctx, info(), &spec_); }
  Status Compute(KernelContext& ctx) const override { return ComputeRnn<LstmCell>(ctx, *this); }
  const RnnSpec& spec() const { return spec_; }
  const RnnOpInfo& info() const { return LstmInfo(); }

 private:
  RnnSpec spec_;
};

Status InferLstm(InferenceContext& ctx) { return InferRnn(ctx, LstmInfo()); }

}  // namespace
}  // namespace rnn

Status RegisterLstmOps(OpRegistry& registry) {
  return rnn::RegisterVersions(registry, "LSTM", {1, 7, 14}, rnn::InferLstm, MakeKernel<rnn::LstmKernel>);
}

}  // namespace edgeai::cpu
