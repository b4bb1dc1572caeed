// Binary elementwise ops with numpy broadcasting: arithmetic (Add, Sub, Mul, Div, Pow, Mod, BitShift),
// comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual) and logic (And, Or, Xor).
//
// Opsets 1-6 of the older ops had an explicit form of broadcasting: with broadcast=1 and an `axis`, B's dims
// line up with A's starting at that axis (B [3] against A [2,3,4] at axis 1 means B [3,1]). Without `axis` it
// is suffix alignment, which numpy broadcasting already does; so only the axis form needs handling.
// Integer division and modulo by zero are reported as errors naming the node instead of trapping.
#include <cmath>
#include <string>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/elementwise_common.h"
#include "backend/shape_util.h"

namespace edgeai::cpu {
namespace {

// The legacy broadcast axis of a node, when it uses that form.
bool LegacyAxis(const InferenceContext& ctx, int64_t* axis) {
  if (ctx.opset() >= 7 || ctx.attrs().GetInt("broadcast", 0) == 0 || !ctx.attrs().Has("axis")) return false;
  *axis = ctx.attrs().GetInt("axis", 0);
  return true;
}

// B's shape padded with trailing 1s so that numpy broadcasting lines it up with A from `axis` on.
Result<Shape> AlignLegacy(const Shape& a, const Shape& b, int64_t axis) {
  const int64_t ra = static_cast<int64_t>(a.rank());
  const int64_t rb = static_cast<int64_t>(b.rank());
  const int64_t start = axis < 0 ? axis + ra : axis;
  if (start < 0 || start + rb > ra) {
    return InvalidArgument("broadcast axis " + std::to_string(axis) + " does not place B " + b.ToString() +
                           " inside A " + a.ToString());
  }
  Shape aligned = b;
  for (int64_t i = start + rb; i < ra; ++i) aligned.push_back(1);
  return aligned;
}

template <bool kBoolOut, bool kSameTypes>
Status InferBinary(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& a = ctx.input(0);
  const ValueType& b = ctx.input(1);
  if (kSameTypes && a.dtype != b.dtype) {
    return ctx.Error("inputs must have the same dtype, got " + a.ToString() + " and " + b.ToString());
  }
  const DataType out = kBoolOut ? DataType::kBool : a.dtype;
  int64_t axis = 0;
  if (!LegacyAxis(ctx, &axis)) {
    EDGEAI_ASSIGN_OR_RETURN(ctx.output(0), BroadcastInputs(ctx, 0, out));
    return Status::Ok();
  }
  if (!a.rank_known || !b.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(out);
    return Status::Ok();
  }
  Result<Shape> aligned = AlignLegacy(a.dims, b.dims, axis);
  if (!aligned.ok()) return ctx.Error(aligned.status().message());
  Result<Shape> merged = BroadcastShapes(a.dims, *aligned);
  if (!merged.ok()) return ctx.Error(merged.status().message());
  ctx.output(0) = ValueType::Of(out, *merged);
  return Status::Ok();
}

// Plans the broadcast of A and B onto the output, honouring the legacy axis form.
class BinaryBase : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    legacy_ = LegacyAxis(ctx, &axis_);
    return Status::Ok();
  }

 protected:
  // For ops whose two inputs share one dtype: checks that, then allocates the output and plans the broadcast.
  Status PrepareSameType(KernelContext& ctx, const Tensor& a, const Tensor& b, Tensor** out,
                         BroadcastPlan* plan) const {
    if (a.dtype() != b.dtype()) return ctx.Error("inputs " + a.Describe() + " and " + b.Describe() + " differ");
    EDGEAI_ASSIGN_OR_RETURN(*out, ctx.Output(0));
    return MakePlan(ctx, a, b, **out, plan);
  }

  Status MakePlan(KernelContext& ctx, const Tensor& a, const Tensor& b, const Tensor& out,
                  BroadcastPlan* plan) const {
    Shape b_shape = b.shape();
    if (legacy_) {
      Result<Shape> aligned = AlignLegacy(a.shape(), b.shape(), axis_);
      if (!aligned.ok()) return ctx.Error(aligned.status().message());
      b_shape = *aligned;
    }
    if (!plan->Init(out.shape(), {&a.shape(), &b_shape})) {
      return ctx.Error("inputs " + a.Describe() + " and " + b.Describe() + " do not broadcast to " +
                       out.shape().ToString());
    }
    return Status::Ok();
  }

 private:
  bool legacy_ = false;
  int64_t axis_ = 0;
};

template <typename T>
bool HasZero(const Tensor& t) {
  const T* p = t.data<T>();
  const int64_t n = t.NumElements();
  bool zero = false;
  for (int64_t i = 0; i < n; ++i) zero |= p[i] == T(0);
  return zero;
}

struct AddFn {
  template <typename T>
  T operator()(T a, T b) const { return WrapAdd(a, b); }
};
struct SubFn {
  template <typename T>
  T operator()(T a, T b) const { return WrapSub(a, b); }
};
struct MulFn {
  template <typename T>
  T operator()(T a, T b) const { return WrapMul(a, b); }
};
struct DivFn {  // integers truncate; the caller has ruled out b == 0
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      return b == T(-1) ? WrapNeg(a) : static_cast<T>(a / b);  // INT_MIN / -1 traps on x86
    } else {
      return static_cast<T>(a / b);
    }
  }
};
struct EqualFn {
  template <typename T>
  bool operator()(T a, T b) const { return a == b; }
};
struct LessFn {
  template <typename T>
  bool operator()(T a, T b) const { return a < b; }
};
struct GreaterFn {
  template <typename T>
  bool operator()(T a, T b) const { return a > b; }
};
struct LessOrEqualFn {
  template <typename T>
  bool operator()(T a, T b) const { return a <= b; }
};
struct GreaterOrEqualFn {
  template <typename T>
  bool operator()(T a, T b) const { return a >= b; }
};
struct AndFn {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrFn {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorFn {
  bool operator()(bool a, bool b) const { return a != b; }
};

// Same-dtype binary op; F maps (T, T) to T, or to bool when kBoolOut.
template <typename F, TypeSet kSet, bool kBoolOut, bool kCheckZero = false>
class BinaryKernel final : public BinaryBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    Tensor* out = nullptr;
    BroadcastPlan plan;
    EDGEAI_RETURN_IF_ERROR(PrepareSameType(ctx, a, b, &out, &plan));
    return VisitTypes<kSet>(a.dtype(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using O = std::conditional_t<kBoolOut, bool, T>;
      if constexpr (kCheckZero && std::is_integral_v<T>) {
        if (HasZero<T>(b)) return ctx.Error("integer division by zero");
      }
      RunBinary(ctx.pool(), plan, a.data<T>(), b.data<T>(), out->data<O>(), F{});
      return Status::Ok();
    });
  }
};

// Mod: fmod=1 is C's fmod (sign of the dividend); fmod=0 is Python's % (sign of the divisor), integers only.
template <bool kFmod>
struct ModFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::fmod(a, b);
    } else if constexpr (std::is_signed_v<T>) {
      if (b == T(-1)) return T(0);  // INT_MIN % -1 traps on x86
      T r = static_cast<T>(a % b);
      if (!kFmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    } else {
      return static_cast<T>(a % b);
    }
  }
};

bool IsFloat(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }

Status InferMod(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR((InferBinary<false, true>(ctx)));
  const int64_t fmod = ctx.attrs().GetInt("fmod", 0);
  if (fmod != 0 && fmod != 1) return ctx.Error("attribute fmod must be 0 or 1, got " + std::to_string(fmod));
  if (fmod == 0 && IsFloat(ctx.input(0).dtype)) return ctx.Error("fmod must be 1 for floating-point inputs");
  return Status::Ok();
}

class ModKernel final : public BinaryBase {
 public:
  Status Init(const InferenceContext& ctx) {
    fmod_ = ctx.attrs().GetInt("fmod", 0) != 0;
    return BinaryBase::Init(ctx);
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) return ctx.Error("inputs " + a.Describe() + " and " + b.Describe() + " differ");
    if (!fmod_ && IsFloat(a.dtype())) return ctx.Error("fmod must be 1 for floating-point inputs");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    BroadcastPlan plan;
    EDGEAI_RETURN_IF_ERROR(MakePlan(ctx, a, b, *out, &plan));
    return VisitNumeric(a.dtype(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<T>) {
        if (HasZero<T>(b)) return ctx.Error("integer modulo by zero");
      }
      if (fmod_) {
        RunBinary(ctx.pool(), plan, a.data<T>(), b.data<T>(), out->data<T>(), ModFn<true>{});
      } else {
        RunBinary(ctx.pool(), plan, a.data<T>(), b.data<T>(), out->data<T>(), ModFn<false>{});
      }
      return Status::Ok();
    });
  }

 private:
  bool fmod_ = false;
};

// Integer power by squaring, wrapping on overflow; negative exponents truncate 1/x^n toward zero.
template <typename T, typename E>
T IntPow(T base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == T(1)) return T(1);
      if constexpr (std::is_signed_v<T>) {
        if (base == T(-1)) return (exponent & 1) ? T(-1) : T(1);
      }
      return T(0);
    }
  }
  T result = T(1);
  auto e = static_cast<uint64_t>(exponent);
  while (e != 0) {
    if (e & 1) result = WrapMul(result, base);
    base = WrapMul(base, base);
    e >>= 1;
  }
  return result;
}

struct PowFn {
  template <typename T, typename E>
  T operator()(T x, E e) const {
    if constexpr (std::is_floating_point_v<T> && std::is_same_v<T, E>) {
      return std::pow(x, e);
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(e)));
    } else if constexpr (std::is_integral_v<E>) {
      return IntPow(x, e);
    } else {
      return FloatToInt<T>(std::pow(static_cast<double>(x), static_cast<double>(e)));
    }
  }
};

// Base dtypes of Pow (T in opset 12+).
template <typename F>
Status VisitPowBase(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kFloat32: return f(TypeTag<float>{});
    case DataType::kFloat64: return f(TypeTag<double>{});
    case DataType::kInt32: return f(TypeTag<int32_t>{});
    case DataType::kInt64: return f(TypeTag<int64_t>{});
    default: return UnsupportedDtype(dtype);
  }
}

// Pow: base and exponent dtypes may differ (opset 12+); the output has the base's dtype.
class PowKernel final : public BinaryBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    BroadcastPlan plan;
    EDGEAI_RETURN_IF_ERROR(MakePlan(ctx, a, b, *out, &plan));
    return VisitPowBase(a.dtype(), [&](auto base_tag) {
      using T = typename decltype(base_tag)::type;
      return VisitNumeric(b.dtype(), [&](auto exp_tag) {
        using E = typename decltype(exp_tag)::type;
        Run<T, E>(ctx.pool(), plan, a.data<T>(), b.data<E>(), out->data<T>(), b.NumElements());
        return Status::Ok();
      });
    });
  }

 private:
  template <typename T, typename E>
  static void Run(const ThreadPool& pool, const BroadcastPlan& plan, const T* x, const E* e, T* y,
                  int64_t exp_count) {
    // A constant exponent of 2 or 3 (variance, polynomial activations) is far cheaper as products.
    if constexpr (std::is_floating_point_v<T>) {
      if (exp_count == 1 && (*e == E(2) || *e == E(3))) {
        if (*e == E(2)) {
          RunBinary(pool, plan, x, e, y, [](T v, E) { return v * v; });
        } else {
          RunBinary(pool, plan, x, e, y, [](T v, E) { return v * v * v; });
        }
        return;
      }
    }
    RunBinary(pool, plan, x, e, y, PowFn{}, kCostlyGrain);
  }
};

// BitShift on unsigned integers; shifting by the bit width or more gives 0.
template <bool kLeft>
struct ShiftFn {
  template <typename T>
  T operator()(T x, T s) const {
    if (s >= T(sizeof(T) * 8)) return T(0);
    return static_cast<T>(kLeft ? x << s : x >> s);
  }
};

Status InferBitShift(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR((InferBinary<false, true>(ctx)));
  const std::string direction = ctx.attrs().GetString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    return ctx.Error("attribute direction must be \"LEFT\" or \"RIGHT\", got \"" + direction + "\"");
  }
  return Status::Ok();
}

class BitShiftKernel final : public BinaryBase {
 public:
  Status Init(const InferenceContext& ctx) {
    left_ = ctx.attrs().GetString("direction", "") == "LEFT";
    return BinaryBase::Init(ctx);
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    Tensor* out = nullptr;
    BroadcastPlan plan;
    EDGEAI_RETURN_IF_ERROR(PrepareSameType(ctx, a, b, &out, &plan));
    return VisitInteger(a.dtype(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_unsigned_v<T>) {
        if (left_) {
          RunBinary(ctx.pool(), plan, a.data<T>(), b.data<T>(), out->data<T>(), ShiftFn<true>{});
        } else {
          RunBinary(ctx.pool(), plan, a.data<T>(), b.data<T>(), out->data<T>(), ShiftFn<false>{});
        }
        return Status::Ok();
      } else {
        return UnsupportedDtype(a.dtype());
      }
    });
  }

 private:
  bool left_ = false;
};

// `in_place`: the output (of the inputs' dtype) may overwrite either input. Safe for RunBinary, which reads
// a[k] and b[k] before writing out[k]; the executor only shares an input that has the output's byte size, so
// a shared input is never the broadcast one and lies exactly under the output.
Status AddDef(OpRegistry& registry, const char* op, int since, int until, std::vector<DataType> types,
              InferFn infer, KernelFactory create, bool in_place = false) {
  OpDef def = MakeOpDef(op, since, until, std::move(types), infer, create);
  if (in_place) def.in_place = {InPlace{0, 0, false}, InPlace{0, 1, false}};
  return registry.Register(std::move(def));
}

// Registers `op` for opsets [since, 6] (legacy broadcast attributes) and [7, max] (numpy broadcasting); ops
// born at 7 or later get one range.
template <typename K, bool kBoolOut>
Status AddBinary(OpRegistry& registry, const char* op, int since, TypeSet set, bool in_place = false) {
  InferFn infer = InferBinary<kBoolOut, true>;
  KernelFactory create = MakeKernel<K>;
  if (since < 7) EDGEAI_RETURN_IF_ERROR(AddDef(registry, op, since, 6, TypesOf(set), infer, create, in_place));
  return AddDef(registry, op, since < 7 ? 7 : since, kMaxOpset, TypesOf(set), infer, create, in_place);
}

}  // namespace

Status RegisterElementwiseOps(OpRegistry& registry) {
  constexpr TypeSet kNum = TypeSet::kNumeric;
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<AddFn, kNum, false>, false>(registry, "Add", 1, kNum, true)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<SubFn, kNum, false>, false>(registry, "Sub", 1, kNum, true)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<MulFn, kNum, false>, false>(registry, "Mul", 1, kNum, true)));
  // Div checks integer divisors for zero before it writes anything.
  EDGEAI_RETURN_IF_ERROR(
      (AddBinary<BinaryKernel<DivFn, kNum, false, true>, false>(registry, "Div", 1, kNum, true)));
  constexpr TypeSet kNumBool = TypeSet::kNumericBool;
  EDGEAI_RETURN_IF_ERROR(
      (AddBinary<BinaryKernel<EqualFn, kNumBool, true>, true>(registry, "Equal", 1, kNumBool)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<LessFn, kNum, true>, true>(registry, "Less", 1, kNum)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<GreaterFn, kNum, true>, true>(registry, "Greater", 1, kNum)));
  EDGEAI_RETURN_IF_ERROR(
      (AddBinary<BinaryKernel<LessOrEqualFn, kNum, true>, true>(registry, "LessOrEqual", 12, kNum)));
  EDGEAI_RETURN_IF_ERROR(
      (AddBinary<BinaryKernel<GreaterOrEqualFn, kNum, true>, true>(registry, "GreaterOrEqual", 12, kNum)));
  constexpr TypeSet kBool = TypeSet::kBool;
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<AndFn, kBool, true>, true>(registry, "And", 1, kBool)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<OrFn, kBool, true>, true>(registry, "Or", 1, kBool)));
  EDGEAI_RETURN_IF_ERROR((AddBinary<BinaryKernel<XorFn, kBool, true>, true>(registry, "Xor", 1, kBool)));

  const std::vector<DataType> pow_types = {DataType::kFloat32, DataType::kFloat64, DataType::kInt32,
                                           DataType::kInt64};
  InferFn pow_infer = InferBinary<false, false>;
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "Pow", 1, 6, pow_types, pow_infer, MakeKernel<PowKernel>));
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "Pow", 7, kMaxOpset, pow_types, pow_infer, MakeKernel<PowKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Mod", 10, kMaxOpset, TypesOf(kNum), InferMod, MakeKernel<ModKernel>));
  const std::vector<DataType> shift_types = {DataType::kUint8, DataType::kUint16, DataType::kUint32,
                                             DataType::kUint64};
  return AddDef(registry, "BitShift", 11, kMaxOpset, shift_types, InferBitShift, MakeKernel<BitShiftKernel>);
}

}  // namespace edgeai::cpu
