// Variadic elementwise ops (Max, Min, Sum, Mean), Where and PRelu, all with numpy broadcasting.
// A variadic op folds its inputs pairwise into the output: out = f(in0, in1), then out = f(out, in_k), each
// step a broadcast binary pass that reads and writes the output in place.
#include <cstring>
#include <string>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/elementwise_common.h"
#include "backend/shape_util.h"

namespace edgeai::cpu {
namespace {

// NaN-propagating, like numpy's maximum and minimum (what the ONNX reference uses).
struct MaxFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return (a > b || a != a) ? a : b;
    } else {
      return a > b ? a : b;
    }
  }
};
struct MinFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return (a < b || a != a) ? a : b;
    } else {
      return a < b ? a : b;
    }
  }
};
struct SumFn {
  template <typename T>
  T operator()(T a, T b) const { return WrapAdd(a, b); }
};

Status InferVariadic(InferenceContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("needs at least one input");
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    if (ctx.input(i).dtype != ctx.input(0).dtype) {
      return ctx.Error("inputs must have the same dtype, got " + ctx.input(0).ToString() + " and " +
                       ctx.input(i).ToString() + " (input #" + std::to_string(i) + ")");
    }
  }
  EDGEAI_ASSIGN_OR_RETURN(ctx.output(0), BroadcastInputs(ctx, 0, ctx.input(0).dtype));
  return Status::Ok();
}

template <typename F, TypeSet kSet, bool kMean>
class VariadicKernel final : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }

  Status Compute(KernelContext& ctx) const override {
    const size_t n = ctx.num_inputs();
    for (size_t i = 0; i < n; ++i) {
      if (ctx.input(i) == nullptr) return ctx.Error("input #" + std::to_string(i) + " is missing");
      if (ctx.input(i)->dtype() != ctx.input(0)->dtype()) return ctx.Error("inputs differ in dtype");
    }
    if (n == 0) return ctx.Error("needs at least one input");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitTypes<kSet>(out->dtype(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      T* o = out->data<T>();
      const Tensor& first = *ctx.input(0);
      if (n == 1) {
        if (first.shape() != out->shape()) return ctx.Error("output shape does not match the single input");
        if (out->ByteSize() > 0) std::memcpy(o, first.data<T>(), out->ByteSize());
        return Status::Ok();
      }
      BroadcastPlan plan;
      for (size_t i = 1; i < n; ++i) {
        const Tensor& in = *ctx.input(i);
        const Shape& lhs = i == 1 ? first.shape() : out->shape();
        if (!plan.Init(out->shape(), {&lhs, &in.shape()})) {
          return ctx.Error("input " + in.Describe() + " does not broadcast to " + out->shape().ToString());
        }
        const T* a = i == 1 ? first.data<T>() : o;
        if (kMean && i == n - 1) {
          const T scale = T(1) / static_cast<T>(n);
          RunBinary(ctx.pool(), plan, a, in.data<T>(), o, [&](T x, T y) { return F{}(x, y) * scale; });
        } else {
          RunBinary(ctx.pool(), plan, a, in.data<T>(), o, F{});
        }
      }
      return Status::Ok();
    });
  }
};

Status InferWhere(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  if (ctx.input(0).dtype != DataType::kBool) {
    return ctx.Error("condition must be bool, got " + ctx.input(0).ToString());
  }
  if (ctx.input(1).dtype != ctx.input(2).dtype) {
    return ctx.Error("X and Y must have the same dtype, got " + ctx.input(1).ToString() + " and " +
                     ctx.input(2).ToString());
  }
  EDGEAI_ASSIGN_OR_RETURN(ctx.output(0), BroadcastInputs(ctx, 0, ctx.input(1).dtype));
  return Status::Ok();
}

class WhereKernel final : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& cond = *ctx.input(0);
    const Tensor& x = *ctx.input(1);
    const Tensor& y = *ctx.input(2);
    if (cond.dtype() != DataType::kBool || x.dtype() != y.dtype()) {
      return ctx.Error("expects a bool condition and X, Y of one dtype");
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    BroadcastPlan plan;
    if (!plan.Init(out->shape(), {&cond.shape(), &x.shape(), &y.shape()})) {
      return ctx.Error("inputs " + cond.Describe() + ", " + x.Describe() + " and " + y.Describe() +
                       " do not broadcast to " + out->shape().ToString());
    }
    // Values are only moved, so the element size is all that matters.
    return VisitBySize(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const bool* c = cond.data<bool>();
      const T* xd = static_cast<const T*>(x.raw_data());
      const T* yd = static_cast<const T*>(y.raw_data());
      T* o = static_cast<T*>(out->raw_data());
      ctx.pool().ParallelFor(plan.total(), kCheapGrain, [&](int64_t begin, int64_t end) {
        plan.ForEachRun(begin, end, [&](int64_t pos, int64_t n, const int64_t* off, const int64_t* st) {
          Select(c + off[0], st[0], xd + off[1], st[1], yd + off[2], st[2], o + pos, n);
        });
      });
      return Status::Ok();
    });
  }

 private:
  template <typename T>
  static void Select(const bool* c, int64_t sc, const T* x, int64_t sx, const T* y, int64_t sy, T* o, int64_t n) {
    if (sc != 0 && sx != 0 && sy != 0) {
      for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
    } else if (sc != 0 && sx == 0 && sy != 0) {  // masked fill with a constant
      const T xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? xv : y[i];
    } else if (sc != 0 && sx != 0 && sy == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : yv;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];
    }
  }
};

// Opsets 1-6 of PRelu predate broadcasting; a 1-D slope of size C there is per channel (axis 1).
Shape PReluSlopeShape(int opset, const Shape& x, const Shape& slope) {
  if (opset < 7 && slope.rank() == 1 && x.rank() >= 2 && slope[0] == x[1] && slope[0] != 1) {
    Shape aligned = slope;
    for (size_t i = 2; i < x.rank(); ++i) aligned.push_back(1);
    return aligned;
  }
  return slope;
}

Status InferPRelu(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& slope = ctx.input(1);
  if (x.dtype != slope.dtype) {
    return ctx.Error("X and slope must have the same dtype, got " + x.ToString() + " and " + slope.ToString());
  }
  ctx.output(0) = x;
  if (!x.rank_known || !slope.rank_known) return Status::Ok();
  // Unidirectional: slope broadcasts to X, whose shape the output keeps.
  Shape aligned = PReluSlopeShape(ctx.opset(), x.dims, slope.dims);
  Result<Shape> merged = BroadcastShapes(x.dims, aligned);
  bool fits = merged.ok() && merged->rank() == x.dims.rank();
  for (size_t i = 0; fits && i < x.dims.rank(); ++i) fits = x.dims[i] < 0 || (*merged)[i] == x.dims[i];
  if (!fits) return ctx.Error("slope " + slope.ToString() + " does not broadcast to X " + x.ToString());
  return Status::Ok();
}

class PReluKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    opset_ = ctx.opset();
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& slope = *ctx.input(1);
    if (x.dtype() != slope.dtype()) return ctx.Error("X and slope differ in dtype");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, x.shape()));
    Shape aligned = PReluSlopeShape(opset_, x.shape(), slope.shape());
    BroadcastPlan plan;
    if (!plan.Init(x.shape(), {&x.shape(), &aligned})) {
      return ctx.Error("slope " + slope.Describe() + " does not broadcast to X " + x.Describe());
    }
    return VisitTypes<TypeSet::kSigned>(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      RunBinary(ctx.pool(), plan, x.data<T>(), slope.data<T>(), out->data<T>(),
                [](T v, T s) { return v < T(0) ? WrapMul(v, s) : v; });
      return Status::Ok();
    });
  }

 private:
  int opset_ = 0;
};

Status AddDef(OpRegistry& registry, const char* op, int since, std::vector<DataType> types, InferFn infer,
              KernelFactory create, int type_input = 0) {
  return registry.Register(MakeOpDef(op, since, kMaxOpset, std::move(types), infer, create, type_input));
}

}  // namespace

Status RegisterElementwiseVariadicOps(OpRegistry& registry) {
  // Before opset 8 these required equal shapes; numpy broadcasting accepts every such model, so one range.
  constexpr TypeSet kNum = TypeSet::kNumeric;
  const std::vector<DataType> num = TypesOf(kNum);
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Max", 1, num, InferVariadic, MakeKernel<VariadicKernel<MaxFn, kNum, false>>));
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Min", 1, num, InferVariadic, MakeKernel<VariadicKernel<MinFn, kNum, false>>));
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Sum", 1, num, InferVariadic, MakeKernel<VariadicKernel<SumFn, kNum, false>>));
  constexpr TypeSet kFloat = TypeSet::kFloat;
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Mean", 1, TypesOf(kFloat), InferVariadic, MakeKernel<VariadicKernel<SumFn, kFloat, true>>));

  std::vector<DataType> any = TypesOf(TypeSet::kNumericBool);
  any.insert(any.end(), {DataType::kFloat16, DataType::kBFloat16});
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "Where", 9, any, InferWhere, MakeKernel<WhereKernel>, /*type_input=*/1));
  return AddDef(registry, "PRelu", 1, TypesOf(TypeSet::kSigned), InferPRelu, MakeKernel<PReluKernel>);
}

}  // namespace edgeai::cpu
