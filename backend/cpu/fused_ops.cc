// The com.edgeai ops the graph fusion passes create (graph/passes/):
//   FusedConv, FusedGemm, FusedMatMul: the ai.onnx op (same inputs and attributes) followed by an activation,
//     attributes activation (Relu, Sigmoid, Tanh, HardSwish, LeakyRelu, HardSigmoid, Clip; "" for none) and
//     activation_params (floats: LeakyRelu [alpha], HardSigmoid [alpha, beta], Clip [min, max]).
//     FusedMatMul may take a third input, a bias of N or one element added to every output row.
//   Gelu: the exact (erf) GELU, 0.5 * x * (1 + erf(x / sqrt(2))).
//   LayerNormalization: ai.onnx LayerNormalization-17 (same inference and kernel), for models of any opset.
// A fused kernel owns the base op's kernel, made through the CPU registry for the node's opset, and runs the
// bias and activation over the output in place right after it, while the output is still in cache. The node's
// opset is the ai.onnx opset of the model, so the base op keeps that opset's semantics.
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr char kDomain[] = "com.edgeai";
constexpr int64_t kCostlyGrain = 1 << 12;  // elements per chunk: exp, tanh, erf

// ---- Fused Conv / Gemm / MatMul ------------------------------------------------------------------------------

// The ai.onnx def of `op` for the node's opset and input dtypes (of the first `inputs` inputs).
Result<const OpDef*> BaseDef(const InferenceContext& ctx, const char* op, size_t inputs) {
  std::vector<DataType> dtypes;
  for (size_t i = 0; i < std::min(inputs, ctx.num_inputs()); ++i) {
    dtypes.push_back(ctx.has_input(i) ? ctx.input(i).dtype : DataType::kUndefined);
  }
  Result<const OpDef*> def = CpuOpRegistry().Find("", op, ctx.opset(), dtypes);
  if (!def.ok()) return ctx.Error("base op: " + def.status().message());
  return def;
}

// FusedMatMul's bias input, which the base MatMul does not see.
bool HasBias(const InferenceContext& ctx) { return ctx.op_type() == "FusedMatMul" && ctx.has_input(2); }

// The view of the node the base MatMul gets: inputs A and B only.
InferenceContext WithoutBias(const InferenceContext& ctx, bool with_values) {
  return InferenceContext(ctx.node_name(), ctx.op_type(), ctx.opset(), ctx.attrs(), {&ctx.input(0), &ctx.input(1)},
                          {with_values ? ctx.input_value(0) : nullptr, with_values ? ctx.input_value(1) : nullptr},
                          ctx.num_outputs());
}

Status CheckBias(InferenceContext& ctx) {
  const ValueType& y = ctx.output(0);
  const ValueType& bias = ctx.input(2);
  if (bias.dtype != ctx.input(0).dtype) {
    return ctx.Error("bias has dtype " + bias.ToString() + ", A has " + ctx.input(0).ToString());
  }
  if (!bias.rank_known || !y.rank_known) return Status::Ok();
  const int64_t n = y.dims.rank() > 0 ? y.dims[y.dims.rank() - 1] : 1;
  const bool known = bias.IsFullyKnown() && n >= 0;
  if (bias.dims.rank() > 1 || (known && bias.dims.NumElements() != 1 && bias.dims.NumElements() != n)) {
    return ctx.Error("bias " + bias.ToString() + " must have N (" + std::to_string(n) + ") elements or one");
  }
  return Status::Ok();
}

template <const char* kBase>
Status InferFused(InferenceContext& ctx) {
  if (ctx.num_inputs() < 2) return ctx.Error("expects at least 2 inputs");
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const bool bias = HasBias(ctx);
  EDGEAI_ASSIGN_OR_RETURN(const OpDef* base, BaseDef(ctx, kBase, bias ? 2 : ctx.num_inputs()));
  if (!bias) return base->infer(ctx);
  InferenceContext inner = WithoutBias(ctx, false);
  EDGEAI_RETURN_IF_ERROR(base->infer(inner));
  ctx.output(0) = inner.output(0);
  return CheckBias(ctx);
}

// Hides FusedMatMul's bias from the base kernel; everything else goes to the node's own context.
class FirstInputsContext final : public KernelContext {
 public:
  FirstInputsContext(KernelContext& outer, size_t inputs) : outer_(outer), inputs_(inputs) {}
  size_t num_inputs() const override { return inputs_; }
  const Tensor* input(size_t i) const override { return i < inputs_ ? outer_.input(i) : nullptr; }
  size_t num_outputs() const override { return outer_.num_outputs(); }
  const ValueType& inferred_output(size_t i) const override { return outer_.inferred_output(i); }
  Result<Tensor*> Output(size_t i, const Shape& shape) override { return outer_.Output(i, shape); }
  using KernelContext::Output;
  const ThreadPool& pool() const override { return outer_.pool(); }
  std::string_view node_label() const override { return outer_.node_label(); }

 private:
  KernelContext& outer_;
  size_t inputs_;
};

template <const char* kBase>
class FusedKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseActivation(ctx, &act_));
    bias_ = HasBias(ctx);
    EDGEAI_ASSIGN_OR_RETURN(const OpDef* base, BaseDef(ctx, kBase, bias_ ? 2 : ctx.num_inputs()));
    if (!bias_) {
      EDGEAI_ASSIGN_OR_RETURN(base_, base->create(ctx));
      // A base kernel that applies the activation as it stores its output saves the second pass over it.
      auto* fusable = dynamic_cast<ActivationFusable*>(base_.get());
      if (!act_.none() && fusable != nullptr && fusable->FuseActivation(act_)) act_ = Activation{};
      return Status::Ok();
    }
    InferenceContext inner = WithoutBias(ctx, true);
    EDGEAI_RETURN_IF_ERROR(base->infer(inner));
    EDGEAI_ASSIGN_OR_RETURN(base_, base->create(inner));
    // A base that adds the bias itself sees the node's inputs as they are, bias included.
    auto* bias_fusable = dynamic_cast<BiasFusable*>(base_.get());
    if (bias_fusable != nullptr && bias_fusable->FuseBiasInput()) {
      bias_ = false;
      auto* fusable = dynamic_cast<ActivationFusable*>(base_.get());
      if (!act_.none() && fusable != nullptr && fusable->FuseActivation(act_)) act_ = Activation{};
    }
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    if (bias_) {
      FirstInputsContext inner(ctx, 2);
      EDGEAI_RETURN_IF_ERROR(base_->Compute(inner));
    } else {
      EDGEAI_RETURN_IF_ERROR(base_->Compute(ctx));
    }
    if (!bias_ && act_.none()) return Status::Ok();
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    const Tensor* bias = bias_ ? ctx.input(2) : nullptr;
    const int64_t n = y->rank() > 0 ? y->shape()[y->rank() - 1] : 1;
    if (bias != nullptr && (bias->dtype() != y->dtype() || (bias->NumElements() != n && bias->NumElements() != 1))) {
      return ctx.Error("bias " + bias->Describe() + " does not match the output " + y->Describe());
    }
    return VisitFloat(y->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      AddBiasAndActivate(y->data<T>(), y->NumElements(), bias ? bias->data<T>() : nullptr,
                         bias ? bias->NumElements() : 0, n, act_, ctx.pool());
      return Status::Ok();
    });
  }

 private:
  Activation act_;
  bool bias_ = false;
  std::unique_ptr<Kernel> base_;
};

constexpr char kConv[] = "Conv";
constexpr char kGemm[] = "Gemm";
constexpr char kMatMul[] = "MatMul";

// ---- Gelu ----------------------------------------------------------------------------------------------------

Status InferGelu(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

class GeluKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    const std::string approximate = ctx.attrs().GetString("approximate", "none");
    if (approximate != "none") return ctx.Error("approximate '" + approximate + "' is not supported (none only)");
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
      const T* in = x.data<T>();
      T* out = y->data<T>();
      ctx.pool().ParallelFor(x.NumElements(), kCostlyGrain, [&](int64_t b, int64_t e) {
        Eigen::Map<const Array> xs(in + b, static_cast<Eigen::Index>(e - b));
        Eigen::Map<Array> ys(out + b, static_cast<Eigen::Index>(e - b));
        ys = T(0.5) * xs * (T(1) + (xs * T(0.70710678118654752440)).erf());
      });
      return Status::Ok();
    });
  }
};

OpDef Def(const char* op, InferFn infer, KernelFactory create) {
  OpDef def;
  def.op_type = op;
  def.domain = kDomain;
  def.types = {DataType::kFloat32, DataType::kFloat64};
  def.infer = infer;
  def.create = create;
  return def;
}

}  // namespace

Status RegisterFusedOps(OpRegistry& registry) {
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("FusedConv", InferFused<kConv>, MakeKernel<FusedKernel<kConv>>)));
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("FusedGemm", InferFused<kGemm>, MakeKernel<FusedKernel<kGemm>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("FusedMatMul", InferFused<kMatMul>, MakeKernel<FusedKernel<kMatMul>>)));
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("Gelu", InferGelu, MakeKernel<GeluKernel>)));
  // LayerNormalization-17 as it is: cpu_op_table.cc registers this family after RegisterNormalizationOps.
  Result<const OpDef*> layer_norm = registry.Find("", "LayerNormalization", 17, {DataType::kFloat32});
  if (!layer_norm.ok()) return Internal("com.edgeai LayerNormalization needs ai.onnx LayerNormalization-17 first");
  OpDef def = **layer_norm;
  def.domain = kDomain;
  def.since_version = 1;
  def.until_version = kMaxOpset;
  return registry.Register(std::move(def));
}

}  // namespace edgeai::cpu
