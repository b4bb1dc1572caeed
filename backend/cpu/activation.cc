#include "backend/cpu/activation.h"

#include <Eigen/Core>
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace edgeai::cpu {
namespace {

template <typename T>
void Apply(T* y, int64_t count, const Activation& act) {
  using Map = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  const T a = static_cast<T>(act.a), b = static_cast<T>(act.b);
  switch (act.kind) {
    case ActKind::kNone: return;
    case ActKind::kRelu:
      for (int64_t i = 0; i < count; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
      return;
    case ActKind::kSigmoid: {
      Map m(y, static_cast<Eigen::Index>(count));
      m = m.logistic();
      return;
    }
    case ActKind::kTanh: {
      Map m(y, static_cast<Eigen::Index>(count));
      m = m.tanh();
      return;
    }
    case ActKind::kHardSwish:
      for (int64_t i = 0; i < count; ++i) {
        y[i] = y[i] * std::min(T(1), std::max(T(0), y[i] * (T(1) / T(6)) + T(0.5)));
      }
      return;
    case ActKind::kLeakyRelu:
      for (int64_t i = 0; i < count; ++i) y[i] = y[i] < T(0) ? a * y[i] : y[i];
      return;
    case ActKind::kHardSigmoid:
      for (int64_t i = 0; i < count; ++i) y[i] = std::min(T(1), std::max(T(0), a * y[i] + b));
      return;
    case ActKind::kClip: {
      // Bounds of +-inf (an absent Clip bound) clamp nothing; NaN stays NaN, as in Clip.
      const T lo = act.a == -std::numeric_limits<float>::infinity() ? std::numeric_limits<T>::lowest() : a;
      const T hi = act.b == std::numeric_limits<float>::infinity() ? std::numeric_limits<T>::max() : b;
      for (int64_t i = 0; i < count; ++i) {
        T v = y[i] < lo ? lo : y[i];
        y[i] = v > hi ? hi : v;
      }
      return;
    }
  }
}

constexpr int64_t kCheapGrain = 1 << 15;   // elements per chunk: compares and multiplies
constexpr int64_t kCostlyGrain = 1 << 12;  // elements per chunk: exp, tanh

template <typename T>
void BiasAndActivate(T* y, int64_t total, const T* bias, int64_t bias_size, int64_t n, const Activation& act,
                     const ThreadPool& pool) {
  if (bias == nullptr) {
    if (act.none()) return;
    pool.ParallelFor(total, act.costly() ? kCostlyGrain : kCheapGrain,
                     [&](int64_t b, int64_t e) { Apply(y + b, e - b, act); });
    return;
  }
  const int64_t rows = n > 0 ? total / n : 0;
  const int64_t grain = std::max<int64_t>(1, (act.costly() ? kCostlyGrain : kCheapGrain) / std::max<int64_t>(n, 1));
  pool.ParallelFor(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      T* row = y + r * n;
      if (bias_size == 1) {
        const T c = bias[0];
        for (int64_t j = 0; j < n; ++j) row[j] += c;
      } else {
        for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
      }
      Apply(row, n, act);
    }
  });
}

}  // namespace

float Activation::clamp_lo() const {
  if (kind == ActKind::kRelu) return 0.0f;
  if (kind == ActKind::kClip) return a;
  return -std::numeric_limits<float>::infinity();
}

float Activation::clamp_hi() const {
  return kind == ActKind::kClip ? b : std::numeric_limits<float>::infinity();
}

Status ParseActivation(const InferenceContext& ctx, Activation* act) {
  const std::string name = ctx.attrs().GetString("activation", "");
  const std::vector<float> params = ctx.attrs().GetFloats("activation_params");
  struct Known {
    const char* name;
    ActKind kind;
    size_t params;
  };
  static const Known kKnown[] = {{"", ActKind::kNone, 0},          {"Relu", ActKind::kRelu, 0},
                                 {"Sigmoid", ActKind::kSigmoid, 0}, {"Tanh", ActKind::kTanh, 0},
                                 {"HardSwish", ActKind::kHardSwish, 0}, {"LeakyRelu", ActKind::kLeakyRelu, 1},
                                 {"HardSigmoid", ActKind::kHardSigmoid, 2}, {"Clip", ActKind::kClip, 2}};
  for (const Known& k : kKnown) {
    if (name != k.name) continue;
    if (params.size() != k.params) {
      return ctx.Error("activation " + name + " takes " + std::to_string(k.params) + " activation_params, got " +
                       std::to_string(params.size()));
    }
    act->kind = k.kind;
    if (!params.empty()) act->a = params[0];
    if (params.size() > 1) act->b = params[1];
    return Status::Ok();
  }
  return ctx.Error("unknown activation '" + name +
                   "' (expected Relu, Sigmoid, Tanh, HardSwish, LeakyRelu, HardSigmoid or Clip)");
}

void ApplyActivation(float* y, int64_t count, const Activation& act) { Apply(y, count, act); }
void ApplyActivation(double* y, int64_t count, const Activation& act) { Apply(y, count, act); }

void AddBiasAndActivate(float* y, int64_t total, const float* bias, int64_t bias_size, int64_t n,
                        const Activation& act, const ThreadPool& pool) {
  BiasAndActivate(y, total, bias, bias_size, n, act, pool);
}
void AddBiasAndActivate(double* y, int64_t total, const double* bias, int64_t bias_size, int64_t n,
                        const Activation& act, const ThreadPool& pool) {
  BiasAndActivate(y, total, bias, bias_size, n, act, pool);
}

}  // namespace edgeai::cpu
