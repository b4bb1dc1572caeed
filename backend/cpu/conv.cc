// Conv (ONNX opsets 1..): N-D convolution with groups, padding, auto_pad, strides and dilations.
//
// Five compute paths, chosen per call from the concrete geometry:
//   - depthwise (one input channel per group, 1-D/2-D): a direct sliding window, in conv_depthwise.cc;
//   - small-channel direct (float32, one group, <= 4 input channels, AVX-512: an image network's RGB stem):
//     vectors along the output row, 16 output channels at a time, in conv_direct_avx.cc;
//   - pointwise (all kernel dims 1, stride 1, no padding): the input already is the im2col matrix, so one GEMM
//     per image and group;
//   - Winograd (float32 3x3, stride 1, one group, constant weights, where conv_winograd.cc's rule says it
//     pays): F(4x4, 3x3) tiles (F(2x2) for small outputs), weights transformed and packed at load time;
//   - general: one GEMM per image and group over the im2col matrix. For float32 the GEMM packs im2col rows as it
//     needs them (the matrix is never stored) and the constant weights are packed once, at load time; float64
//     fills a thread-local im2col buffer first.
// 1-D convolution runs as 2-D over a height of 1, so it gets the same paths.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/conv_depthwise.h"
#include "backend/cpu/conv_direct.h"
#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/conv_winograd.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {


struct ConvAttrs {
  WindowAttrs window;
  int64_t group = 1;
};

Status ParseConvAttrs(const InferenceContext& ctx, ConvAttrs* out) {
  Status s = ParseWindowAttrs(ctx.attrs(), &out->window);
  if (!s.ok()) return ctx.Error(s.message());
  out->group = ctx.attrs().GetInt("group", 1);
  if (out->group < 1) return ctx.Error("group " + std::to_string(out->group) + " must be positive");
  return Status::Ok();
}

// Checks X, W and B against each other and the attributes, and fills `out_dims` with Y's dims. Unknown dims
// (-1, at load time) skip the checks they would take part in and give -1 outputs where they matter.
Status InferConvDims(const InferenceContext& ctx, const ConvAttrs& attrs, const Shape& x, const Shape& w,
                     Shape* out_dims) {
  if (x.rank() < 3) return ctx.Error("input X " + x.ToString() + " must have rank >= 3 (N x C x D1 ...)");
  if (w.rank() != x.rank()) {
    return ctx.Error("weight W " + w.ToString() + " must have the rank of X " + x.ToString());
  }
  const size_t n = x.rank() - 2;
  if (n > kMaxConvSpatial) return ctx.Error("at most " + std::to_string(kMaxConvSpatial) + " spatial axes are supported");
  const int64_t group = attrs.group;
  if (x[1] >= 0 && x[1] % group != 0) {
    return ctx.Error("group " + std::to_string(group) + " does not divide the " + std::to_string(x[1]) +
                     " input channels");
  }
  if (w[0] >= 0 && w[0] % group != 0) {
    return ctx.Error("group " + std::to_string(group) + " does not divide the " + std::to_string(w[0]) +
                     " output channels (W dim 0)");
  }
  if (x[1] >= 0 && w[1] >= 0 && w[1] * group != x[1]) {
    return ctx.Error("W " + w.ToString() + " expects " + std::to_string(w[1]) + " x " + std::to_string(group) +
                     " (group) input channels but X " + x.ToString() + " has " + std::to_string(x[1]));
  }
  int64_t input[kMaxConvSpatial], kernel[kMaxConvSpatial];
  Status resolved = ResolveConvKernel(attrs.window.kernel_shape, x, w, "W", input, kernel);
  if (!resolved.ok()) return ctx.Error(resolved.message());
  SpatialGeometry geo;
  Status s = ComputePoolGeometry(input, kernel, n, attrs.window, &geo);
  if (!s.ok()) return ctx.Error(s.message());
  out_dims->resize(0);
  out_dims->push_back(x[0]);
  out_dims->push_back(w[0]);
  for (size_t i = 0; i < n; ++i) out_dims->push_back(geo.output[i]);
  return Status::Ok();
}

Status InferConv(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& w = ctx.input(1);
  if (w.dtype != x.dtype) {
    return ctx.Error("W has dtype " + std::string(DataTypeName(w.dtype)) + " but X has " +
                     std::string(DataTypeName(x.dtype)));
  }
  ConvAttrs attrs;
  EDGEAI_RETURN_IF_ERROR(ParseConvAttrs(ctx, &attrs));
  const bool has_bias = ctx.has_input(2);
  if (has_bias) {
    const ValueType& b = ctx.input(2);
    if (b.dtype != x.dtype) return ctx.Error("bias B has dtype " + std::string(DataTypeName(b.dtype)));
    if (b.rank_known && b.dims.rank() != 1) return ctx.Error("bias B " + b.dims.ToString() + " must be 1-D");
    if (b.rank_known && w.rank_known && w.dims.rank() > 0 && b.dims[0] >= 0 && w.dims[0] >= 0 &&
        b.dims[0] != w.dims[0]) {
      return ctx.Error("bias B " + b.dims.ToString() + " must have one value per output channel (" +
                       std::to_string(w.dims[0]) + ")");
    }
  }
  if (!x.rank_known && !w.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  // One known rank fixes the other; unknown dims stand in for what is missing.
  Shape xd = x.rank_known ? x.dims : Shape();
  Shape wd = w.rank_known ? w.dims : Shape();
  if (!x.rank_known) xd.resize(wd.rank(), -1);
  if (!w.rank_known) wd.resize(xd.rank(), -1);
  Shape out;
  EDGEAI_RETURN_IF_ERROR(InferConvDims(ctx, attrs, xd, wd, &out));
  ctx.output(0) = ValueType::Of(x.dtype, out);
  return Status::Ok();
}

Status BuildProblem(const WindowAttrs& window, int64_t group, const Shape& x, const Shape& w, ConvCallGeometry* p) {
  const size_t n = x.rank() - 2;
  SpatialGeometry geo;
  EDGEAI_RETURN_IF_ERROR(ComputePoolGeometry(x.data() + 2, w.data() + 2, n, window, &geo));
  const size_t shift = n == 1 ? 1 : 0;
  p->n = n + shift;
  p->in[0] = p->kernel[0] = p->out[0] = p->stride[0] = p->dilation[0] = 1;
  p->pad[0] = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t j = i + shift;
    p->in[j] = x[i + 2];
    p->kernel[j] = w[i + 2];
    p->out[j] = geo.output[i];
    p->stride[j] = window.strides.empty() ? 1 : window.strides[i];
    p->dilation[j] = window.dilations.empty() ? 1 : window.dilations[i];
    p->pad[j] = geo.pad_begin[i];
  }
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = w[0];
  p->group = group;
  p->in_size = p->kernel_size = p->out_size = 1;
  for (size_t i = 0; i < p->n; ++i) {
    p->in_size *= p->in[i];
    p->kernel_size *= p->kernel[i];
    p->out_size *= p->out[i];
  }
  return Status::Ok();
}

void GemmT(const GemmShape& s, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool) {
  Dgemm(s, alpha, a, b, beta, c, pool);
}

// One output row's share of an im2col row: d[o] for output columns o in [col, end), reading input row `src`
// (null: the row is in the padding) at o * sw + off_w, valid for o in [lo, hi).
template <typename T>
inline void Im2ColRowPart(const T* src, int64_t sw, int64_t off_w, int64_t lo, int64_t hi, int64_t col,
                          int64_t end, T* d) {
  const int64_t a = src ? std::clamp(lo, col, end) : end, b = src ? std::clamp(hi, a, end) : end;
  for (int64_t o = col; o < a; ++o) d[o] = T(0);
  if (a == b) {
  } else if (sw == 1) {
    std::memcpy(d + a, src + off_w + a, static_cast<size_t>(b - a) * sizeof(T));
  } else if (sw == 2) {  // a constant stride the compiler vectorises with shuffles
    const T* s = src + off_w;
    for (int64_t o = a; o < b; ++o) d[o] = s[2 * o];
  } else {
    for (int64_t o = a; o < b; ++o) d[o] = src[o * sw + off_w];
  }
  for (int64_t o = b; o < end; ++o) d[o] = T(0);
}

// Fills columns [j0, j0 + count) of one im2col row: the input values that kernel offset `kidx` of channel
// plane `x` meets at those output positions (zero where it falls into padding).
template <typename T>
void Im2ColSegment(const T* x, const ConvCallGeometry& p, int64_t kidx, int64_t j0, int64_t count, T* dst) {
  const size_t n = p.n;
  int64_t offset[kMaxConvSpatial], in_stride[kMaxConvSpatial];
  int64_t rest = kidx, stride_acc = 1;
  for (size_t i = n; i-- > 0;) {
    offset[i] = (rest % p.kernel[i]) * p.dilation[i] - p.pad[i];
    rest /= p.kernel[i];
    in_stride[i] = stride_acc;
    stride_acc *= p.in[i];
  }
  const int64_t last = static_cast<int64_t>(n) - 1;
  const int64_t ow = p.out[last], sw = p.stride[last], off_w = offset[last];
  int64_t lo, hi;
  TapRange(off_w, sw, p.in[last], ow, &lo, &hi);
  int64_t col = j0 % ow;
  int64_t row = j0 / ow;
  int64_t pos[kMaxConvSpatial] = {};  // odometer over the output positions of the outer axes
  for (int64_t i = last - 1; i >= 0; --i) {
    pos[i] = row % p.out[i];
    row /= p.out[i];
  }
  for (; count > 0; col = 0) {
    const int64_t end = std::min(ow, col + count);
    bool inside = true;
    int64_t base = 0;
    for (int64_t i = 0; i < last; ++i) {
      int64_t in_i = pos[i] * p.stride[i] + offset[i];
      inside = inside && in_i >= 0 && in_i < p.in[i];
      base += in_i * in_stride[i];
    }
    for (int64_t i = last - 1; i >= 0 && ++pos[i] == p.out[i]; --i) pos[i] = 0;
    Im2ColRowPart<T>(inside ? x + base : nullptr, sw, off_w, lo, hi, col, end, dst - col);
    dst += end - col;
    count -= end - col;
  }
}

// What one kernel offset of a 2-D convolution reads: input row oh * stride_h + off_h and column
// ow * stride_w + off_w, the latter inside the input for output columns [lo, hi).
struct Tap2D {
  int64_t off_h, off_w, lo, hi;
};

// The taps of every kernel offset, for the 2-D row source; false when there are too many to keep at hand.
constexpr int64_t kMaxTaps = 64;
bool MakeTaps2D(const ConvCallGeometry& p, Tap2D* taps) {
  if (p.n != 2 || p.kernel_size > kMaxTaps) return false;
  for (int64_t kidx = 0; kidx < p.kernel_size; ++kidx) {
    Tap2D& t = taps[kidx];
    t.off_h = (kidx / p.kernel[1]) * p.dilation[0] - p.pad[0];
    t.off_w = (kidx % p.kernel[1]) * p.dilation[1] - p.pad[1];
    TapRange(t.off_w, p.stride[1], p.in[1], p.out[1], &t.lo, &t.hi);
  }
  return true;
}

// Im2ColSegment for 2-D problems, with the tap's geometry worked out beforehand.
template <typename T>
void Im2ColSegment2D(const T* x, const ConvCallGeometry& p, const Tap2D& tap, int64_t j0, int64_t count, T* dst) {
  const int64_t ow = p.out[1];
  int64_t col = j0 % ow;
  for (int64_t row = j0 / ow; count > 0; ++row, col = 0) {
    const int64_t end = std::min(ow, col + count), ih = row * p.stride[0] + tap.off_h;
    const T* src = ih >= 0 && ih < p.in[0] ? x + ih * p.in[1] : nullptr;
    Im2ColRowPart<T>(src, p.stride[1], tap.off_w, tap.lo, tap.hi, col, end, dst - col);
    dst += end - col;
    count -= end - col;
  }
}

// col[c * kernel_size + kidx][out position] for the `channels` planes starting at x.
template <typename T>
void Im2Col(const T* x, const ConvCallGeometry& p, int64_t channels, T* col, const ThreadPool& pool) {
  const int64_t rows = channels * p.kernel_size;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.out_size));
  pool.ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* plane = x + (r / p.kernel_size) * p.in_size;
      Im2ColSegment(plane, p, r % p.kernel_size, 0, p.out_size, col + r * p.out_size);
    }
  });
}

// Y rows of one (image, group) start as the bias, so the GEMM accumulates onto them (beta 1).
template <typename T>
T FillBias(const T* bias, int64_t rows, int64_t cols, T* y) {
  if (bias == nullptr) return T(0);
  for (int64_t r = 0; r < rows; ++r) std::fill(y + r * cols, y + (r + 1) * cols, bias[r]);
  return T(1);
}

// float32: the GEMM reads B straight from the input (pointwise) or from im2col rows made on demand, so no
// im2col matrix is ever stored, and adds the bias (and clamps, for a fused Relu or Clip) as it stores Y;
// `packed` holds this group's weights packed at load time, or is null.
void ConvGemmF32(const ConvCallGeometry& p, const GemmShape& s, const float* xg, const float* wg,
                 const SgemmPacked* packed, const float* bias, const OutputClamp* clamp, float* yg,
                 const ThreadPool& pool) {
  if (p.IsPointwise()) {
    if (packed != nullptr) {
      SgemmPackedA(*packed, false, s.n, xg, s.ldb, 1.0f, 0.0f, yg, s.ldc, pool, bias, clamp);
    } else {
      auto rows = [&](int64_t k, int64_t j0, int64_t n, float* out) {
        std::copy(xg + k * s.ldb + j0, xg + k * s.ldb + j0 + n, out);
      };
      SgemmRows(s, 1.0f, wg, rows, 0.0f, yg, pool, bias, clamp);
    }
    return;
  }
  Tap2D taps[kMaxTaps];
  const bool two_d = MakeTaps2D(p, taps);
  auto rows = [&](int64_t k, int64_t j0, int64_t n, float* out) {
    const int64_t c = k / p.kernel_size, kidx = k - c * p.kernel_size;
    if (two_d) {
      Im2ColSegment2D(xg + c * p.in_size, p, taps[kidx], j0, n, out);
    } else {
      Im2ColSegment(xg + c * p.in_size, p, kidx, j0, n, out);
    }
  };
  if (packed != nullptr) {
    SgemmPackedA(*packed, s.n, rows, 1.0f, 0.0f, yg, s.ldc, pool, bias, clamp);
  } else {
    SgemmRows(s, 1.0f, wg, rows, 0.0f, yg, pool, bias, clamp);
  }
}

// The fused activation over one finished block of Y, while it is still in cache.
template <typename T>
void ActivateBlock(T* y, int64_t count, const Activation& act, const ThreadPool& pool) {
  if (act.none()) return;
  const int64_t grain = act.costly() ? (1 << 12) : (1 << 15);
  pool.ParallelFor(count, grain, [&](int64_t b, int64_t e) { ApplyActivation(y + b, e - b, act); });
}

// One (image, group) of the pointwise or the im2col path. `packed`: the weights packed per group (float32).
template <typename T>
void ConvItem(const ConvCallGeometry& p, const T* x, const T* w, const SgemmPacked* packed, const T* bias, T* y,
              const Activation& act, int64_t item, const ThreadPool& pool) {
  const int64_t img = item / p.group, g = item % p.group;
  const int64_t cpg = p.cpg(), mpg = p.mpg();
  const T* xg = x + (img * p.in_channels + g * cpg) * p.in_size;
  T* yg = y + (img * p.out_channels + g * mpg) * p.out_size;
  const T* bias_g = bias ? bias + g * mpg : nullptr;
  GemmShape s;
  s.m = mpg;
  s.n = p.out_size;
  s.k = cpg * p.kernel_size;
  s.lda = s.k;
  s.ldb = p.out_size;
  s.ldc = p.out_size;
  const T* wg = w + g * mpg * s.k;
  if constexpr (std::is_same_v<T, float>) {
    const OutputClamp clamp{act.clamp_lo(), act.clamp_hi()};
    ConvGemmF32(p, s, xg, wg, packed ? packed + g : nullptr, bias_g, act.IsClamp() ? &clamp : nullptr, yg, pool);
    if (act.IsClamp()) return;
  } else {
    const T beta = FillBias(bias_g, mpg, p.out_size, yg);
    if (p.IsPointwise()) {
      GemmT(s, T(1), wg, xg, beta, yg, pool);
    } else {
      thread_local std::vector<T> scratch;
      const size_t need = static_cast<size_t>(s.k * p.out_size);
      if (scratch.size() < need) scratch.resize(need);
      Im2Col(xg, p, cpg, scratch.data(), pool);
      GemmT(s, T(1), wg, scratch.data(), beta, yg, pool);
    }
  }
  ActivateBlock(yg, mpg * p.out_size, act, pool);
}

// EDGEAI_DIRECT_CONV=0 sends small-channel convolutions back to the GEMM (for A/B measurements).
bool DirectDisabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("EDGEAI_DIRECT_CONV");
    return v != nullptr && std::string(v) == "0";
  }();
  return disabled;
}

// Whether the Winograd weights (packed from this W) serve this call and pay for it.
bool UseWinograd(const ConvCallGeometry& p, const WinogradConv3x3* winograd) {
  return winograd != nullptr && p.in_channels == winograd->in_channels() &&
         p.out_channels == winograd->out_channels() && WinogradConv3x3::Suits(p) && winograd->Pays(p);
}

// `winograd`: this W transformed for the Winograd path (float32), or null.
template <typename T>
void RunConv(const ConvCallGeometry& p, const T* x, const T* w, const SgemmPacked* packed,
             const WinogradConv3x3* winograd, const T* bias, T* y, const Activation& act, const ThreadPool& pool) {
  if (p.batch == 0 || p.out_channels == 0 || p.out_size == 0) return;
  if (p.IsDepthwise()) {
    DepthwiseConv(p, x, w, bias, y, act, pool);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (conv_internal::DirectSmallChannelsSuits(p) && !DirectDisabled()) {
      const OutputClamp clamp{act.clamp_lo(), act.clamp_hi()};
      conv_internal::DirectSmallChannelsConv(p, x, w, bias, act.IsClamp() ? &clamp : nullptr, y, pool);
      if (!act.IsClamp()) ActivateBlock(y, p.batch * p.out_channels * p.out_size, act, pool);
      return;
    }
    if (UseWinograd(p, winograd)) {
      winograd->Run(p, x, bias, act, y, pool);
      return;
    }
  }
  // Independent (image, group) pairs: spread over the threads when there are enough to keep them busy.
  ForEachProduct(p.batch * p.group, pool, [&](int64_t i, const ThreadPool& item_pool) {
    ConvItem(p, x, w, packed, bias, y, act, i, item_pool);
  });
}

class ConvKernel : public Kernel, public ActivationFusable {
 public:
  // Every path applies the activation as it finishes a block of Y: clamps inside the GEMM's stores, the rest
  // over each finished (image, group) block or depthwise plane.
  bool FuseActivation(const Activation& act) override {
    act_ = act;
    return true;
  }

  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseConvAttrs(ctx, &attrs_));
    PackWeights(ctx.input_value(1), ctx.output(0));
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& w = *ctx.input(1);
    const Tensor* b = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (x.rank() < 3 || w.rank() != x.rank() || x.rank() - 2 > kMaxConvSpatial) {
      return ctx.Error("X " + x.Describe() + " and W " + w.Describe() + " do not form a convolution");
    }
    ConvCallGeometry p;
    Status s = BuildProblem(attrs_.window, attrs_.group, x.shape(), w.shape(), &p);
    if (!s.ok()) return ctx.Error(s.message());
    if (p.in_channels != w.shape()[1] * p.group || p.out_channels % p.group != 0 ||
        y->NumElements() != p.batch * p.out_channels * p.out_size ||
        (b != nullptr && b->NumElements() != p.out_channels)) {
      return ctx.Error("inputs X " + x.Describe() + ", W " + w.Describe() + " do not match output " +
                       y->Describe());
    }
    // The packed weights serve only the tensor they were packed from.
    const bool same_w = w.dtype() == DataType::kFloat32 && w.data<float>() == packed_from_;
    const SgemmPacked* packed = same_w && !packed_w_.empty() ? packed_w_.data() : nullptr;
    const WinogradConv3x3* winograd = same_w && winograd_.packed() ? &winograd_ : nullptr;
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      RunConv<T>(p, x.data<T>(), w.data<T>(), packed, winograd, b ? b->data<T>() : nullptr, y->data<T>(), act_,
                 ctx.pool());
      return Status::Ok();
    });
  }

 private:
  // The GEMM's N (output positions per image) when inference knows it at load time, else 0.
  static int64_t OutputPixels(const ValueType& y) {
    if (!y.rank_known || y.dims.rank() < 3) return 0;
    int64_t n = 1;
    for (size_t i = 2; i < y.dims.rank(); ++i) {
      if (y.dims[i] <= 0) return 0;
      n *= y.dims[i];
    }
    return n;
  }

  // Constant float32 weights are packed once per group for the GEMM ([M/group, C/group * kernel] each),
  // unless the convolution is depthwise, which runs without a GEMM. Knowing N lets the packing pick the
  // transposed product for small outputs (7 x 7).
  void PackWeights(const Tensor* w, const ValueType& y) {
    if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() < 3) return;
    const Shape& wd = w->shape();
    const int64_t group = attrs_.group;
    if (wd[0] <= 0 || wd[0] % group != 0 || (wd[1] == 1 && wd.rank() <= 4)) return;
    packed_from_ = w->data<float>();
    // When the Winograd path serves every call of the load-time output size, the GEMM's packed weights would
    // only take memory (calls of other sizes then run the GEMM on the weights as they are).
    if (PackWinograd(*w, y)) return;
    const int64_t mpg = wd[0] / group, k = w->NumElements() / wd[0], expected_n = OutputPixels(y);
    packed_w_.clear();
    for (int64_t g = 0; g < group; ++g) {
      packed_w_.push_back(PackSgemmA(false, mpg, k, w->data<float>() + g * mpg * k, k, expected_n));
    }
  }

  // Packs the Winograd weights where the attributes and W suit; true when the path pays for the output size
  // known at load time (at batch 1, so at any batch).
  bool PackWinograd(const Tensor& w, const ValueType& y) {
    const Shape& wd = w.shape();
    if (!WinogradGeometry(wd) || !WinogradConv3x3::Enabled()) return false;
    winograd_.Pack(w.data<float>(), wd[0], wd[1], WinogradConv3x3::TileFor(OutputPixels(y)));
    if (!y.rank_known || y.dims.rank() != 4 || y.dims[2] <= 0 || y.dims[3] <= 0) return false;
    ConvCallGeometry g;
    g.batch = 1;
    g.in_channels = wd[1];
    g.out_channels = wd[0];
    g.n = 2;
    g.out[0] = y.dims[2];
    g.out[1] = y.dims[3];
    return winograd_.Pays(g);
  }

  // Whether the attributes and W [M, C, 3, 3] make every call a Winograd candidate (the input size may be
  // unknown until run time).
  bool WinogradGeometry(const Shape& wd) const {
    const WindowAttrs& win = attrs_.window;
    auto all_one = [](const std::vector<int64_t>& v) {
      return std::all_of(v.begin(), v.end(), [](int64_t e) { return e == 1; });
    };
    return wd.rank() == 4 && attrs_.group == 1 && wd[2] == 3 && wd[3] == 3 && all_one(win.strides) &&
           all_one(win.dilations);
  }

  ConvAttrs attrs_;
  Activation act_;
  std::vector<SgemmPacked> packed_w_;
  WinogradConv3x3 winograd_;
  const float* packed_from_ = nullptr;
};

}  // namespace

Status RegisterConvOps(OpRegistry& registry) {
  // Conv-11 only reworded auto_pad's description and made kernel inference explicit; one kernel serves both.
  return registry.Register(OpDef{"Conv", "", 1, kMaxOpset, {DataType::kFloat32, DataType::kFloat64}, 0,
                                 InferConv, MakeKernel<ConvKernel>});
}

}  // namespace edgeai::cpu
