// GRU (gate order z, r, h), both forms of the hidden gate:
//   linear_before_reset = 0: ht = g(Xt*Wh^T + (rt (.) Ht-1)*Rh^T + Rbh + Wbh)
//   linear_before_reset = 1: ht = g(Xt*Wh^T + rt (.) (Ht-1*Rh^T + Rbh) + Wbh)
// The first form needs r before the recurrent product of the h gate, so its step takes two products.
// float32 with the default activations takes the fast path: R packed into panels, fused vector gate math.
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/rnn_common.h"

namespace edgeai::cpu {
namespace rnn {
namespace {

template <typename T>
class GruCell {
 public:
  explicit GruCell(const RnnSpec& spec) : spec_(spec) {}
  int Gates() const { return 3; }
  bool Fast() const {
    return std::is_same_v<T, float> && HasActivations(spec_, {ActivationKind::kSigmoid, ActivationKind::kTanh});
  }

  // z and r take both biases up front; h takes Rbh here only when it is not scaled by r.
  void InputBias(const T* b, int64_t hidden, T* out) const {
    const int64_t summed = spec_.linear_before_reset ? 2 * hidden : 3 * hidden;
    for (int64_t j = 0; j < summed; ++j) out[j] = b[j] + b[3 * hidden + j];
    for (int64_t j = summed; j < 3 * hidden; ++j) out[j] = b[j];
  }

  // Recurrent products [batch, 3 * gate_stride], then r (.) Ht-1 [batch, gate_stride] for linear_before_reset = 0.
  int64_t ScratchSize(int64_t batch, int64_t gate_stride) const { return 4 * batch * gate_stride; }

  void Step(const StepArgs<T>& a, const ThreadPool& pool) const {
    if (spec_.linear_before_reset) {
      StepLinearBeforeReset(a, pool);
    } else {
      StepResetBeforeLinear(a, pool);
    }
  }

  // linear_before_reset = 1 takes one pass per step: the three gates' products for the task's hidden units, then
  // their gate math. Other tasks of the step still read Ht-1 in full, so Ht goes to the second buffer.
  // linear_before_reset = 0 takes two: z, r and r (.) Ht-1 for every unit, then the h gate's product and Ht, in
  // place (that product reads r (.) Ht-1, not Ht-1).
  int FastPhases() const { return spec_.linear_before_reset ? 1 : 2; }
  bool FastInPlace() const { return !spec_.linear_before_reset; }

  void Run(const FastTask& t) const {
    const RnnProblem<float>& p = *t.problem;
    const int64_t hidden = p.hidden, gs = RecurrentGateStride(hidden), width = 3 * gs;
    const float* panels = p.packed_r + t.direction * width * hidden;
    float* reset_h = t.scratch + p.batch * width;
    const RnnSimdKernels& simd = RnnSimd();
    RnnRowArgs row;
    row.gate_stride = gs;
    row.hidden = hidden;
    row.j0 = t.q0 * kRecurrentPanel;
    row.j1 = std::min(t.q1 * kRecurrentPanel, hidden);
    row.clip = spec_.clip;
    row.in_bias = p.InBias(t.direction);
    if (spec_.linear_before_reset) {
      simd.product(StepProduct(panels, hidden, 0, 3, t.q0, t.q1, p.batch, t.h, t.scratch, width));
      row.bias = p.b != nullptr ? p.b + t.direction * 6 * hidden + 5 * hidden : nullptr;  // Rbh
    } else if (t.phase == 0) {
      simd.product(StepProduct(panels, hidden, 0, 2, t.q0, t.q1, p.batch, t.h, t.scratch, width));
    } else {
      simd.product(StepProduct(panels, hidden, 2, 3, t.q0, t.q1, p.batch, reset_h, t.scratch, width));
    }
    for (int64_t b = 0; b < p.batch; ++b) {
      const int64_t time = p.TimeAt(b, t.step, t.reverse);
      row.h_prev = t.h + b * hidden;
      row.h_out = t.h_out + b * hidden;
      row.reset_h = reset_h + b * hidden;
      if (time < 0) {
        if (!FastInPlace()) std::copy(row.h_prev + row.j0, row.h_prev + row.j1, row.h_out + row.j0);
        // Keeps the unused product of the h gate finite.
        if (t.phase == 0 && FastInPlace()) std::fill(row.reset_h + row.j0, row.reset_h + row.j1, 0.0f);
        continue;
      }
      row.xw = p.XwAt(time, b, t.direction);
      row.g = t.scratch + b * width;
      const auto kernel = spec_.linear_before_reset ? simd.gru_linear : t.phase == 0 ? simd.gru_reset : simd.gru_hidden;
      kernel(row);
    }
  }

 private:
  // Writes f(z) and f(r) into hr's z and r slots for row b.
  void UpdateAndResetGates(const T* xw, T* hr, int64_t hidden, const Activation& f) const {
    for (int64_t j = 0; j < 2 * hidden; ++j) hr[j] += xw[j];
    ApplyActivation(f, spec_.clip, hr, 2 * hidden);
  }

  // Ht = (1 - z) (.) h + z (.) Ht-1, with h already activated in `gate`.
  static void Blend(const T* z, const T* gate, T* h, int64_t hidden) {
    for (int64_t j = 0; j < hidden; ++j) h[j] = gate[j] + z[j] * (h[j] - gate[j]);
  }

  void StepLinearBeforeReset(const StepArgs<T>& a, const ThreadPool& pool) const {
    const RnnProblem<T>& p = *a.problem;
    const int64_t hidden = p.hidden, width = 3 * hidden;
    T* hr = a.scratch;
    RecurrentGemm<T>(p.batch, width, hidden, a.h, hidden, p.r + a.direction * width * hidden, hr, width, pool);
    const Activation* act = spec_.DirectionActivations(a.direction);
    const T* rbh = p.b != nullptr ? p.b + a.direction * 2 * width + 5 * hidden : nullptr;
    pool.ParallelFor(p.batch, RowGrain(width), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        if (a.time[b] < 0) continue;
        const T* xw = p.XwAt(a.time[b], b, a.direction);
        T* row = hr + b * width;
        UpdateAndResetGates(xw, row, hidden, act[0]);
        const T* r = row + hidden;
        T* gate = row + 2 * hidden;
        if (rbh != nullptr) {
          for (int64_t j = 0; j < hidden; ++j) gate[j] = xw[2 * hidden + j] + r[j] * (gate[j] + rbh[j]);
        } else {
          for (int64_t j = 0; j < hidden; ++j) gate[j] = xw[2 * hidden + j] + r[j] * gate[j];
        }
        ApplyActivation(act[1], spec_.clip, gate, hidden);
        Blend(row, gate, a.h + b * hidden, hidden);
      }
    });
  }

  void StepResetBeforeLinear(const StepArgs<T>& a, const ThreadPool& pool) const {
    const RnnProblem<T>& p = *a.problem;
    const int64_t hidden = p.hidden, width = 3 * hidden;
    const T* r_weights = p.r + a.direction * width * hidden;
    T* hr = a.scratch;
    T* reset_h = hr + p.batch * width;
    const Activation* act = spec_.DirectionActivations(a.direction);
    RecurrentGemm<T>(p.batch, 2 * hidden, hidden, a.h, hidden, r_weights, hr, width, pool);
    pool.ParallelFor(p.batch, RowGrain(2 * hidden), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        T* reset_row = reset_h + b * hidden;
        if (a.time[b] < 0) {
          std::fill(reset_row, reset_row + hidden, T(0));  // keeps the unused product finite
          continue;
        }
        T* row = hr + b * width;
        UpdateAndResetGates(p.XwAt(a.time[b], b, a.direction), row, hidden, act[0]);
        const T* r = row + hidden;
        const T* h = a.h + b * hidden;
        for (int64_t j = 0; j < hidden; ++j) reset_row[j] = r[j] * h[j];
      }
    });
    RecurrentGemm<T>(p.batch, hidden, hidden, reset_h, hidden, r_weights + 2 * hidden * hidden, hr + 2 * hidden,
               width, pool);
    pool.ParallelFor(p.batch, RowGrain(hidden), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        if (a.time[b] < 0) continue;
        const T* xw = p.XwAt(a.time[b], b, a.direction) + 2 * hidden;
        T* row = hr + b * width;
        T* gate = row + 2 * hidden;
        for (int64_t j = 0; j < hidden; ++j) gate[j] += xw[j];
        ApplyActivation(act[1], spec_.clip, gate, hidden);
        Blend(row, gate, a.h + b * hidden, hidden);
      }
    });
  }

  const RnnSpec& spec_;
};

const RnnOpInfo& GruInfo() {
  static const RnnOpInfo info{3, {"Sigmoid", "Tanh"}, 2, false};
  return info;
}

using GruKernel = RecurrentKernel<GruCell, GruInfo>;

Status InferGru(InferenceContext& ctx) { return InferRnn(ctx, GruInfo()); }

}  // namespace
}  // namespace rnn

Status RegisterGruOps(OpRegistry& registry) {
  return rnn::RegisterVersions(registry, "GRU", {1, 3, 7, 14}, rnn::InferGru, MakeKernel<rnn::GruKernel>);
}

}  // namespace edgeai::cpu
