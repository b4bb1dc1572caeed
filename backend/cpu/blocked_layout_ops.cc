// com.edgeai ops of the channel-blocked layout (blocked_layout.h), which the blocked_layout pass
// (graph/passes/blocked_layout.cc) puts in place of runs of 1x1 and depthwise convolutions:
//   ReorderToBlocked   X [N, C, H, W]          -> Y [N, C/16, H, W, 16]   (C a multiple of 16)
//   ReorderFromBlocked X [N, C/16, H, W, 16]   -> Y [N, C, H, W]
//   BlockedConv        X [N, C/16, H, W, 16], W [M, C/group, kH, kW], B [M] (optional)
//                      -> Y [N, M/16, OH, OW, 16]; a pointwise (1x1, stride 1, no padding, group 1) or
//                      depthwise 3x3 (group = C = M) convolution with explicit `strides` and `pads`, and
//                      FusedConv's `activation` / `activation_params`.
// Blocked tensors are plain float32 tensors of rank 5, so shape inference, the memory plan and elementwise ops
// (Add between two blocked tensors of one shape) need nothing special. The kernels are AVX-512, with scalar
// loops elsewhere (the pass only runs where AVX-512 does).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/blocked_layout.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"

namespace edgeai::cpu {
namespace {

using blocked::kBlock;
constexpr char kDomain[] = "com.edgeai";

bool UseAvx512() { return ActiveSgemmIsa() == SgemmIsa::kAvx512; }

// ---- Reorders ------------------------------------------------------------------------------------------------

Status InferToBlocked(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known || x.dims.rank() != 4) return ctx.Error("X must be [N, C, H, W], got " + x.ToString());
  const int64_t c = x.dims[1];
  if (c >= 0 && c % kBlock != 0) return ctx.Error("channels (" + std::to_string(c) + ") must be a multiple of 16");
  ctx.output(0) = ValueType::Of(x.dtype, Shape{x.dims[0], c < 0 ? -1 : c / kBlock, x.dims[2], x.dims[3], kBlock});
  return Status::Ok();
}

Status InferFromBlocked(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known || x.dims.rank() != 5 || x.dims[4] != kBlock) {
    return ctx.Error("X must be [N, C/16, H, W, 16], got " + x.ToString());
  }
  const int64_t cb = x.dims[1];
  ctx.output(0) = ValueType::Of(x.dtype, Shape{x.dims[0], cb < 0 ? -1 : cb * kBlock, x.dims[2], x.dims[3]});
  return Status::Ok();
}

template <bool kToBlocked>
class ReorderKernel final : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& d = x.shape();
    if (x.dtype() != DataType::kFloat32 || d.rank() != (kToBlocked ? 4u : 5u) ||
        (kToBlocked ? d[1] % kBlock != 0 : d[4] != kBlock)) {
      return ctx.Error("unexpected input " + x.Describe());
    }
    const int64_t n = d[0], blocks = kToBlocked ? d[1] / kBlock : d[1], pixels = d[2] * d[3];
    const Shape out = kToBlocked ? Shape{n, blocks, d[2], d[3], kBlock} : Shape{n, blocks * kBlock, d[2], d[3]};
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out));
    const float* src = x.data<float>();
    float* dst = y->data<float>();
    if (UseAvx512()) {
      if (kToBlocked) {
        blocked::ToBlockedAvx512(src, n, blocks, pixels, dst, ctx.pool());
      } else {
        blocked::FromBlockedAvx512(src, n, blocks, pixels, dst, ctx.pool());
      }
      return Status::Ok();
    }
    ctx.pool().ParallelFor(n * blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float* s = src + i * kBlock * pixels;
        float* t = dst + i * kBlock * pixels;
        for (int64_t c = 0; c < kBlock; ++c) {
          for (int64_t p = 0; p < pixels; ++p) {
            if (kToBlocked) {
              t[p * kBlock + c] = s[c * pixels + p];
            } else {
              t[c * pixels + p] = s[p * kBlock + c];
            }
          }
        }
      }
    });
    return Status::Ok();
  }
};

// ---- BlockedConv ---------------------------------------------------------------------------------------------

struct BlockedConvAttrs {
  int64_t group = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pads[4] = {0, 0, 0, 0};  // top, left, bottom, right
};

Status ParseBlockedConvAttrs(const InferenceContext& ctx, BlockedConvAttrs* a) {
  a->group = ctx.attrs().GetInt("group", 1);
  const std::vector<int64_t> strides = ctx.attrs().GetInts("strides", {1, 1});
  const std::vector<int64_t> pads = ctx.attrs().GetInts("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || pads.size() != 4 || strides[0] < 1 || strides[1] < 1 || a->group < 1) {
    return ctx.Error("needs 2 positive strides, 4 pads and a positive group");
  }
  a->stride_h = strides[0];
  a->stride_w = strides[1];
  for (int i = 0; i < 4; ++i) {
    if (pads[i] < 0) return ctx.Error("pads must not be negative");
    a->pads[i] = pads[i];
  }
  return Status::Ok();
}

// The kind of convolution W and the attributes make: 1 pointwise, 2 depthwise 3x3, 0 neither.
int ConvKind(const BlockedConvAttrs& a, const Shape& w, int64_t in_channels) {
  if (w.rank() != 4) return 0;
  const bool no_pad = a.pads[0] == 0 && a.pads[1] == 0 && a.pads[2] == 0 && a.pads[3] == 0;
  if (a.group == 1 && w[1] == in_channels && w[2] == 1 && w[3] == 1 && a.stride_h == 1 && a.stride_w == 1 &&
      no_pad) {
    return 1;
  }
  if (a.group == in_channels && w[0] == in_channels && w[1] == 1 && w[2] == 3 && w[3] == 3) return 2;
  return 0;
}

Status InferBlockedConv(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  BlockedConvAttrs a;
  EDGEAI_RETURN_IF_ERROR(ParseBlockedConvAttrs(ctx, &a));
  const ValueType& x = ctx.input(0);
  const ValueType& w = ctx.input(1);
  if (!x.rank_known || x.dims.rank() != 5 || x.dims[1] < 0 || x.dims[2] < 0 || x.dims[3] < 0 || x.dims[4] != kBlock ||
      !w.IsFullyKnown() || w.dims.rank() != 4) {
    return ctx.Error("X must be [N, C/16, H, W, 16] and W [M, C/group, kH, kW] with known dims (but N), got " +
                     x.ToString() + " and " + w.ToString());
  }
  const int64_t c = x.dims[1] * kBlock, m = w.dims[0];
  if (ConvKind(a, w.dims, c) == 0 || m % kBlock != 0) {
    return ctx.Error("only 1x1 and depthwise 3x3 convolutions over multiples of 16 channels run blocked; W is " +
                     w.ToString() + " for " + std::to_string(c) + " input channels");
  }
  const int64_t oh = (x.dims[2] + a.pads[0] + a.pads[2] - w.dims[2]) / a.stride_h + 1;
  const int64_t ow = (x.dims[3] + a.pads[1] + a.pads[3] - w.dims[3]) / a.stride_w + 1;
  if (oh < 1 || ow < 1) return ctx.Error("the window is larger than the padded input");
  ctx.output(0) = ValueType::Of(x.dtype, Shape{x.dims[0], m / kBlock, oh, ow, kBlock});
  return Status::Ok();
}

class BlockedConvKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseBlockedConvAttrs(ctx, &attrs_));
    EDGEAI_RETURN_IF_ERROR(ParseActivation(ctx, &act_));
    const Tensor* w = ctx.input_value(1);
    if (w == nullptr || w->dtype() != DataType::kFloat32) return ctx.Error("W must be a constant float32 tensor");
    const Shape& wd = w->shape();
    const ValueType& x = ctx.input(0);
    if (!x.rank_known || x.dims.rank() != 5 || x.dims[1] < 0) return ctx.Error("X must be [N, C/16, H, W, 16]");
    in_channels_ = x.dims[1] * kBlock;
    kind_ = ConvKind(attrs_, wd, in_channels_);
    if (kind_ == 0 || wd[0] % kBlock != 0) return ctx.Error("W " + wd.ToString() + " does not suit BlockedConv");
    out_channels_ = wd[0];
    const float* wv = w->data<float>();
    if (kind_ == 1) {
      // [panel][c][32], zero-padded past M.
      const int64_t panels = (out_channels_ + 31) / 32;
      packed_.assign(static_cast<size_t>(panels * in_channels_ * 32), 0.0f);
      for (int64_t m = 0; m < out_channels_; ++m) {
        float* dst = packed_.data() + (m / 32) * in_channels_ * 32 + m % 32;
        for (int64_t c = 0; c < in_channels_; ++c) dst[c * 32] = wv[m * in_channels_ + c];
      }
    } else {
      // [block][tap][16].
      packed_.assign(static_cast<size_t>(out_channels_ * 9), 0.0f);
      for (int64_t m = 0; m < out_channels_; ++m) {
        for (int64_t k = 0; k < 9; ++k) packed_[static_cast<size_t>(((m / kBlock) * 9 + k) * kBlock + m % kBlock)] = wv[m * 9 + k];
      }
    }
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor* b = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const Shape& d = x.shape();
    if (x.dtype() != DataType::kFloat32 || d.rank() != 5 || d[1] * kBlock != in_channels_ || d[4] != kBlock) {
      return ctx.Error("X " + x.Describe() + " does not match the weights");
    }
    if (b != nullptr && (b->dtype() != DataType::kFloat32 || b->NumElements() != out_channels_)) {
      return ctx.Error("B " + b->Describe() + " must hold " + std::to_string(out_channels_) + " floats");
    }
    blocked::ConvGeometry g;
    g.batch = d[0];
    g.in_blocks = d[1];
    g.out_blocks = out_channels_ / kBlock;
    g.in_h = d[2];
    g.in_w = d[3];
    const int64_t kernel = kind_ == 1 ? 1 : 3;
    g.out_h = (g.in_h + attrs_.pads[0] + attrs_.pads[2] - kernel) / attrs_.stride_h + 1;
    g.out_w = (g.in_w + attrs_.pads[1] + attrs_.pads[3] - kernel) / attrs_.stride_w + 1;
    g.stride_h = attrs_.stride_h;
    g.stride_w = attrs_.stride_w;
    g.pad_top = attrs_.pads[0];
    g.pad_left = attrs_.pads[1];
    if (g.out_h < 1 || g.out_w < 1) return ctx.Error("the window is larger than the padded input " + x.Describe());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{g.batch, g.out_blocks, g.out_h, g.out_w, kBlock}));
    const float* bias = b != nullptr ? b->data<float>() : nullptr;
    const OutputClamp clamp{act_.clamp_lo(), act_.clamp_hi()};
    const OutputClamp* fused = act_.IsClamp() ? &clamp : nullptr;
    float* out = y->data<float>();
    if (UseAvx512()) {
      if (kind_ == 1) {
        blocked::PointwiseWeights w{packed_.data(), bias, in_channels_, out_channels_};
        blocked::PointwiseAvx512(g, x.data<float>(), w, fused, out, ctx.pool());
      } else {
        blocked::DepthwiseWeights w{packed_.data(), bias};
        blocked::DepthwiseAvx512(g, x.data<float>(), w, fused, out, ctx.pool());
      }
    } else {
      Portable(g, x.data<float>(), bias, out, ctx.pool());
      if (fused != nullptr) ApplyActivation(out, y->NumElements(), act_);
    }
    if (fused == nullptr && !act_.none()) {
      ctx.pool().ParallelFor(y->NumElements(), 1 << 14, [&](int64_t begin, int64_t end) {
        ApplyActivation(out + begin, end - begin, act_);
      });
    }
    return Status::Ok();
  }

 private:
  // Scalar loops over the same layouts, for CPUs without AVX-512.
  void Portable(const blocked::ConvGeometry& g, const float* x, const float* bias, float* y,
                const ThreadPool& pool) const {
    const int64_t in_plane = g.in_h * g.in_w * kBlock, out_pixels = g.out_h * g.out_w;
    pool.ParallelFor(g.batch * g.out_blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t img = i / g.out_blocks, ob = i % g.out_blocks;
        float* yb = y + i * out_pixels * kBlock;
        for (int64_t p = 0; p < out_pixels; ++p) {
          const int64_t oy = p / g.out_w, ox = p % g.out_w;
          for (int64_t l = 0; l < kBlock; ++l) {
            const int64_t m = ob * kBlock + l;
            float acc = bias != nullptr ? bias[m] : 0.0f;
            if (kind_ == 1) {
              const float* w = packed_.data() + (m / 32) * in_channels_ * 32 + m % 32;
              for (int64_t c = 0; c < in_channels_; ++c) {
                acc += x[(img * g.in_blocks + c / kBlock) * in_plane + p * kBlock + c % kBlock] * w[c * 32];
              }
            } else {
              const float* xb = x + (img * g.in_blocks + ob) * in_plane;
              for (int64_t k = 0; k < 9; ++k) {
                const int64_t iy = oy * g.stride_h - g.pad_top + k / 3, ix = ox * g.stride_w - g.pad_left + k % 3;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                acc += xb[(iy * g.in_w + ix) * kBlock + l] * packed_[static_cast<size_t>((ob * 9 + k) * kBlock + l)];
              }
            }
            yb[p * kBlock + l] = acc;
          }
        }
      }
    });
  }

  BlockedConvAttrs attrs_;
  Activation act_;
  int kind_ = 0;
  int64_t in_channels_ = 0, out_channels_ = 0;
  std::vector<float> packed_;
};

OpDef Def(const char* op, InferFn infer, KernelFactory create) {
  OpDef def;
  def.op_type = op;
  def.domain = kDomain;
  def.types = {DataType::kFloat32};
  def.infer = infer;
  def.create = create;
  return def;
}

}  // namespace

bool BlockedLayoutPays() {
  static const bool disabled = [] {
    const char* v = std::getenv("EDGEAI_BLOCKED_LAYOUT");
    return v != nullptr && std::string(v) == "0";
  }();
  return !disabled && UseAvx512();
}

Status RegisterBlockedLayoutOps(OpRegistry& registry) {
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("ReorderToBlocked", InferToBlocked, MakeKernel<ReorderKernel<true>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("ReorderFromBlocked", InferFromBlocked, MakeKernel<ReorderKernel<false>>)));
  return registry.Register(Def("BlockedConv", InferBlockedConv, MakeKernel<BlockedConvKernel>));
}

}  // namespace edgeai::cpu
