// Ops that make tensors from attributes or small inputs: Constant, ConstantOfShape, Range.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

// --------------------------------------------------------------------------------------------------- Constant

// The one value attribute of a Constant node (exactly one must be set), checked to be a supported form.
Status FindConstantAttr(const InferenceContext& ctx, const char** found) {
  const AttributeMap& attrs = ctx.attrs();
  const char* const names[] = {"value",      "value_float",  "value_floats",  "value_int",
                               "value_ints", "value_string", "value_strings", "sparse_value"};
  const char* given = nullptr;
  for (const char* name : names) {
    if (!attrs.Has(name)) continue;
    if (given) return ctx.Error(std::string("has both '") + given + "' and '" + name + "'; give exactly one");
    given = name;
  }
  if (given == nullptr) return ctx.Error("needs one of the attributes 'value', 'value_float(s)', 'value_int(s)'");
  std::string_view name = given;
  if (name == "sparse_value") return Unimplemented(ctx.Error("sparse constants are not supported").message());
  if (name == "value_string" || name == "value_strings") {
    return Unimplemented(ctx.Error("string constants are not supported").message());
  }
  if (name == "value") {
    const Tensor* t = attrs.GetTensor(given);
    if (t == nullptr) return ctx.Error("attribute 'value' is not a tensor");
    if (DataTypeSize(t->dtype()) == 0) {
      return Unimplemented(
          ctx.Error("constants of dtype " + std::string(DataTypeName(t->dtype())) + " are not supported").message());
    }
  }
  *found = given;
  return Status::Ok();
}

// Inference also runs on the inference path, so the type is read off the attribute without building a tensor.
Status InferConstant(InferenceContext& ctx) {
  const char* name = nullptr;
  EDGEAI_RETURN_IF_ERROR(FindConstantAttr(ctx, &name));
  const Attribute& a = *ctx.attrs().Find(name);
  std::string_view form = name;
  if (form == "value") {
    ctx.output(0) = ValueType::Of(a.t.dtype(), a.t.shape());
  } else if (form == "value_float" || form == "value_int") {
    ctx.output(0) = ValueType::Of(form == "value_int" ? DataType::kInt64 : DataType::kFloat32, Shape{});
  } else if (form == "value_floats") {
    ctx.output(0) = ValueType::Of(DataType::kFloat32, Shape{static_cast<int64_t>(a.floats.size())});
  } else {
    ctx.output(0) = ValueType::Of(DataType::kInt64, Shape{static_cast<int64_t>(a.ints.size())});
  }
  return Status::Ok();
}

Status ConstantValue(const InferenceContext& ctx, Tensor* value) {
  const char* name = nullptr;
  EDGEAI_RETURN_IF_ERROR(FindConstantAttr(ctx, &name));
  const Attribute& a = *ctx.attrs().Find(name);
  std::string_view form = name;
  if (form == "value") {
    *value = a.t;
  } else if (form == "value_float") {
    *value = Tensor::Scalar<float>(ctx.attrs().GetFloat(name, 0.0f));
  } else if (form == "value_floats") {
    *value = Tensor::FromVector<float>(Shape{static_cast<int64_t>(a.floats.size())}, a.floats);
  } else if (form == "value_int") {
    *value = Tensor::Scalar<int64_t>(a.i);
  } else {
    *value = Tensor::FromVector<int64_t>(Shape{static_cast<int64_t>(a.ints.size())}, a.ints);
  }
  return Status::Ok();
}

class ConstantKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ConstantValue(ctx, &value_); }
  Status Compute(KernelContext& ctx) const override {
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, value_.shape()));
    CopyBytes(ctx.pool(), out->raw_data(), value_.raw_data(), value_.ByteSize());
    return Status::Ok();
  }

 private:
  Tensor value_;
};

// -------------------------------------------------------------------------------------------- ConstantOfShape

Status FillValue(const InferenceContext& ctx, DataType* dtype, uint64_t* bits) {
  *dtype = DataType::kFloat32;
  *bits = 0;
  if (!ctx.attrs().Has("value")) return Status::Ok();
  const Tensor* value = ctx.attrs().GetTensor("value");
  if (value == nullptr || value->NumElements() != 1 || DataTypeSize(value->dtype()) == 0) {
    return ctx.Error("attribute 'value' must be a one-element tensor of a numeric or bool dtype");
  }
  *dtype = value->dtype();
  std::memcpy(bits, value->raw_data(), DataTypeSize(*dtype));
  return Status::Ok();
}

Status InferConstantOfShape(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  DataType dtype;
  uint64_t bits;
  EDGEAI_RETURN_IF_ERROR(FillValue(ctx, &dtype, &bits));
  if (ctx.input_value(0) == nullptr) {
    ctx.output(0) = RankFromLength(ctx, 0, dtype);
    return Status::Ok();
  }
  Shape dims;
  EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, 0, "input", &dims));
  for (int64_t d : dims) {
    if (d < 0) return ctx.Error("shape " + IntsToString(dims) + " has a negative dim");
  }
  ctx.output(0) = ValueType::Of(dtype, dims);
  return Status::Ok();
}

template <typename T>
void Fill(const ThreadPool& pool, T* out, int64_t n, uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  pool.ParallelFor(n, GrainFor(sizeof(T)),
                   [&](int64_t begin, int64_t end) { std::fill(out + begin, out + end, value); });
}

class ConstantOfShapeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return FillValue(ctx, &dtype_, &bits_); }
  Status Compute(KernelContext& ctx) const override {
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    int64_t n = out->NumElements();
    return VisitBySize(dtype_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      Fill<T>(ctx.pool(), out->data<T>(), n, bits_);
      return Status::Ok();
    });
  }

 private:
  DataType dtype_ = DataType::kFloat32;
  uint64_t bits_ = 0;
};

// ------------------------------------------------------------------------------------------------------ Range

template <typename T>
Result<int64_t> RangeCount(T start, T limit, T delta) {
  if (delta == T(0)) return InvalidArgument("delta must not be 0");
  double n;
  if constexpr (std::is_floating_point_v<T>) {
    n = std::ceil((static_cast<double>(limit) - start) / delta);
  } else {
    int64_t diff = static_cast<int64_t>(limit) - static_cast<int64_t>(start);
    int64_t d = delta;
    n = static_cast<double>(diff / d + ((diff % d != 0) && ((diff > 0) == (d > 0)) ? 1 : 0));
  }
  if (!(n > 0)) return int64_t{0};
  if (n > 9.0e18) return InvalidArgument("range has too many elements");
  return static_cast<int64_t>(n);
}

template <typename F>
Status VisitRangeType(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kFloat32:
      return f(TypeTag<float>{});
    case DataType::kFloat64:
      return f(TypeTag<double>{});
    case DataType::kInt16:
      return f(TypeTag<int16_t>{});
    case DataType::kInt32:
      return f(TypeTag<int32_t>{});
    case DataType::kInt64:
      return f(TypeTag<int64_t>{});
    default:
      return UnsupportedDtype(dtype);
  }
}

Status InferRange(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    const ValueType& in = ctx.input(i);
    if (in.dtype != ctx.input(0).dtype) return ctx.Error("start, limit and delta must have the same dtype");
    if (in.rank_known && in.dims.rank() > 0 && !(in.dims.rank() == 1 && in.dims[0] == 1) &&
        !(in.dims.rank() == 1 && in.dims[0] < 0)) {
      return ctx.Error("input #" + std::to_string(i) + " " + in.ToString() + " must be a scalar");
    }
  }
  DataType dtype = ctx.input(0).dtype;
  ctx.output(0) = ValueType::Of(dtype, Shape{-1});
  if (!ctx.input_value(0) || !ctx.input_value(1) || !ctx.input_value(2)) return Status::Ok();
  return VisitRangeType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Result<int64_t> n =
        RangeCount<T>(*ctx.input_value(0)->data<T>(), *ctx.input_value(1)->data<T>(), *ctx.input_value(2)->data<T>());
    if (!n.ok()) return ctx.Error(n.status().message());
    ctx.output(0).dims[0] = *n;
    return Status::Ok();
  });
}

class RangeKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    return VisitRangeType(ctx.input(0)->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T start = *ctx.input(0)->data<T>();
      T delta = *ctx.input(2)->data<T>();
      Result<int64_t> n = RangeCount<T>(start, *ctx.input(1)->data<T>(), delta);
      if (!n.ok()) return ctx.Error(n.status().message());
      EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, Shape{*n}));
      T* y = out->data<T>();
      for (int64_t i = 0; i < *n; ++i) y[i] = static_cast<T>(start + static_cast<T>(i) * delta);
      return Status::Ok();
    });
  }
};

}  // namespace

Status RegisterConstantOps(OpRegistry& registry) {
  const std::vector<DataType> range_types = {DataType::kFloat32, DataType::kFloat64, DataType::kInt16, DataType::kInt32,
                                             DataType::kInt64};
  const std::vector<DataType> shape_types = {DataType::kInt64, DataType::kInt32};
  const int constant_versions[][2] = {{1, 8}, {9, 10}, {11, 11}, {12, 12}, {13, kMaxOpset}};
  for (const auto& v : constant_versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Constant", v[0], v[1], {}, InferConstant, MakeKernel<ConstantKernel>));
  }
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "ConstantOfShape", 9, kMaxOpset, shape_types, InferConstantOfShape,
                               MakeKernel<ConstantOfShapeKernel>));
  return AddOp(registry, "Range", 11, kMaxOpset, range_types, InferRange, MakeKernel<RangeKernel>);
}

}  // namespace edgeai::cpu
