// Unary elementwise ops (math functions, activations, rounding, Not) and Clip.
// Transcendental functions go through Eigen's array expressions, which evaluate them with SIMD polynomial
// kernels instead of one libm call per element; everything else is a plain loop the compiler vectorises.
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/elementwise_common.h"

namespace edgeai::cpu {
namespace {

template <typename T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
Eigen::Map<const Array<T>> In(const T* p, int64_t n) {
  return Eigen::Map<const Array<T>>(p, static_cast<Eigen::Index>(n));
}
template <typename T>
Eigen::Map<Array<T>> Out(T* p, int64_t n) {
  return Eigen::Map<Array<T>>(p, static_cast<Eigen::Index>(n));
}

template <typename T, typename F>
void Apply(const T* x, T* y, int64_t n, const F& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// Attribute values of the parameterised activations, parsed once per node.
struct UnaryAttrs {
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
};

// Each op: kTypes, kGrain, Parse (attributes) and Run(x, y, n, attrs) over a contiguous chunk.
struct NoAttrs {
  static Status Parse(const InferenceContext&, UnaryAttrs*) { return Status::Ok(); }
};
struct FloatOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kFloat;
  static constexpr int64_t kGrain = kCostlyGrain;
};

#define EDGEAI_EIGEN_UNARY(Name, expression)                                  \
  struct Name : FloatOp {                                                     \
    template <typename T>                                                     \
    static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {         \
      Out(y, n) = In(x, n).expression;                                        \
    }                                                                         \
  };
EDGEAI_EIGEN_UNARY(SqrtOp, sqrt())
EDGEAI_EIGEN_UNARY(ExpOp, exp())
EDGEAI_EIGEN_UNARY(LogOp, log())
EDGEAI_EIGEN_UNARY(TanhOp, tanh())
EDGEAI_EIGEN_UNARY(SigmoidOp, logistic())
EDGEAI_EIGEN_UNARY(ErfOp, erf())
EDGEAI_EIGEN_UNARY(SinOp, sin())
EDGEAI_EIGEN_UNARY(CosOp, cos())
EDGEAI_EIGEN_UNARY(TanOp, tan())
EDGEAI_EIGEN_UNARY(AsinOp, asin())
EDGEAI_EIGEN_UNARY(AcosOp, acos())
EDGEAI_EIGEN_UNARY(AtanOp, atan())
EDGEAI_EIGEN_UNARY(SinhOp, sinh())
EDGEAI_EIGEN_UNARY(CoshOp, cosh())
EDGEAI_EIGEN_UNARY(FloorOp, floor())
EDGEAI_EIGEN_UNARY(CeilOp, ceil())
EDGEAI_EIGEN_UNARY(RoundOp, rint())  // rint rounds half to even in the default rounding mode, as ONNX wants
EDGEAI_EIGEN_UNARY(ReciprocalOp, inverse())
#undef EDGEAI_EIGEN_UNARY

struct SoftplusOp : FloatOp {
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    // max(x, 0) + log1p(exp(-|x|)) does not overflow for large x, unlike log(exp(x) + 1).
    const auto v = In(x, n);
    Out(y, n) = v.max(T(0)) + (-v.abs()).exp().log1p();
  }
};

// The inverse hyperbolics have no vectorised Eigen kernel; libm is as good.
#define EDGEAI_STD_UNARY(Name, function)                                      \
  struct Name : FloatOp {                                                     \
    template <typename T>                                                     \
    static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {         \
      Apply(x, y, n, [](T v) { return std::function(v); });                   \
    }                                                                         \
  };
EDGEAI_STD_UNARY(AsinhOp, asinh)
EDGEAI_STD_UNARY(AcoshOp, acosh)
EDGEAI_STD_UNARY(AtanhOp, atanh)
#undef EDGEAI_STD_UNARY

struct SoftsignOp : FloatOp {
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    Apply(x, y, n, [](T v) { return v / (T(1) + std::abs(v)); });
  }
};

struct ReluOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kSigned;
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    Apply(x, y, n, [](T v) { return v < T(0) ? T(0) : v; });  // NaN stays NaN
  }
};

struct NegOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kSigned;
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    Apply(x, y, n, [](T v) { return WrapNeg(v); });
  }
};

struct AbsOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kNumeric;
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    if constexpr (std::is_floating_point_v<T>) {
      Apply(x, y, n, [](T v) { return std::abs(v); });
    } else if constexpr (std::is_signed_v<T>) {
      Apply(x, y, n, [](T v) { return v < T(0) ? WrapNeg(v) : v; });
    } else {
      Apply(x, y, n, [](T v) { return v; });
    }
  }
};

struct SignOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kNumeric;
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    // Zero and NaN map to themselves, as numpy's sign does.
    Apply(x, y, n, [](T v) { return v > T(0) ? T(1) : (v < T(0) ? static_cast<T>(-1) : v); });
  }
};

struct NotOp : NoAttrs {
  static constexpr TypeSet kTypes = TypeSet::kBool;
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    Apply(x, y, n, [](T v) { return !v; });
  }
};

struct LeakyReluOp : FloatOp {
  static constexpr int64_t kGrain = kCheapGrain;
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 0.01f);
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const T alpha = static_cast<T>(a.alpha);
    Apply(x, y, n, [alpha](T v) { return v < T(0) ? alpha * v : v; });
  }
};

struct ThresholdedReluOp : FloatOp {
  static constexpr int64_t kGrain = kCheapGrain;
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 1.0f);
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const T alpha = static_cast<T>(a.alpha);
    Apply(x, y, n, [alpha](T v) { return v > alpha ? v : T(0); });
  }
};

struct HardSigmoidOp : FloatOp {
  static constexpr int64_t kGrain = kCheapGrain;
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 0.2f);
    a->beta = ctx.attrs().GetFloat("beta", 0.5f);
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const T alpha = static_cast<T>(a.alpha), beta = static_cast<T>(a.beta);
    Apply(x, y, n, [=](T v) { return std::min(T(1), std::max(T(0), alpha * v + beta)); });
  }
};

struct HardSwishOp : FloatOp {
  static constexpr int64_t kGrain = kCheapGrain;
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs&) {
    const T alpha = T(1) / T(6);
    Apply(x, y, n, [=](T v) { return v * std::min(T(1), std::max(T(0), alpha * v + T(0.5))); });
  }
};

struct EluOp : FloatOp {
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 1.0f);
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const auto v = In(x, n);
    Out(y, n) = (v < T(0)).select(static_cast<T>(a.alpha) * v.expm1(), v);
  }
};

struct SeluOp : FloatOp {
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 1.67326319217681884765625f);
    a->gamma = ctx.attrs().GetFloat("gamma", 1.05070102214813232421875f);
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const auto v = In(x, n);
    const T gamma = static_cast<T>(a.gamma), alpha = static_cast<T>(a.alpha);
    Out(y, n) = (v > T(0)).select(gamma * v, (gamma * alpha) * v.expm1());
  }
};

struct CeluOp : FloatOp {
  static Status Parse(const InferenceContext& ctx, UnaryAttrs* a) {
    a->alpha = ctx.attrs().GetFloat("alpha", 1.0f);
    if (a->alpha == 0.0f) return ctx.Error("attribute alpha must not be 0");
    return Status::Ok();
  }
  template <typename T>
  static void Run(const T* x, T* y, int64_t n, const UnaryAttrs& a) {
    const auto v = In(x, n);
    const T alpha = static_cast<T>(a.alpha);
    Out(y, n) = v.max(T(0)) + (alpha * (v / alpha).expm1()).min(T(0));
  }
};

template <typename Op>
Status InferUnary(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  UnaryAttrs attrs;
  return Op::Parse(ctx, &attrs);
}

template <typename Op>
class UnaryKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return Op::Parse(ctx, &attrs_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    return VisitTypes<Op::kTypes>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xd = x.data<T>();
      T* yd = y->data<T>();
      ctx.pool().ParallelFor(x.NumElements(), Op::kGrain,
                             [&](int64_t b, int64_t e) { Op::template Run<T>(xd + b, yd + b, e - b, attrs_); });
      return Status::Ok();
    });
  }

 private:
  UnaryAttrs attrs_;
};

// Clip: bounds are float attributes up to opset 10 and optional scalar inputs (of X's dtype) from 11 on.
Status InferClip(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  ctx.output(0) = x;
  if (ctx.opset() < 11) return Status::Ok();
  for (size_t i = 1; i <= 2 && i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const ValueType& bound = ctx.input(i);
    const char* name = i == 1 ? "min" : "max";
    if (bound.dtype != x.dtype) {
      return ctx.Error(std::string(name) + " must have X's dtype " + x.ToString() + ", got " + bound.ToString());
    }
    // The spec says scalar; a one-element [1] is accepted too, as exporters produce it.
    bool scalar = !bound.rank_known || bound.dims.rank() <= 1;
    for (size_t d = 0; scalar && bound.rank_known && d < bound.dims.rank(); ++d) {
      scalar = bound.dims[d] < 0 || bound.dims[d] == 1;
    }
    if (!scalar) return ctx.Error(std::string(name) + " must be a scalar, got " + bound.ToString());
  }
  return Status::Ok();
}

class ClipKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    attribute_form_ = ctx.opset() < 11;
    has_min_ = attribute_form_ && ctx.attrs().Has("min");
    has_max_ = attribute_form_ && ctx.attrs().Has("max");
    min_ = ctx.attrs().GetFloat("min", 0.0f);
    max_ = ctx.attrs().GetFloat("max", 0.0f);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    return VisitNumeric(x.dtype(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      T lo = std::numeric_limits<T>::lowest();
      T hi = std::numeric_limits<T>::max();
      if (attribute_form_) {
        if (has_min_) lo = static_cast<T>(min_);
        if (has_max_) hi = static_cast<T>(max_);
      } else {
        EDGEAI_RETURN_IF_ERROR(ReadBound(ctx, 1, x.dtype(), &lo));
        EDGEAI_RETURN_IF_ERROR(ReadBound(ctx, 2, x.dtype(), &hi));
      }
      const T* xd = x.data<T>();
      T* yd = y->data<T>();
      // min > max gives max everywhere, as the spec says; NaN inputs stay NaN.
      ctx.pool().ParallelFor(x.NumElements(), kCheapGrain, [&](int64_t b, int64_t e) {
        Apply(xd + b, yd + b, e - b, [lo, hi](T v) {
          T clamped = v < lo ? lo : v;
          return clamped > hi ? hi : clamped;
        });
      });
      return Status::Ok();
    });
  }

 private:
  template <typename T>
  static Status ReadBound(const KernelContext& ctx, size_t i, DataType dtype, T* bound) {
    const Tensor* t = ctx.input(i);
    if (t == nullptr || !t->defined()) return Status::Ok();
    if (t->dtype() != dtype || t->NumElements() != 1) {
      return ctx.Error(std::string(i == 1 ? "min" : "max") + " must be a scalar of X's dtype, got " + t->Describe());
    }
    *bound = *t->data<T>();
    return Status::Ok();
  }

  bool attribute_form_ = false;
  bool has_min_ = false, has_max_ = false;
  float min_ = 0.0f, max_ = 0.0f;
};

template <typename Op>
Status AddUnary(OpRegistry& registry, const char* op, int since) {
  OpDef def;
  def.op_type = op;
  def.since_version = since;
  def.types = TypesOf(Op::kTypes);
  def.infer = InferUnary<Op>;
  def.create = MakeKernel<UnaryKernel<Op>>;
  // Every op here keeps the dtype and maps element k to element k (Run loops and coefficient-wise Eigen
  // expressions read x[k] before writing y[k]), so y may overwrite x.
  def.in_place.push_back(InPlace{0, 0, false});
  return registry.Register(std::move(def));
}

}  // namespace

Status RegisterElementwiseUnaryOps(OpRegistry& registry) {
  // Later versions of these ops only widened their dtype lists, so each gets one range from its first opset.
  EDGEAI_RETURN_IF_ERROR(AddUnary<SqrtOp>(registry, "Sqrt", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<ExpOp>(registry, "Exp", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<LogOp>(registry, "Log", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<TanhOp>(registry, "Tanh", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SigmoidOp>(registry, "Sigmoid", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<ErfOp>(registry, "Erf", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SinOp>(registry, "Sin", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<CosOp>(registry, "Cos", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<TanOp>(registry, "Tan", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AsinOp>(registry, "Asin", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AcosOp>(registry, "Acos", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AtanOp>(registry, "Atan", 7));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SinhOp>(registry, "Sinh", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<CoshOp>(registry, "Cosh", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AsinhOp>(registry, "Asinh", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AcoshOp>(registry, "Acosh", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AtanhOp>(registry, "Atanh", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<FloorOp>(registry, "Floor", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<CeilOp>(registry, "Ceil", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<RoundOp>(registry, "Round", 11));
  EDGEAI_RETURN_IF_ERROR(AddUnary<ReciprocalOp>(registry, "Reciprocal", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SoftplusOp>(registry, "Softplus", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SoftsignOp>(registry, "Softsign", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<ReluOp>(registry, "Relu", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<NegOp>(registry, "Neg", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<AbsOp>(registry, "Abs", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SignOp>(registry, "Sign", 9));
  EDGEAI_RETURN_IF_ERROR(AddUnary<NotOp>(registry, "Not", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<LeakyReluOp>(registry, "LeakyRelu", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<ThresholdedReluOp>(registry, "ThresholdedRelu", 10));
  EDGEAI_RETURN_IF_ERROR(AddUnary<HardSigmoidOp>(registry, "HardSigmoid", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<HardSwishOp>(registry, "HardSwish", 14));
  EDGEAI_RETURN_IF_ERROR(AddUnary<EluOp>(registry, "Elu", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<SeluOp>(registry, "Selu", 1));
  EDGEAI_RETURN_IF_ERROR(AddUnary<CeluOp>(registry, "Celu", 12));

  OpDef clip;
  clip.op_type = "Clip";
  clip.until_version = 10;
  clip.types = TypesOf(TypeSet::kFloat);
  clip.infer = InferClip;
  clip.create = MakeKernel<ClipKernel>;
  clip.in_place.push_back(InPlace{0, 0, false});  // the bounds are read before the loop
  EDGEAI_RETURN_IF_ERROR(registry.Register(clip));
  clip.since_version = 11;  // integer types arrived at 12; accepting them at 11 too costs nothing
  clip.until_version = kMaxOpset;
  clip.types = TypesOf(TypeSet::kNumeric);
  return registry.Register(std::move(clip));
}

}  // namespace edgeai::cpu
