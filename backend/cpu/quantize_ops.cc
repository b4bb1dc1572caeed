// Linear (de)quantization: QuantizeLinear and DequantizeLinear (opsets 10..12 per tensor, 13.. per tensor or
// per axis) and DynamicQuantizeLinear (11..).
//
// x is viewed as [outer, channels, inner] with one (scale, zero point) pair per channel; per-tensor
// quantization is the case channels == 1. Quantization divides (not multiplies by a reciprocal) so results
// match the reference bit for bit, then rounds half to even and saturates (quantize_util.h).
// Not supported: block quantization (block_size, opset 21), float8/int4 types and float16 scales.
#include <algorithm>
#include <array>
#include <string>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/quantize_util.h"
#include "backend/shape_util.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr int64_t kGrain = 16384;

struct AxisSplit {
  int64_t outer = 1, channels = 1, inner = 1;
};

std::string DtypeName(DataType t) { return std::string(DataTypeName(t)); }

// Per tensor when the scale has one element; per axis when it is 1-D with x.shape[axis] elements (opset 13+).
// Errors carry no node name; callers wrap them.
Status ResolveSplit(const Shape& x, const Shape& scale, const Shape* zero_point, int64_t axis, bool per_axis_ok,
                    AxisSplit* out) {
  if (zero_point != nullptr && *zero_point != scale) {
    return InvalidArgument("zero point " + zero_point->ToString() + " and scale " + scale.ToString() +
                           " must have the same shape");
  }
  if (scale.rank() > 1) return InvalidArgument("scale " + scale.ToString() + " must be a scalar or 1-D");
  *out = AxisSplit{};
  out->outer = x.NumElements();
  if (scale.NumElements() == 1) return Status::Ok();
  if (!per_axis_ok) {
    return InvalidArgument("scale " + scale.ToString() + " must be a scalar before opset 13 (per-axis needs 13)");
  }
  const int64_t a = x.NormalizeAxis(axis);
  if (a < 0) {
    return InvalidArgument("axis " + std::to_string(axis) + " is out of range for x " + x.ToString());
  }
  if (x[a] != scale[0]) {
    return InvalidArgument("per-axis scale " + scale.ToString() + " needs one value per slice of x " +
                           x.ToString() + " along axis " + std::to_string(a));
  }
  out->outer = x.SizeFromTo(0, a);
  out->channels = x[a];
  out->inner = x.SizeFromTo(a + 1, x.rank());
  return Status::Ok();
}

// The load-time part of the checks above, on what is known.
Status CheckScaleAndZeroPoint(const InferenceContext& ctx, int64_t axis) {
  const ValueType& x = ctx.input(0);
  const ValueType& scale = ctx.input(1);
  if (scale.dtype != DataType::kFloat32) {
    return Unimplemented(ctx.Error("scale dtype " + DtypeName(scale.dtype) + " is not supported (float32 only)")
                             .message());
  }
  if (ctx.has_input(2)) {
    const ValueType& zp = ctx.input(2);
    bool differ = zp.rank_known && scale.rank_known && zp.dims.rank() != scale.dims.rank();
    for (size_t i = 0; !differ && zp.rank_known && scale.rank_known && i < zp.dims.rank(); ++i) {
      differ = zp.dims[i] >= 0 && scale.dims[i] >= 0 && zp.dims[i] != scale.dims[i];
    }
    if (differ) {
      return ctx.Error("zero point " + zp.dims.ToString() + " and scale " + scale.dims.ToString() +
                       " must have the same shape");
    }
  }
  if (!scale.rank_known) return Status::Ok();
  if (scale.dims.rank() > 1) return ctx.Error("scale " + scale.dims.ToString() + " must be a scalar or 1-D");
  if (scale.dims.rank() == 0 || scale.dims[0] == 1 || scale.dims[0] < 0) return Status::Ok();
  if (ctx.opset() < 13) {
    return ctx.Error("scale " + scale.dims.ToString() + " must be a scalar before opset 13 (per-axis needs 13)");
  }
  if (!x.rank_known) return Status::Ok();
  EDGEAI_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(ctx, axis, static_cast<int64_t>(x.dims.rank())));
  if (x.dims[a] >= 0 && x.dims[a] != scale.dims[0]) {
    return ctx.Error("per-axis scale " + scale.dims.ToString() + " needs one value per slice of x " +
                     x.dims.ToString() + " along axis " + std::to_string(a));
  }
  return Status::Ok();
}

Status CheckNoBlocks(const InferenceContext& ctx) {
  if (ctx.attrs().GetInt("block_size", 0) != 0) {
    return Unimplemented(ctx.Error("blocked quantization (block_size != 0) is not supported").message());
  }
  return Status::Ok();
}

// Runs fn(row, begin, end) over x viewed as [outer * channels, inner]: parallel over rows when they are many,
// over the elements of the single row otherwise (per-tensor quantization of a large tensor).
template <typename F>
void ForEachSpan(const AxisSplit& s, const ThreadPool& pool, F&& fn) {
  const int64_t rows = s.outer * s.channels;
  if (s.channels == 1 && s.outer > 0) {
    pool.ParallelFor(s.outer * s.inner, kGrain, [&](int64_t b, int64_t e) { fn(0, b, e); });
    return;
  }
  pool.ParallelFor(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, s.inner)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) fn(r, r * s.inner, (r + 1) * s.inner);
  });
}

// ---------------------------------------------------------------------------------------------- QuantizeLinear

Result<DataType> QuantizeOutputType(const InferenceContext& ctx) {
  const int64_t attr = ctx.attrs().GetInt("output_dtype", 0);
  DataType from_attr = static_cast<DataType>(attr);
  if (attr != 0 && !IsQuantizedType(from_attr)) {
    return Unimplemented(ctx.Error("output_dtype " + std::to_string(attr) + " is not supported").message());
  }
  if (!ctx.has_input(2)) return attr != 0 ? from_attr : DataType::kUint8;
  const DataType zp = ctx.input(2).dtype;
  if (!IsQuantizedType(zp)) {
    return Unimplemented(ctx.Error("zero point dtype " + DtypeName(zp) + " is not supported").message());
  }
  if (attr != 0 && from_attr != zp) {
    return ctx.Error("output_dtype " + DtypeName(from_attr) + " differs from the zero point's " + DtypeName(zp));
  }
  return zp;
}

Status InferQuantize(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  EDGEAI_RETURN_IF_ERROR(CheckNoBlocks(ctx));
  EDGEAI_ASSIGN_OR_RETURN(DataType out_type, QuantizeOutputType(ctx));
  EDGEAI_RETURN_IF_ERROR(CheckScaleAndZeroPoint(ctx, ctx.attrs().GetInt("axis", 1)));
  ctx.output(0) = ctx.input(0);
  ctx.output(0).dtype = out_type;
  return Status::Ok();
}

template <typename X, typename Q>
void QuantizeSpans(const X* x, const float* scale, const Q* zp, const AxisSplit& split, Q* y,
                   const ThreadPool& pool) {
  // int32 inputs divide in double: float would round large values before the scale applies.
  using C = std::conditional_t<std::is_same_v<X, float>, float, double>;
  ForEachSpan(split, pool, [&](int64_t row, int64_t begin, int64_t end) {
    const int64_t c = row % split.channels;
    const C sc = static_cast<C>(scale[c]);
    const int32_t z = zp != nullptr ? static_cast<int32_t>(zp[c]) : 0;
    for (int64_t i = begin; i < end; ++i) y[i] = QuantizeValue<Q, C>(static_cast<C>(x[i]) / sc, z);
  });
}

// What QuantizeLinear and DequantizeLinear share: the axis attribute and the split of x around scale's axis.
class LinearQuantKernelBase : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 1);
    per_axis_ok_ = ctx.opset() >= 13;
    return CheckNoBlocks(ctx);
  }

 protected:
  // Splits x (input 0) by the shape of scale (input 1) and of the optional zero point (input 2).
  Status SplitByScale(KernelContext& ctx, AxisSplit* split) const {
    const Tensor* zp = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    Status s = ResolveSplit(ctx.input(0)->shape(), ctx.input(1)->shape(), zp ? &zp->shape() : nullptr, axis_,
                            per_axis_ok_, split);
    if (!s.ok()) return ctx.Error(s.message());
    if (ctx.input(1)->dtype() != DataType::kFloat32) return ctx.Error("scale must be float32");
    return Status::Ok();
  }

 private:
  int64_t axis_ = 1;
  bool per_axis_ok_ = true;
};

class QuantizeKernel : public LinearQuantKernelBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    AxisSplit split;
    EDGEAI_RETURN_IF_ERROR(SplitByScale(ctx, &split));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (zp != nullptr && zp->dtype() != y->dtype()) return ctx.Error("zero point dtype differs from the output's");
    return VisitQuantized(y->dtype(), [&](auto qtag) {
      using Q = typename decltype(qtag)::type;
      const Q* z = zp ? zp->data<Q>() : nullptr;
      if (x.dtype() == DataType::kFloat32) {
        QuantizeSpans(x.data<float>(), scale.data<float>(), z, split, y->data<Q>(), ctx.pool());
      } else if (x.dtype() == DataType::kInt32) {
        QuantizeSpans(x.data<int32_t>(), scale.data<float>(), z, split, y->data<Q>(), ctx.pool());
      } else {
        return UnsupportedDtype(x.dtype());
      }
      return Status::Ok();
    });
  }
};

// -------------------------------------------------------------------------------------------- DequantizeLinear

Status InferDequantize(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  EDGEAI_RETURN_IF_ERROR(CheckNoBlocks(ctx));
  if (ctx.has_input(2) && ctx.input(2).dtype != ctx.input(0).dtype) {
    return ctx.Error("zero point dtype " + DtypeName(ctx.input(2).dtype) + " differs from x's " +
                     DtypeName(ctx.input(0).dtype));
  }
  EDGEAI_RETURN_IF_ERROR(CheckScaleAndZeroPoint(ctx, ctx.attrs().GetInt("axis", 1)));
  ctx.output(0) = ctx.input(0);
  ctx.output(0).dtype = DataType::kFloat32;
  return Status::Ok();
}

template <typename X>
void DequantizeSpans(const X* x, const float* scale, const X* zp, const AxisSplit& split, float* y,
                     const ThreadPool& pool) {
  ForEachSpan(split, pool, [&](int64_t row, int64_t begin, int64_t end) {
    const int64_t c = row % split.channels;
    const float sc = scale[c];
    const float z = zp != nullptr ? static_cast<float>(zp[c]) : 0.0f;
    for (int64_t i = begin; i < end; ++i) y[i] = (static_cast<float>(x[i]) - z) * sc;
  });
}

class DequantizeKernel : public LinearQuantKernelBase {
 public:
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    AxisSplit split;
    EDGEAI_RETURN_IF_ERROR(SplitByScale(ctx, &split));
    if (zp != nullptr && zp->dtype() != x.dtype()) return ctx.Error("zero point dtype differs from x's");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    auto run = [&](auto tag) {
      using X = typename decltype(tag)::type;
      DequantizeSpans(x.data<X>(), scale.data<float>(), zp ? zp->data<X>() : nullptr, split, y->data<float>(),
                      ctx.pool());
      return Status::Ok();
    };
    if (x.dtype() == DataType::kInt32) return run(TypeTag<int32_t>{});
    return VisitQuantized(x.dtype(), run);
  }
};

// ---------------------------------------------------------------------------------------- DynamicQuantizeLinear

Status InferDynamicQuantize(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  ctx.output(0).dtype = DataType::kUint8;
  if (ctx.num_outputs() > 1) ctx.output(1) = ValueType::Of(DataType::kFloat32, Shape{});
  if (ctx.num_outputs() > 2) ctx.output(2) = ValueType::Of(DataType::kUint8, Shape{});
  return Status::Ok();
}

// The range of x widened to include 0, reduced in at most kChunks parallel pieces.
void ZeroInclusiveRange(const float* x, int64_t n, const ThreadPool& pool, float* lo, float* hi) {
  constexpr int64_t kChunks = 64;
  std::array<float, kChunks> mins{}, maxs{};  // zero-filled: 0 is in the range anyway
  const int64_t grain = std::max(kGrain, (n + kChunks - 1) / kChunks);
  // Chunks are at least `grain` long, so begin / grain tells them apart.
  pool.ParallelFor(n, grain, [&](int64_t b, int64_t e) {
    float mn = 0.0f, mx = 0.0f;
    for (int64_t i = b; i < e; ++i) {
      mn = x[i] < mn ? x[i] : mn;
      mx = x[i] > mx ? x[i] : mx;
    }
    mins[b / grain] = mn;
    maxs[b / grain] = mx;
  });
  *lo = *std::min_element(mins.begin(), mins.end());
  *hi = *std::max_element(maxs.begin(), maxs.end());
}

class DynamicQuantizeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    if (ctx.num_outputs() != 3) return ctx.Error("expects 3 outputs (y, y_scale, y_zero_point)");
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat32) return UnsupportedDtype(x.dtype());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y_scale, ctx.Output(1, Shape{}));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y_zp, ctx.Output(2, Shape{}));
    const int64_t n = x.NumElements();
    const float* src = x.data<float>();
    float lo = 0.0f, hi = 0.0f;
    ZeroInclusiveRange(src, n, ctx.pool(), &lo, &hi);
    // uint8: qmin 0, qmax 255, in the spec's order of operations (the expanded function gives the same).
    const float scale = (hi - lo) / 255.0f;
    const uint8_t zp = scale > 0.0f ? QuantizeValue<uint8_t, float>(0.0f - lo / scale, 0) : uint8_t{0};
    y_scale->data<float>()[0] = scale;
    y_zp->data<uint8_t>()[0] = zp;
    uint8_t* dst = y->data<uint8_t>();
    if (!(scale > 0.0f)) {  // x is all zeros (or empty, or not finite): no scale to divide by
      std::fill(dst, dst + n, zp);
      return Status::Ok();
    }
    ctx.pool().ParallelFor(n, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dst[i] = QuantizeValue<uint8_t, float>(src[i] / scale, zp);
    });
    return Status::Ok();
  }
};

}  // namespace

Status RegisterQuantizeOps(OpRegistry& registry) {
  const std::vector<DataType> quantize_in = {DataType::kFloat32, DataType::kInt32};
  const std::vector<DataType> dequantize_in = {DataType::kUint8, DataType::kInt8, DataType::kInt32,
                                               DataType::kUint16, DataType::kInt16};
  // Opsets 10..12 take a per-tensor scale only; 13 adds `axis` (per-axis); 19 and 21 add types and blocks,
  // of which the 8/16-bit integer forms are served here.
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      OpDef{"QuantizeLinear", "", 10, 12, quantize_in, 0, InferQuantize, MakeKernel<QuantizeKernel>}));
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      OpDef{"QuantizeLinear", "", 13, kMaxOpset, quantize_in, 0, InferQuantize, MakeKernel<QuantizeKernel>}));
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      OpDef{"DequantizeLinear", "", 10, 12, dequantize_in, 0, InferDequantize, MakeKernel<DequantizeKernel>}));
  EDGEAI_RETURN_IF_ERROR(registry.Register(OpDef{"DequantizeLinear", "", 13, kMaxOpset, dequantize_in, 0,
                                                 InferDequantize, MakeKernel<DequantizeKernel>}));
  return registry.Register(OpDef{"DynamicQuantizeLinear", "", 11, kMaxOpset, {DataType::kFloat32}, 0,
                                 InferDynamicQuantize, MakeKernel<DynamicQuantizeKernel>});
}

}  // namespace edgeai::cpu
