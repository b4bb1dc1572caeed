// The less common window ops: LpPool (p-norm over each window, any number of spatial axes) and MaxUnpool (the
// scatter that undoes MaxPool with its indices). Window placement comes from conv_geometry.h, as for MaxPool.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

std::vector<DataType> FloatTypes() { return {DataType::kFloat32, DataType::kFloat64}; }

// Parses the window attributes and checks that kernel_shape is present and matches the spatial rank of `x`
// (when known).
Status ParseWindow(const InferenceContext& ctx, WindowAttrs* w) {
  Status s = ParseWindowAttrs(ctx.attrs(), w);
  if (!s.ok()) return ctx.Error(s.message());
  if (w->kernel_shape.empty()) return ctx.Error("attribute kernel_shape is required");
  if (ctx.has_input(0) && ctx.input(0).rank_known) {
    const ValueType& x = ctx.input(0);
    if (x.dims.rank() < 3 || x.dims.rank() - 2 != w->kernel_shape.size()) {
      return ctx.Error("input " + x.ToString() + " must be [N, C, ...] with " + std::to_string(w->kernel_shape.size()) +
                       " spatial axes (the length of kernel_shape)");
    }
  }
  return Status::Ok();
}

// ----------------------------------------------------------------------------------------------------- LpPool

// p is a float attribute in opset 1 and an int from opset 2; both must be positive.
Status ReadP(const InferenceContext& ctx, double* p) {
  const Attribute* attr = ctx.attrs().Find("p");
  *p = 2.0;
  if (attr != nullptr) *p = attr->kind == Attribute::Kind::kFloat ? attr->f : static_cast<double>(attr->i);
  if (!(*p > 0.0)) return ctx.Error("p must be positive, got " + std::to_string(*p));
  return Status::Ok();
}

Status InferLpPool(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  WindowAttrs w;
  EDGEAI_RETURN_IF_ERROR(ParseWindow(ctx, &w));
  double p;
  EDGEAI_RETURN_IF_ERROR(ReadP(ctx, &p));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  SpatialGeometry geo;
  Status s = ComputePoolGeometry(x.dims.data() + 2, w.kernel_shape.data(), w.kernel_shape.size(), w, &geo);
  if (!s.ok()) return ctx.Error(s.message());
  Shape dims = x.dims;
  for (size_t i = 0; i < w.kernel_shape.size(); ++i) dims[2 + i] = geo.output[i];
  ctx.output(0) = ValueType::Of(x.dtype, dims);
  return Status::Ok();
}

// Advances a row-major multi-index over `limits`; false after the last position.
bool NextIndex(Shape& index, const int64_t* limits, size_t n) {
  for (size_t a = n; a-- > 0;) {
    if (++index[a] < limits[a]) return true;
    index[a] = 0;
  }
  return false;
}

class LpPoolKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseWindow(ctx, &window_));
    return ReadP(ctx, &p_);
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& xs = x.shape();
    const size_t n = window_.kernel_shape.size();
    SpatialGeometry geo;
    Status s = ComputePoolGeometry(xs.data() + 2, window_.kernel_shape.data(), n, window_, &geo);
    if (!s.ok()) return ctx.Error(s.message());
    Shape ys = xs;
    for (size_t i = 0; i < n; ++i) ys[2 + i] = geo.output[i];
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, ys));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const int64_t planes = xs[0] * xs[1];
      const int64_t in_size = xs.SizeFromTo(2, xs.rank());
      const int64_t out_size = ys.SizeFromTo(2, ys.rank());
      int64_t taps = 1;
      for (int64_t k : window_.kernel_shape) taps *= k;
      if (out_size == 0) return Status::Ok();
      ctx.pool().ParallelFor(planes, GrainFor(out_size * taps * 4), [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          PoolPlane(x.data<T>() + plane * in_size, out->data<T>() + plane * out_size, xs.data() + 2, geo);
        }
      });
      return Status::Ok();
    });
  }

 private:
  template <typename T>
  void PoolPlane(const T* x, T* y, const int64_t* in, const SpatialGeometry& geo) const {
    const size_t n = window_.kernel_shape.size();
    const int64_t* k = window_.kernel_shape.data();
    Shape in_strides;
    in_strides.resize(n, 1);
    for (size_t a = n - 1; a-- > 0;) in_strides[a] = in_strides[a + 1] * in[a + 1];
    Shape out_index, tap;
    out_index.resize(n, 0);
    tap.resize(n, 0);
    const T p = static_cast<T>(p_);
    do {
      T sum = T(0);
      do {
        int64_t offset = 0;
        bool inside = true;
        for (size_t a = 0; a < n && inside; ++a) {
          const int64_t stride = window_.strides.empty() ? 1 : window_.strides[a];
          const int64_t dilation = window_.dilations.empty() ? 1 : window_.dilations[a];
          const int64_t pos = out_index[a] * stride - geo.pad_begin[a] + tap[a] * dilation;
          inside = pos >= 0 && pos < in[a];
          offset += pos * in_strides[a];
        }
        if (!inside) continue;  // padding contributes 0
        const T v = std::abs(x[offset]);
        sum += p_ == 2.0 ? v * v : (p_ == 1.0 ? v : std::pow(v, p));
      } while (NextIndex(tap, k, n));
      *y++ = p_ == 2.0 ? std::sqrt(sum) : (p_ == 1.0 ? sum : std::pow(sum, T(1) / p));
    } while (NextIndex(out_index, geo.output.data(), n));
  }

  WindowAttrs window_;
  double p_ = 2.0;
};

// -------------------------------------------------------------------------------------------------- MaxUnpool
//
// The indices are flat positions in the unpooled shape (in - 1) * stride - pads + kernel, as MaxPool produces
// them. An output_shape input may only enlarge that shape (it resolves the sizes MaxPool's rounding lost); the
// unpooled block then sits at the start of every axis and the rest is 0. As in the ONNX reference, pads do not
// shrink the unpooled shape when output_shape is given, since output_shape already says what they would.

// The unpooled shape; -1 where the input is unknown.
Shape UnpooledShape(const Shape& x, const WindowAttrs& w, bool use_pads) {
  Shape dims = x;
  const size_t n = w.kernel_shape.size();
  for (size_t i = 0; i < n; ++i) {
    if (x[2 + i] < 0) continue;
    const int64_t stride = w.strides.empty() ? 1 : w.strides[i];
    const int64_t pads = w.pads.empty() || !use_pads ? 0 : w.pads[i] + w.pads[n + i];
    dims[2 + i] = (x[2 + i] - 1) * stride - pads + w.kernel_shape[i];
  }
  return dims;
}

// The requested output_shape, checked against the rank and the unpooled shape.
Status ReadOutputShape(const Tensor& value, const Shape& unpooled, Shape* out) {
  EDGEAI_RETURN_IF_ERROR(ReadInts(value, "output_shape", out));
  if (out->rank() != unpooled.rank()) {
    return InvalidArgument("output_shape " + IntsToString(*out) + " must have one entry per input axis (" +
                           std::to_string(unpooled.rank()) + ")");
  }
  for (size_t i = 0; i < out->rank(); ++i) {
    if ((*out)[i] < 0 || (*out)[i] < unpooled[i]) {
      return InvalidArgument("output_shape " + IntsToString(*out) + " must not be smaller than the unpooled shape " +
                             IntsToString(unpooled));
    }
  }
  return Status::Ok();
}

Status CheckUnpoolInputs(InferenceContext& ctx) {
  const ValueType& x = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  if (indices.dtype != DataType::kInt64) return ctx.Error("indices must be int64, got " + indices.ToString());
  if (!x.rank_known || !indices.rank_known) return Status::Ok();
  bool same = x.dims.rank() == indices.dims.rank();
  for (size_t i = 0; same && i < x.dims.rank(); ++i) {
    same = x.dims[i] < 0 || indices.dims[i] < 0 || x.dims[i] == indices.dims[i];
  }
  if (!same) return ctx.Error("indices " + indices.ToString() + " must have the shape of input " + x.ToString());
  return Status::Ok();
}

Status InferMaxUnpool(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  WindowAttrs w;
  EDGEAI_RETURN_IF_ERROR(ParseWindow(ctx, &w));
  EDGEAI_RETURN_IF_ERROR(CheckUnpoolInputs(ctx));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  const bool has_shape = ctx.has_input(2);
  Shape dims = UnpooledShape(x.dims, w, !has_shape);
  if (const Tensor* value = ctx.input_value(2); has_shape && value != nullptr) {
    Shape requested;
    Status s =
        ReadOutputShape(*value, HasUnknownDim(dims) ? Shape(std::vector<int64_t>(dims.rank(), 0)) : dims, &requested);
    if (!s.ok()) return ctx.Error(s.message());
    dims = requested;
  } else if (has_shape) {
    for (size_t i = 0; i < dims.rank(); ++i) dims[i] = -1;
  }
  ctx.output(0) = ValueType::Of(x.dtype, dims);
  return Status::Ok();
}

class MaxUnpoolKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseWindow(ctx, &window_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    if (indices.shape() != x.shape()) {
      return ctx.Error("indices " + indices.Describe() + " must have the shape of input " + x.Describe());
    }
    const Tensor* shape_input = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const Shape unpooled = UnpooledShape(x.shape(), window_, shape_input == nullptr);
    Shape dims = unpooled;
    if (shape_input != nullptr) {
      Status s = ReadOutputShape(*shape_input, unpooled, &dims);
      if (!s.ok()) return ctx.Error(s.message());
    }
    const int64_t size = unpooled.NumElements();
    const int64_t* idx = indices.data<int64_t>();
    const int64_t count = x.NumElements();
    for (int64_t i = 0; i < count; ++i) {
      if (idx[i] < 0 || idx[i] >= size) {
        return ctx.Error("index " + std::to_string(idx[i]) + " is out of range for the unpooled shape " +
                         unpooled.ToString());
      }
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, dims));
    const bool same = dims == unpooled;
    return VisitBySize(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      std::memset(dst, 0, out->ByteSize());
      for (int64_t i = 0; i < count; ++i) dst[same ? idx[i] : Reposition(idx[i], unpooled, dims)] = src[i];
      return Status::Ok();
    });
  }

 private:
  // The flat position in `to` of the element at flat position `flat` in `from` (same multi-index).
  static int64_t Reposition(int64_t flat, const Shape& from, const Shape& to) {
    int64_t result = 0;
    int64_t scale = 1;
    for (size_t a = from.rank(); a-- > 0;) {
      result += (flat % from[a]) * scale;
      flat /= from[a];
      scale *= to[a];
    }
    return result;
  }

  WindowAttrs window_;
};

}  // namespace

Status RegisterPoolMiscOps(OpRegistry& registry) {
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LpPool", 1, 1, FloatTypes(), InferLpPool, MakeKernel<LpPoolKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LpPool", 2, 10, FloatTypes(), InferLpPool, MakeKernel<LpPoolKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LpPool", 11, 17, FloatTypes(), InferLpPool, MakeKernel<LpPoolKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LpPool", 18, kMaxOpset, FloatTypes(), InferLpPool, MakeKernel<LpPoolKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "MaxUnpool", 9, 10, FloatTypes(), InferMaxUnpool, MakeKernel<MaxUnpoolKernel>));
  return AddOp(registry, "MaxUnpool", 11, kMaxOpset, FloatTypes(), InferMaxUnpool, MakeKernel<MaxUnpoolKernel>);
}

}  // namespace edgeai::cpu
