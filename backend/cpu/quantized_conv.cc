// Quantized N-D convolution (opset 10..): ConvInteger (int32 output) and QLinearConv (requantized 8-bit output
// with an optional int32 bias), with groups, strides, dilations, pads and auto_pad (conv_geometry.h).
//
// Per (image, group): im2col of x - x_zero_point (0 where the window falls into padding, which is what a pad of
// x_zero_point gives), times the weights minus their per-tensor or per-output-channel zero point, in int32
// (IntGemm). Weights known at load time are converted once, in Init. QLinearConv then rounds
// (acc + bias) * x_scale * w_scale[m] / y_scale half to even into y's type around y_zero_point.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/quantize_util.h"

namespace edgeai::cpu {
namespace {

// Input positions of the two ops.
struct ConvIndices {
  size_t x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias;
  bool quantized_output;
};
constexpr size_t kNone = 99;
constexpr ConvIndices kConvInteger{0, kNone, 2, 1, kNone, 3, kNone, kNone, kNone, false};
constexpr ConvIndices kQLinearConv{0, 1, 2, 3, 4, 5, 6, 7, 8, true};

struct QConvAttrs {
  WindowAttrs window;
  int64_t group = 1;
};

Status ParseQConvAttrs(const InferenceContext& ctx, QConvAttrs* out) {
  Status s = ParseWindowAndGroup(ctx.attrs(), &out->window, &out->group);
  if (!s.ok()) return ctx.Error(s.message());
  return Status::Ok();
}

// Y's dims from X and W (either may hold -1 dims); checks channels against group and kernel_shape.
Status InferQConvDims(const QConvAttrs& attrs, const Shape& x, const Shape& w, Shape* out) {
  if (x.rank() < 3 || w.rank() != x.rank()) {
    return InvalidArgument("x " + x.ToString() + " and w " + w.ToString() +
                           " must have the same rank >= 3 (N x C x D1 ...)");
  }
  const size_t n = x.rank() - 2;
  if (n > kMaxConvSpatial) return InvalidArgument("at most 6 spatial axes are supported");
  const int64_t g = attrs.group;
  if ((x[1] >= 0 && x[1] % g != 0) || (w[0] >= 0 && w[0] % g != 0) ||
      (x[1] >= 0 && w[1] >= 0 && w[1] * g != x[1])) {
    return InvalidArgument("x " + x.ToString() + " and w " + w.ToString() + " do not match group " +
                           std::to_string(g) + " (x channels must be w.shape[1] * group)");
  }
  int64_t input[kMaxConvSpatial], kernel[kMaxConvSpatial];
  EDGEAI_RETURN_IF_ERROR(ResolveConvKernel(attrs.window.kernel_shape, x, w, "w", input, kernel));
  SpatialGeometry geo;
  EDGEAI_RETURN_IF_ERROR(ComputePoolGeometry(input, kernel, n, attrs.window, &geo));
  *out = Shape{x[0], w[0]};
  for (size_t i = 0; i < n; ++i) out->push_back(geo.output[i]);
  return Status::Ok();
}

template <const ConvIndices& kIdx>
Status InferQConv(InferenceContext& ctx) {
  for (size_t i = 0; i < (kIdx.quantized_output ? 8u : 2u); ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& x = ctx.input(kIdx.x);
  const ValueType& w = ctx.input(kIdx.w);
  if (w.dtype != DataType::kUint8 && w.dtype != DataType::kInt8) {
    return ctx.Error("w dtype " + std::string(DataTypeName(w.dtype)) + " is not int8 or uint8");
  }
  if (ctx.has_input(kIdx.x_zp) && ctx.input(kIdx.x_zp).dtype != x.dtype) {
    return ctx.Error("x_zero_point dtype differs from x's");
  }
  if (ctx.has_input(kIdx.w_zp) && ctx.input(kIdx.w_zp).dtype != w.dtype) {
    return ctx.Error("w_zero_point dtype differs from w's");
  }
  DataType out_type = DataType::kInt32;
  if (kIdx.quantized_output) {
    out_type = ctx.input(kIdx.y_zp).dtype;
    if (out_type != DataType::kUint8 && out_type != DataType::kInt8) {
      return ctx.Error("y_zero_point dtype " + std::string(DataTypeName(out_type)) + " is not int8 or uint8");
    }
    for (size_t i : {kIdx.x_scale, kIdx.w_scale, kIdx.y_scale}) {
      if (ctx.input(i).dtype != DataType::kFloat32) return ctx.Error("scales must be float32");
    }
    if (ctx.has_input(kIdx.bias) && ctx.input(kIdx.bias).dtype != DataType::kInt32) {
      return ctx.Error("bias B must be int32");
    }
  }
  QConvAttrs attrs;
  EDGEAI_RETURN_IF_ERROR(ParseQConvAttrs(ctx, &attrs));
  if (!x.rank_known && !w.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(out_type);
    return Status::Ok();
  }
  Shape xd = x.rank_known ? x.dims : Shape();
  Shape wd = w.rank_known ? w.dims : Shape();
  if (!x.rank_known) xd.resize(wd.rank(), -1);
  if (!w.rank_known) wd.resize(xd.rank(), -1);
  Shape out;
  Status s = InferQConvDims(attrs, xd, wd, &out);
  if (!s.ok()) return ctx.Error(s.message());
  ctx.output(0) = ValueType::Of(out_type, out);
  return Status::Ok();
}

// The concrete geometry of one call.
struct QConvProblem : ConvCallGeometry {
  int64_t k() const { return cpg() * kernel_size; }
};

Status BuildQConvProblem(const QConvAttrs& attrs, const Shape& x, const Shape& w, QConvProblem* p) {
  Shape out;
  EDGEAI_RETURN_IF_ERROR(InferQConvDims(attrs, x, w, &out));
  const size_t n = x.rank() - 2;
  SpatialGeometry geo;
  EDGEAI_RETURN_IF_ERROR(ComputePoolGeometry(x.data() + 2, w.data() + 2, n, attrs.window, &geo));
  SetConvSpatial(x, w, attrs.window, geo.output.data(), geo.pad_begin.data(), p);
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[0];
  p->group = attrs.group;
  return Status::Ok();
}

// One im2col row: for kernel offset `kidx`, the value x - zp that each output position meets (0 in padding).
template <typename T>
void Im2ColRow(const T* x, int32_t zp, const QConvProblem& p, int64_t kidx, uint32_t* dst) {
  const size_t last = p.n - 1;
  int64_t offset[kMaxConvSpatial], in_stride[kMaxConvSpatial];
  KernelTapOffsets(p, kidx, p.in, offset, in_stride);
  const int64_t ow = p.out[last], sw = p.stride[last], off = offset[last];
  int64_t lo, hi;  // output columns o with 0 <= o * sw + off < iw
  TapRange(off, sw, p.in[last], ow, &lo, &hi);
  ForEachTapRow(p, p.out, p.in, offset, in_stride, [&](bool inside, int64_t base) {
    if (!inside) {
      std::fill(dst, dst + ow, 0u);
    } else {
      const T* src = x + base + off;
      std::fill(dst, dst + lo, 0u);
      for (int64_t o = lo; o < hi; ++o) dst[o] = static_cast<uint32_t>(static_cast<int32_t>(src[o * sw]) - zp);
      std::fill(dst + hi, dst + ow, 0u);
    }
    dst += ow;
  });
}

// Weights [M, K] as int32 with each output channel's zero point subtracted.
template <typename W>
void WidenWeights(const W* w, const Tensor* w_zp, int64_t m, int64_t k, uint32_t* out) {
  for (int64_t i = 0; i < m; ++i) {
    const int32_t z = w_zp == nullptr ? 0 : static_cast<int32_t>(w_zp->data<W>()[w_zp->NumElements() == 1 ? 0 : i]);
    for (int64_t j = 0; j < k; ++j) out[i * k + j] = static_cast<uint32_t>(static_cast<int32_t>(w[i * k + j]) - z);
  }
}

Status WidenWeightsOf(const Tensor& w, const Tensor* w_zp, uint32_t* out) {
  if (w_zp != nullptr && w_zp->NumElements() != 1 && w_zp->NumElements() != w.shape()[0]) {
    return InvalidArgument("w_zero_point " + w_zp->Describe() + " must be a scalar or hold one value per output channel");
  }
  return Visit8Bit(w.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    WidenWeights(w.data<W>(), w_zp, w.shape()[0], w.NumElements() / std::max<int64_t>(1, w.shape()[0]), out);
    return Status::Ok();
  });
}

// What QLinearConv adds after the integer product: scales, zero point and bias of one call.
struct Requant {
  float x_scale = 1.0f, y_scale = 1.0f;
  const float* w_scale = nullptr;
  int64_t w_scale_count = 1;
  int32_t y_zp = 0;
  const int32_t* bias = nullptr;
};

// Runs one (image, group): im2col, product, and for QLinearConv requantization into y.
template <typename X, typename Y>
void ConvItem(const QConvProblem& p, const X* x, int32_t x_zp, const uint32_t* w, const Requant* rq, Y* y,
              int64_t item, const ThreadPool& pool) {
  const int64_t img = item / p.group, g = item % p.group;
  const int64_t cpg = p.cpg(), mpg = p.mpg(), k = p.k();
  thread_local std::vector<uint32_t> scratch;
  const size_t need = static_cast<size_t>(k * p.out_size + (rq ? mpg * p.out_size : 0));
  if (scratch.size() < need) scratch.resize(need);
  uint32_t* col = scratch.data();
  const X* xg = x + (img * p.in_channels + g * cpg) * p.in_size;
  pool.ParallelFor(k, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.out_size)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      Im2ColRow(xg + (r / p.kernel_size) * p.in_size, x_zp, p, r % p.kernel_size, col + r * p.out_size);
    }
  });
  Y* yg = y + (img * p.out_channels + g * mpg) * p.out_size;
  uint32_t* acc = rq ? col + k * p.out_size : reinterpret_cast<uint32_t*>(yg);
  IntGemm(mpg, p.out_size, k, w + g * mpg * k, col, acc, pool);
  if (rq == nullptr) return;
  for (int64_t mi = 0; mi < mpg; ++mi) {
    const int64_t m = g * mpg + mi;
    const float multiplier = rq->x_scale * rq->w_scale[rq->w_scale_count == 1 ? 0 : m] / rq->y_scale;
    const int32_t bias = rq->bias ? rq->bias[m] : 0;
    const uint32_t* a = acc + mi * p.out_size;
    Y* dst = yg + mi * p.out_size;
    for (int64_t o = 0; o < p.out_size; ++o) {
      const int32_t v = static_cast<int32_t>(a[o] + static_cast<uint32_t>(bias));
      dst[o] = QuantizeValue<Y, float>(static_cast<float>(v) * multiplier, rq->y_zp);
    }
  }
}

template <typename X, typename Y>
void RunQConv(const QConvProblem& p, const X* x, int32_t x_zp, const uint32_t* w, const Requant* rq, Y* y,
              const ThreadPool& pool) {
  if (p.batch == 0 || p.out_channels == 0 || p.out_size == 0) return;
  ForEachConvItem(p.batch * p.group, pool, ThreadPool::Serial(), [&](int64_t item, const ThreadPool& item_pool) {
    ConvItem(p, x, x_zp, w, rq, y, item, item_pool);
  });
}

template <const ConvIndices& kIdx>
class QConvKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseQConvAttrs(ctx, &attrs_));
    const Tensor* w = ctx.input_value(kIdx.w);
    const bool zp_known = !ctx.has_input(kIdx.w_zp) || ctx.input_value(kIdx.w_zp) != nullptr;
    if (w != nullptr && zp_known && w->rank() >= 1) {
      packed_.resize(static_cast<size_t>(w->NumElements()));
      Status s = WidenWeightsOf(*w, ctx.has_input(kIdx.w_zp) ? ctx.input_value(kIdx.w_zp) : nullptr, packed_.data());
      if (!s.ok()) return ctx.Error(s.message());
      packed_shape_ = w->shape();
      prepacked_ = true;
    }
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    auto input = [&](size_t i) { return ctx.num_inputs() > i ? ctx.input(i) : nullptr; };
    const Tensor& x = *ctx.input(kIdx.x);
    const Tensor& w = *ctx.input(kIdx.w);
    QConvProblem p;
    Status s = BuildQConvProblem(attrs_, x.shape(), w.shape(), &p);
    if (!s.ok()) return ctx.Error(s.message());
    const Tensor* x_zp = input(kIdx.x_zp);
    if (x_zp != nullptr && (x_zp->NumElements() != 1 || x_zp->dtype() != x.dtype())) {
      return ctx.Error("x_zero_point " + x_zp->Describe() + " must be a scalar of x's dtype");
    }
    Requant rq;
    if (kIdx.quantized_output) EDGEAI_RETURN_IF_ERROR(ReadRequant(ctx, p, &rq));
    const uint32_t* wq = packed_.data();
    if (!prepacked_ || packed_shape_ != w.shape()) {
      thread_local std::vector<uint32_t> widened;
      if (widened.size() < static_cast<size_t>(w.NumElements())) widened.resize(w.NumElements());
      s = WidenWeightsOf(w, input(kIdx.w_zp), widened.data());
      if (!s.ok()) return ctx.Error(s.message());
      wq = widened.data();
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (y->NumElements() != p.batch * p.out_channels * p.out_size) {
      return ctx.Error("output " + y->Describe() + " does not match the convolution of x " + x.Describe());
    }
    return Visit8Bit(x.dtype(), [&](auto tx) {
      using X = typename decltype(tx)::type;
      const int32_t xz = x_zp ? static_cast<int32_t>(x_zp->data<X>()[0]) : 0;
      if (!kIdx.quantized_output) {
        RunQConv<X, int32_t>(p, x.data<X>(), xz, wq, nullptr, y->data<int32_t>(), ctx.pool());
        return Status::Ok();
      }
      return Visit8Bit(y->dtype(), [&](auto ty) {
        using Y = typename decltype(ty)::type;
        RunQConv<X, Y>(p, x.data<X>(), xz, wq, &rq, y->data<Y>(), ctx.pool());
        return Status::Ok();
      });
    });
  }

 private:
  Status ReadRequant(KernelContext& ctx, const QConvProblem& p, Requant* rq) const {
    const Tensor& xs = *ctx.input(kIdx.x_scale);
    const Tensor& ws = *ctx.input(kIdx.w_scale);
    const Tensor& ys = *ctx.input(kIdx.y_scale);
    const Tensor& yz = *ctx.input(kIdx.y_zp);
    const Tensor* bias = ctx.num_inputs() > kIdx.bias ? ctx.input(kIdx.bias) : nullptr;
    if (xs.NumElements() != 1 || ys.NumElements() != 1 || yz.NumElements() != 1) {
      return ctx.Error("x_scale, y_scale and y_zero_point must be scalars");
    }
    if (ws.NumElements() != 1 && ws.NumElements() != p.out_channels) {
      return ctx.Error("w_scale " + ws.Describe() + " must be a scalar or hold one value per output channel");
    }
    if (bias != nullptr && (bias->NumElements() != p.out_channels || bias->dtype() != DataType::kInt32)) {
      return ctx.Error("bias B " + bias->Describe() + " must be int32 with one value per output channel");
    }
    rq->x_scale = xs.data<float>()[0];
    rq->y_scale = ys.data<float>()[0];
    rq->w_scale = ws.data<float>();
    rq->w_scale_count = ws.NumElements();
    rq->bias = bias ? bias->data<int32_t>() : nullptr;
    return Visit8Bit(yz.dtype(), [&](auto tag) {
      rq->y_zp = static_cast<int32_t>(yz.data<typename decltype(tag)::type>()[0]);
      return Status::Ok();
    });
  }

  QConvAttrs attrs_;
  bool prepacked_ = false;
  Shape packed_shape_;
  std::vector<uint32_t> packed_;
};

}  // namespace

Status RegisterQuantizedConvOps(OpRegistry& registry) {
  const std::vector<DataType> bytes = {DataType::kUint8, DataType::kInt8};
  EDGEAI_RETURN_IF_ERROR(registry.Register(OpDef{"ConvInteger", "", 10, kMaxOpset, bytes, 0,
                                                 InferQConv<kConvInteger>, MakeKernel<QConvKernel<kConvInteger>>}));
  return registry.Register(OpDef{"QLinearConv", "", 10, kMaxOpset, bytes, 0, InferQConv<kQLinearConv>,
                                 MakeKernel<QConvKernel<kQLinearConv>>});
}

}  // namespace edgeai::cpu
