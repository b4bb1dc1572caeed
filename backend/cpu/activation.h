// The activations that the fusion passes fold into Conv, Gemm and MatMul (com.edgeai FusedConv/FusedGemm/
// FusedMatMul), shared by the kernels that apply them as they store their output (GEMM tiles, the depthwise and
// Winograd convolutions) and by the fused ops' fallback pass over the whole output.
#pragma once

#include <cstdint>

#include "backend/kernel.h"
#include "backend/thread_pool.h"
#include "edgeai/status.h"

namespace edgeai::cpu {

enum class ActKind { kNone, kRelu, kSigmoid, kTanh, kHardSwish, kLeakyRelu, kHardSigmoid, kClip };

struct Activation {
  ActKind kind = ActKind::kNone;
  float a = 0.0f;  // LeakyRelu alpha, HardSigmoid alpha, Clip min
  float b = 0.0f;  // HardSigmoid beta, Clip max

  bool none() const { return kind == ActKind::kNone; }
  bool costly() const { return kind == ActKind::kSigmoid || kind == ActKind::kTanh; }
  // Relu and Clip are a clamp to [lo, hi] (infinite bounds clamp nothing), cheap enough to apply to each
  // register tile as it is stored.
  bool IsClamp() const { return kind == ActKind::kRelu || kind == ActKind::kClip; }
  float clamp_lo() const;
  float clamp_hi() const;
};

// Reads the fused node's `activation` and `activation_params` attributes.
Status ParseActivation(const InferenceContext& ctx, Activation* act);

// The activation over y[0, count), in place, with the standalone ops' formulas (NaN stays NaN).
void ApplyActivation(float* y, int64_t count, const Activation& act);
void ApplyActivation(double* y, int64_t count, const Activation& act);

// y [total / n rows, n]: adds `bias` (n elements, or one; null for none) to every row, then applies the
// activation, in parallel over rows.
void AddBiasAndActivate(float* y, int64_t total, const float* bias, int64_t bias_size, int64_t n,
                        const Activation& act, const ThreadPool& pool);
void AddBiasAndActivate(double* y, int64_t total, const double* bias, int64_t bias_size, int64_t n,
                        const Activation& act, const ThreadPool& pool);

// A kernel that can apply an activation to its own output as it stores it; FusedKernel hands it the node's
// activation instead of running a second pass.
class ActivationFusable {
 public:
  virtual ~ActivationFusable() = default;
  // False when this kernel cannot apply `act` itself (the caller then applies it afterwards).
  virtual bool FuseActivation(const Activation& act) = 0;
};

// A MatMul that can add FusedMatMul's bias (the node's input 2: N elements, or one) to every row of its output
// as it stores it, before the activation.
class BiasFusable {
 public:
  virtual ~BiasFusable() = default;
  // False when this kernel cannot (the caller then adds the bias afterwards, and applies the activation).
  virtual bool FuseBiasInput() = 0;
};

}  // namespace edgeai::cpu
