// Cast and CastLike (every pair of numeric dtypes and bool), Identity and Dropout (inference: a copy).
// Float-to-integer casts truncate toward zero like numpy's astype; out-of-range values (undefined in ONNX)
// never trap. Half-precision values convert through float32.
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>
#include <string>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/elementwise_common.h"

namespace edgeai::cpu {
namespace {

struct BFloat16 {
  uint16_t bits = 0;
};

float BFloat16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof f);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

// memcpy with null pointers is undefined even for zero bytes, and empty tensors may have no storage.
void CopyBytes(const Tensor& from, Tensor* to) {
  if (from.ByteSize() > 0) std::memcpy(to->raw_data(), from.raw_data(), from.ByteSize());
}

// Every dtype Cast handles, half types included.
template <typename F>
Status VisitCastable(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kBool: return f(TypeTag<bool>{});
    case DataType::kFloat16: return f(TypeTag<Float16>{});
    case DataType::kBFloat16: return f(TypeTag<BFloat16>{});
    default: return VisitNumeric(dtype, f);
  }
}

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

template <typename To, typename From>
To Convert(From v) {
  if constexpr (std::is_same_v<From, Float16>) {
    return Convert<To>(HalfToFloat(v.bits));
  } else if constexpr (std::is_same_v<From, BFloat16>) {
    return Convert<To>(BFloat16ToFloat(v.bits));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);  // NaN is true, as in numpy
  } else if constexpr (std::is_same_v<To, Float16>) {
    return Float16{FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16{FloatToBFloat16(static_cast<float>(v))};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    return FloatToInt<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// Values of the opset-1 string form of Cast's `to`.
DataType DataTypeFromName(const std::string& name) {
  static const struct {
    const char* name;
    DataType type;
  } kNames[] = {{"FLOAT", DataType::kFloat32},   {"FLOAT16", DataType::kFloat16}, {"DOUBLE", DataType::kFloat64},
                {"BFLOAT16", DataType::kBFloat16}, {"INT8", DataType::kInt8},       {"INT16", DataType::kInt16},
                {"INT32", DataType::kInt32},     {"INT64", DataType::kInt64},     {"UINT8", DataType::kUint8},
                {"UINT16", DataType::kUint16},   {"UINT32", DataType::kUint32},   {"UINT64", DataType::kUint64},
                {"BOOL", DataType::kBool},       {"STRING", DataType::kString}};
  for (const auto& entry : kNames) {
    if (name == entry.name) return entry.type;
  }
  return DataType::kUndefined;
}

bool Castable(DataType t) {
  return t != DataType::kUndefined && t != DataType::kString && IsKnownDataType(static_cast<int32_t>(t));
}

Result<DataType> CastTarget(const InferenceContext& ctx) {
  if (ctx.op_type() == "CastLike") {  // the target is the dtype of input 1
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    const DataType target = ctx.input(1).dtype;
    if (!Castable(target)) return ctx.Error("cannot cast like " + ctx.input(1).ToString());
    return target;
  }
  const Attribute* to = ctx.attrs().Find("to");
  if (to == nullptr) return ctx.Error("missing attribute 'to'");
  DataType target = DataType::kUndefined;
  if (to->kind == Attribute::Kind::kString) {
    target = DataTypeFromName(to->s);
  } else if (to->kind == Attribute::Kind::kInt && IsKnownDataType(static_cast<int32_t>(to->i))) {
    target = static_cast<DataType>(to->i);
  }
  std::string shown = to->kind == Attribute::Kind::kString ? to->s : std::to_string(to->i);
  if (target == DataType::kUndefined) return ctx.Error("attribute 'to' names no known dtype: " + shown);
  if (!Castable(target)) {
    return Unimplemented(std::string(ctx.op_type()) + " node '" + std::string(ctx.node_name()) +
                         "': casting to " + std::string(DataTypeName(target)) + " is not supported");
  }
  return target;
}

Status InferCast(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_ASSIGN_OR_RETURN(DataType target, CastTarget(ctx));
  ctx.output(0) = ctx.input(0);
  ctx.output(0).dtype = target;
  return Status::Ok();
}

class CastKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_ASSIGN_OR_RETURN(to_, CastTarget(ctx));
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    if (y->dtype() != to_) return ctx.Error("output dtype differs from attribute 'to'");
    if (x.dtype() == to_) {
      CopyBytes(x, y);
      return Status::Ok();
    }
    return VisitCastable(x.dtype(), [&](auto from_tag) {
      using From = typename decltype(from_tag)::type;
      return VisitCastable(to_, [&](auto to_tag) {
        using To = typename decltype(to_tag)::type;
        const From* src = static_cast<const From*>(x.raw_data());
        To* dst = static_cast<To*>(y->raw_data());
        const int64_t grain = kIsHalf<From> || kIsHalf<To> ? kCostlyGrain : kCheapGrain;
        ctx.pool().ParallelFor(x.NumElements(), grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = Convert<To>(src[i]);
        });
        return Status::Ok();
      });
    });
  }

 private:
  DataType to_ = DataType::kUndefined;
};

std::vector<DataType> CastableTypes() {
  std::vector<DataType> types = TypesOf(TypeSet::kNumericBool);
  types.insert(types.end(), {DataType::kFloat16, DataType::kBFloat16});
  return types;
}

Status InferIdentity(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

class IdentityKernel final : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    if (y->raw_data() != x.raw_data()) CopyBytes(x, y);  // else the plan made y a view of x (OpDef::in_place)
    return Status::Ok();
  }
};

// Dropout at inference is the identity. Opsets 1-6 had is_test and opsets 7-11 a ratio attribute; both only
// matter in training. From 12, training_mode is an input: true with a non-zero ratio would need random masks,
// which an inference engine does not provide. The optional mask output is all true (all 1 before opset 10,
// where it had the data's dtype).
Status CheckTrainingMode(const Tensor* training, const Tensor* ratio) {
  if (training == nullptr || !training->defined()) return Status::Ok();
  if (training->dtype() != DataType::kBool || training->NumElements() != 1) {
    return InvalidArgument("training_mode must be a bool scalar, got " + training->Describe());
  }
  if (!*training->data<bool>()) return Status::Ok();
  float r = 0.5f;  // the default ratio
  if (ratio != nullptr && ratio->defined() && ratio->NumElements() == 1) {
    if (ratio->dtype() == DataType::kFloat32) r = *ratio->data<float>();
    if (ratio->dtype() == DataType::kFloat64) r = static_cast<float>(*ratio->data<double>());
    if (ratio->dtype() == DataType::kFloat16) r = HalfToFloat(ratio->data<Float16>()->bits);
  }
  if (r == 0.0f) return Status::Ok();  // no element is dropped: still the identity
  return Unimplemented("training_mode=true (random dropout) is not supported");
}

Status InferDropout(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  ctx.output(0) = x;
  if (ctx.num_outputs() > 1) {
    ctx.output(1) = x;
    ctx.output(1).dtype = ctx.opset() >= 10 ? DataType::kBool : x.dtype;
  }
  if (ctx.opset() < 12) {
    const float ratio = ctx.attrs().GetFloat("ratio", 0.5f);
    if (!(ratio >= 0.0f && ratio <= 1.0f)) return ctx.Error("attribute ratio must be in [0, 1]");
    return Status::Ok();
  }
  if (ctx.has_input(2) && ctx.input(2).dtype != DataType::kBool) {
    return ctx.Error("training_mode must be bool, got " + ctx.input(2).ToString());
  }
  // training_mode's value is checked by the kernel (at load time when constant), not here: the output shape
  // does not depend on it, and reading it would mark this node's shapes as data-dependent.
  return Status::Ok();
}

class DropoutKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    opset_ = ctx.opset();
    if (opset_ < 12) return Status::Ok();
    Status status = CheckTrainingMode(ctx.input_value(2), ctx.input_value(1));
    if (status.ok()) return status;
    return Status(status.code(), std::string(ctx.op_type()) + " node '" + std::string(ctx.node_name()) + "': " +
                                     status.message());
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (opset_ >= 12) {
      Status status = CheckTrainingMode(ctx.input(2), ctx.input(1));
      if (!status.ok()) return Status(status.code(), std::string(ctx.node_label()) + ": " + status.message());
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    if (y->raw_data() != x.raw_data()) CopyBytes(x, y);  // else the plan made y a view of x
    if (ctx.num_outputs() < 2) return Status::Ok();
    EDGEAI_ASSIGN_OR_RETURN(Tensor * mask, ctx.Output(1, x.shape()));
    if (mask->dtype() == DataType::kBool) {
      std::fill(mask->data<bool>(), mask->data<bool>() + mask->NumElements(), true);
      return Status::Ok();
    }
    return VisitCastable(mask->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T one = Convert<T>(1.0f);
      std::fill(mask->data<T>(), mask->data<T>() + mask->NumElements(), one);
      return Status::Ok();
    });
  }

 private:
  int opset_ = 0;
};

// `view`: output 0 holds input 0's bytes unchanged, so the executor may let it share that buffer.
Status AddDef(OpRegistry& registry, const char* op, int since, int until, std::vector<DataType> types,
              InferFn infer, KernelFactory create, bool view = false) {
  OpDef def = MakeOpDef(op, since, until, std::move(types), infer, create);
  if (view) def.in_place.push_back(InPlace{0, 0, true});
  return registry.Register(std::move(def));
}

}  // namespace

Status RegisterCastOps(OpRegistry& registry) {
  const std::vector<DataType> all = CastableTypes();
  // Cast's `to` is a string at opset 1 and an int from 6; CastTarget reads both forms.
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "Cast", 1, 5, all, InferCast, MakeKernel<CastKernel>));
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "Cast", 6, kMaxOpset, all, InferCast, MakeKernel<CastKernel>));
  EDGEAI_RETURN_IF_ERROR(AddDef(registry, "CastLike", 15, kMaxOpset, all, InferCast, MakeKernel<CastKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddDef(registry, "Identity", 1, kMaxOpset, all, InferIdentity, MakeKernel<IdentityKernel>, true));
  const std::vector<DataType> floats = {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
                                        DataType::kBFloat16};
  for (auto [since, until] : {std::pair{1, 9}, std::pair{10, 11}, std::pair{12, kMaxOpset}}) {
    EDGEAI_RETURN_IF_ERROR(
        AddDef(registry, "Dropout", since, until, floats, InferDropout, MakeKernel<DropoutKernel>, true));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
