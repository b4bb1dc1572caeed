// ConvTranspose (opsets 1..): N-D transposed convolution with groups, strides, dilations, pads, auto_pad,
// output_padding and output_shape.
//
// Geometry per spatial axis, as the spec writes it (x size `in`, stride s, dilation d, kernel k):
//   full = s * (in - 1) + output_padding + (k - 1) * d + 1
//   pads given (NOTSET):   out = full - pad_begin - pad_end
//   VALID:                 out = full, no padding
//   SAME_UPPER/SAME_LOWER: out = in * s
//   output_shape given:    out = output_shape (pads ignored)
// and, for the last two, total = full - out with pad_begin = floor(total / 2) for SAME_UPPER and
// total - floor(total / 2) otherwise. Output index o holds full-output index o + pad_begin; a negative total
// (output_shape past the full size) leaves the extra positions at the bias.
//
// Compute, per (image, group): col[Mg * K, in_size] = W_g^T [Mg * K, Cg] x X_g [Cg, in_size] through
// Sgemm/Dgemm, then col2im scatters every column into the output plane, which starts as the bias.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

struct TransposeAttrs {
  WindowAttrs window;
  std::vector<int64_t> output_padding;
  std::vector<int64_t> output_shape;
  int64_t group = 1;
};

Status ParseTransposeAttrs(const InferenceContext& ctx, TransposeAttrs* out) {
  Status s = ParseWindowAndGroup(ctx.attrs(), &out->window, &out->group);
  if (!s.ok()) return ctx.Error(s.message());
  out->output_padding = ctx.attrs().GetInts("output_padding");
  out->output_shape = ctx.attrs().GetInts("output_shape");
  for (int64_t v : out->output_padding) {
    if (v < 0) return ctx.Error("output_padding values must be non-negative");
  }
  for (int64_t v : out->output_shape) {
    if (v < 0) return ctx.Error("output_shape values must be non-negative");
  }
  return Status::Ok();
}

int64_t FloorHalf(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

// Output size and begin padding of every spatial axis. `in` may hold -1 (unknown at load time), which gives
// -1 outputs unless output_shape fixes them. Errors carry no node name.
Status TransposeGeometry(const TransposeAttrs& a, const int64_t* in, const int64_t* kernel, size_t n, int64_t* out,
                         int64_t* pad_begin) {
  const WindowAttrs& w = a.window;
  auto check_len = [n](const std::vector<int64_t>& v, size_t want, const char* name) {
    return v.empty() || v.size() == want ? Status::Ok()
                                         : InvalidArgument(std::string(name) + " has " + std::to_string(v.size()) +
                                                           " values for " + std::to_string(n) + " spatial axes");
  };
  EDGEAI_RETURN_IF_ERROR(check_len(w.strides, n, "strides"));
  EDGEAI_RETURN_IF_ERROR(check_len(w.dilations, n, "dilations"));
  EDGEAI_RETURN_IF_ERROR(check_len(w.pads, 2 * n, "pads"));
  EDGEAI_RETURN_IF_ERROR(check_len(a.output_padding, n, "output_padding"));
  if (!a.output_shape.empty() && a.output_shape.size() != n && a.output_shape.size() != n + 2) {
    return InvalidArgument("output_shape has " + std::to_string(a.output_shape.size()) + " values for " +
                           std::to_string(n) + " spatial axes");
  }
  const size_t shape_shift = a.output_shape.size() == n + 2 ? 2 : 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t s = w.strides.empty() ? 1 : w.strides[i];
    const int64_t d = w.dilations.empty() ? 1 : w.dilations[i];
    const int64_t op = a.output_padding.empty() ? 0 : a.output_padding[i];
    const int64_t full = in[i] < 0 ? -1 : s * (in[i] - 1) + op + (kernel[i] - 1) * d + 1;
    int64_t target = -1;
    if (!a.output_shape.empty()) {
      target = a.output_shape[i + shape_shift];
    } else if (w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower) {
      target = in[i] < 0 ? -1 : in[i] * s;
    } else {
      const int64_t pb = w.auto_pad == AutoPad::kValid || w.pads.empty() ? 0 : w.pads[i];
      const int64_t pe = w.auto_pad == AutoPad::kValid || w.pads.empty() ? 0 : w.pads[i + n];
      pad_begin[i] = pb;
      out[i] = full < 0 ? -1 : full - pb - pe;
      if (full >= 0 && out[i] < 0) {
        return InvalidArgument("pads " + std::to_string(pb) + "+" + std::to_string(pe) + " leave no output on axis " +
                               std::to_string(i));
      }
      continue;
    }
    out[i] = target;
    const int64_t total = full < 0 || target < 0 ? 0 : full - target;
    pad_begin[i] = w.auto_pad == AutoPad::kSameUpper ? FloorHalf(total) : total - FloorHalf(total);
  }
  return Status::Ok();
}

// Y's dims from X [N, C, D..] and W [C, M/group, k..] (either may hold -1 dims).
Status InferTransposeDims(const TransposeAttrs& a, const Shape& x, const Shape& w, Shape* out) {
  if (x.rank() < 3 || w.rank() != x.rank()) {
    return InvalidArgument("X " + x.ToString() + " and W " + w.ToString() +
                           " must have the same rank >= 3 (N x C x D1 ...)");
  }
  const size_t n = x.rank() - 2;
  if (n > kMaxConvSpatial) return InvalidArgument("at most 6 spatial axes are supported");
  if (x[1] >= 0 && w[0] >= 0 && x[1] != w[0]) {
    return InvalidArgument("W " + w.ToString() + " must have one filter set per input channel of X " +
                           x.ToString() + " (W dim 0 == C)");
  }
  if (x[1] >= 0 && x[1] % a.group != 0) {
    return InvalidArgument("group " + std::to_string(a.group) + " does not divide the " + std::to_string(x[1]) +
                           " input channels");
  }
  int64_t in[kMaxConvSpatial], kernel[kMaxConvSpatial], sizes[kMaxConvSpatial], pads[kMaxConvSpatial];
  EDGEAI_RETURN_IF_ERROR(ResolveConvKernel(a.window.kernel_shape, x, w, "W", in, kernel));
  EDGEAI_RETURN_IF_ERROR(TransposeGeometry(a, in, kernel, n, sizes, pads));
  *out = Shape{x[0], w[1] < 0 ? -1 : w[1] * a.group};
  for (size_t i = 0; i < n; ++i) out->push_back(sizes[i]);
  return Status::Ok();
}

Status InferConvTranspose(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& w = ctx.input(1);
  if (w.dtype != x.dtype) {
    return ctx.Error("W has dtype " + std::string(DataTypeName(w.dtype)) + " but X has " +
                     std::string(DataTypeName(x.dtype)));
  }
  if (ctx.has_input(2)) {
    const ValueType& b = ctx.input(2);
    if (b.dtype != x.dtype) return ctx.Error("bias B has dtype " + std::string(DataTypeName(b.dtype)));
    if (b.rank_known && b.dims.rank() != 1) return ctx.Error("bias B " + b.dims.ToString() + " must be 1-D");
  }
  TransposeAttrs attrs;
  EDGEAI_RETURN_IF_ERROR(ParseTransposeAttrs(ctx, &attrs));
  if (!x.rank_known && !w.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  Shape xd = x.rank_known ? x.dims : Shape();
  Shape wd = w.rank_known ? w.dims : Shape();
  if (!x.rank_known) xd.resize(wd.rank(), -1);
  if (!w.rank_known) wd.resize(xd.rank(), -1);
  Shape out;
  Status s = InferTransposeDims(attrs, xd, wd, &out);
  if (!s.ok()) return ctx.Error(s.message());
  if (ctx.has_input(2) && ctx.input(2).rank_known && ctx.input(2).dims[0] >= 0 && out[1] >= 0 &&
      ctx.input(2).dims[0] != out[1]) {
    return ctx.Error("bias B " + ctx.input(2).dims.ToString() + " must have one value per output channel (" +
                     std::to_string(out[1]) + ")");
  }
  ctx.output(0) = ValueType::Of(x.dtype, out);
  return Status::Ok();
}

using TransposeProblem = ConvCallGeometry;

Status BuildProblem(const TransposeAttrs& a, const Shape& x, const Shape& w, TransposeProblem* p) {
  Shape out;
  EDGEAI_RETURN_IF_ERROR(InferTransposeDims(a, x, w, &out));
  const size_t n = x.rank() - 2;
  EDGEAI_RETURN_IF_ERROR(TransposeGeometry(a, x.data() + 2, w.data() + 2, n, p->out, p->pad));
  SetConvSpatial(x, w, a.window, p->out, p->pad, p);
  p->batch = x[0];
  p->in_channels = x[1];
  p->out_channels = out[1];
  p->group = a.group;
  return Status::Ok();
}

void GemmT(const GemmShape& s, const float* a, const float* b, float* c, const ThreadPool& pool) {
  Sgemm(s, 1.0f, a, b, 0.0f, c, pool);
}
void GemmT(const GemmShape& s, const double* a, const double* b, double* c, const ThreadPool& pool) {
  Dgemm(s, 1.0, a, b, 0.0, c, pool);
}

// Adds the column-matrix row of kernel offset `kidx` (one value per input position) into output plane y.
template <typename T>
void Col2ImRow(const T* src, const TransposeProblem& p, int64_t kidx, T* y) {
  const size_t last = p.n - 1;
  int64_t offset[kMaxConvSpatial], out_stride[kMaxConvSpatial];
  KernelTapOffsets(p, kidx, p.out, offset, out_stride);
  const int64_t iw = p.in[last], sw = p.stride[last], off = offset[last];
  int64_t lo, hi;  // input columns j with 0 <= j * sw + off < ow
  TapRange(off, sw, p.out[last], iw, &lo, &hi);
  ForEachTapRow(p, p.in, p.out, offset, out_stride, [&](bool inside, int64_t base) {
    if (inside) {
      T* dst = y + base + off;
      if (sw == 1) {
        for (int64_t j = lo; j < hi; ++j) dst[j] += src[j];
      } else {
        for (int64_t j = lo; j < hi; ++j) dst[j * sw] += src[j];
      }
    }
    src += iw;
  });
}

// One (image, group): the product into thread-local scratch, then col2im per output channel.
template <typename T>
void TransposeItem(const TransposeProblem& p, const T* x, const T* w, const T* bias, T* y, int64_t item,
                   const ThreadPool& pool) {
  const int64_t img = item / p.group, g = item % p.group;
  const int64_t cpg = p.cpg(), mpg = p.mpg();
  T* yg = y + (img * p.out_channels + g * mpg) * p.out_size;
  for (int64_t m = 0; m < mpg; ++m) {
    std::fill(yg + m * p.out_size, yg + (m + 1) * p.out_size, bias ? bias[g * mpg + m] : T(0));
  }
  if (cpg == 0 || p.in_size == 0 || p.kernel_size == 0) return;
  GemmShape s;
  s.trans_a = true;
  s.m = mpg * p.kernel_size;
  s.n = p.in_size;
  s.k = cpg;
  s.lda = s.m;
  s.ldb = p.in_size;
  s.ldc = p.in_size;
  thread_local std::vector<T> scratch;
  const size_t need = static_cast<size_t>(s.m * s.n);
  if (scratch.size() < need) scratch.resize(need);
  T* col = scratch.data();
  GemmT(s, w + g * cpg * s.m, x + (img * p.in_channels + g * cpg) * p.in_size, col, pool);
  const int64_t work = std::max<int64_t>(1, p.kernel_size * p.in_size);
  pool.ParallelFor(mpg, std::max<int64_t>(1, 16384 / work), [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      for (int64_t kidx = 0; kidx < p.kernel_size; ++kidx) {
        Col2ImRow(col + (m * p.kernel_size + kidx) * p.in_size, p, kidx, yg + m * p.out_size);
      }
    }
  });
}

template <typename T>
void RunTranspose(const TransposeProblem& p, const T* x, const T* w, const T* bias, T* y, const ThreadPool& pool) {
  if (p.batch == 0 || p.out_channels == 0 || p.out_size == 0) return;
  ForEachConvItem(p.batch * p.group, pool, ThreadPool::Serial(), [&](int64_t item, const ThreadPool& item_pool) {
    TransposeItem(p, x, w, bias, y, item, item_pool);
  });
}

class ConvTransposeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseTransposeAttrs(ctx, &attrs_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& w = *ctx.input(1);
    const Tensor* b = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    TransposeProblem p;
    Status s = BuildProblem(attrs_, x.shape(), w.shape(), &p);
    if (!s.ok()) return ctx.Error(s.message());
    if (b != nullptr && b->NumElements() != p.out_channels) {
      return ctx.Error("bias B " + b->Describe() + " must have one value per output channel (" +
                       std::to_string(p.out_channels) + ")");
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (y->NumElements() != p.batch * p.out_channels * p.out_size) {
      return ctx.Error("output " + y->Describe() + " does not match X " + x.Describe() + " and W " + w.Describe());
    }
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      RunTranspose<T>(p, x.data<T>(), w.data<T>(), b ? b->data<T>() : nullptr, y->data<T>(), ctx.pool());
      return Status::Ok();
    });
  }

 private:
  TransposeAttrs attrs_;
};

}  // namespace

Status RegisterConvTransposeOps(OpRegistry& registry) {
  // Opset 11 only rewrote the output_shape / auto_pad description into the formulas above; one kernel serves
  // both ranges.
  return registry.Register(OpDef{"ConvTranspose", "", 1, kMaxOpset, {DataType::kFloat32, DataType::kFloat64}, 0,
                                 InferConvTranspose, MakeKernel<ConvTransposeKernel>});
}

}  // namespace edgeai::cpu
