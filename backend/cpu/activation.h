// The activations that the fusion passes fold into Conv, Gemm and MatMul (com.edgeai FusedConv/FusedGemm/
// FusedMatMul), shared by the kernels that apply them as they store their output (GEMM tiles, the depthwise and
// Winograd convolutions) and by the fused ops' fallback pass over the whole output.
#pragma once

#include <cstdint>

#include "backend/kernel.h"
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

// A kernel that can apply an activation to its own output as it stores it; FusedKernel hands it the node's
// activation instead of running a second pass.
class ActivationFusable {
 public:
  virtual ~ActivationFusable() = default;
  // False when this kernel cannot apply `act` itself (the caller then applies it afterwards).
  virtual bool FuseActivation(const Activation& act) = 0;
};

}  // namespace edgeai::cpu
