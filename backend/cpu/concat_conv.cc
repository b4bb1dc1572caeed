// com.edgeai.ConcatConv: a 1x1 convolution (stride 1, no padding, one group) of the channel concatenation of its
// inputs, without the concatenation. Inputs: W [M, C, 1, 1] (constant), B [M] (optional, may be absent), then
// the parts X0..Xk [N, Ci, H, W] with the Ci summing to C; FusedConv's `activation` / `activation_params`.
// Output [N, M, H, W].
//
// The concat_conv_fusion pass makes it from Concat(axis 1) -> Conv where the Concat feeds nothing else
// (SqueezeNet's fire modules): the GEMM's B rows are read straight from the part each channel lives in, so the
// concatenated tensor is never written and read back (12 MB per fire module at batch 8).
#include <algorithm>
#include <string>

#include "backend/cpu/activation.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr char kDomain[] = "com.edgeai";
constexpr size_t kFirstPart = 2;
constexpr size_t kMaxParts = 8;  // the pass fuses no more (Inception-style blocks have 4)

Status InferConcatConv(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  if (ctx.num_inputs() < kFirstPart + 1) return ctx.Error("needs W, an optional B and at least one part");
  const ValueType& w = ctx.input(0);
  int64_t channels = 0;
  Shape out;
  for (size_t i = kFirstPart; i < ctx.num_inputs(); ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    const ValueType& x = ctx.input(i);
    if (!x.rank_known || x.dims.rank() != 4) return ctx.Error("part " + x.ToString() + " must be [N, C, H, W]");
    if (out.empty()) out = x.dims;
    for (size_t d : {size_t{0}, size_t{2}, size_t{3}}) {
      if (x.dims[d] >= 0 && out[d] >= 0 && x.dims[d] != out[d]) {
        return ctx.Error("parts disagree outside the channel axis: " + x.ToString());
      }
    }
    channels = channels < 0 || x.dims[1] < 0 ? -1 : channels + x.dims[1];
  }
  if (!w.rank_known || w.dims.rank() != 4 || w.dims[2] != 1 || w.dims[3] != 1) {
    return ctx.Error("W " + w.ToString() + " must be [M, C, 1, 1]");
  }
  if (channels >= 0 && w.dims[1] >= 0 && channels != w.dims[1]) {
    return ctx.Error("the parts hold " + std::to_string(channels) + " channels, W expects " +
                     std::to_string(w.dims[1]));
  }
  ctx.output(0) = ValueType::Of(ctx.input(kFirstPart).dtype, Shape{out[0], w.dims[0], out[2], out[3]});
  return Status::Ok();
}

class ConcatConvKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseActivation(ctx, &act_));
    const Tensor* w = ctx.input_value(0);
    if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() != 4) {
      return ctx.Error("W must be a constant float32 [M, C, 1, 1] tensor");
    }
    m_ = w->shape()[0];
    c_ = w->shape()[1];
    const ValueType& x = ctx.input(kFirstPart);
    const int64_t pixels = x.rank_known && x.dims.rank() == 4 && x.dims[2] > 0 && x.dims[3] > 0
                               ? x.dims[2] * x.dims[3]
                               : 0;
    packed_ = PackSgemmA(false, m_, c_, w->data<float>(), c_, pixels);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor* b = ctx.input(1);
    const size_t parts = ctx.num_inputs() - kFirstPart;
    if (parts > kMaxParts) return ctx.Error("takes at most " + std::to_string(kMaxParts) + " parts");
    const float* data[kMaxParts];
    int64_t first[kMaxParts + 1] = {0};  // first[i]: the concatenation's channel where part i starts
    const Tensor& x0 = *ctx.input(kFirstPart);
    if (x0.rank() != 4) return ctx.Error("part " + x0.Describe() + " must be [N, C, H, W]");
    const int64_t batch = x0.shape()[0], pixels = x0.shape()[2] * x0.shape()[3];
    for (size_t i = 0; i < parts; ++i) {
      const Tensor& x = *ctx.input(kFirstPart + i);
      if (x.dtype() != DataType::kFloat32 || x.rank() != 4 || x.shape()[0] != batch || x.shape()[2] != x0.shape()[2] ||
          x.shape()[3] != x0.shape()[3]) {
        return ctx.Error("part " + x.Describe() + " does not match " + x0.Describe());
      }
      data[i] = x.data<float>();
      first[i + 1] = first[i] + x.shape()[1];
    }
    if (first[parts] != c_) {
      return ctx.Error("the parts hold " + std::to_string(first[parts]) + " channels, W expects " + std::to_string(c_));
    }
    if (b != nullptr && (b->dtype() != DataType::kFloat32 || b->NumElements() != m_)) {
      return ctx.Error("B " + b->Describe() + " must hold " + std::to_string(m_) + " floats");
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{batch, m_, x0.shape()[2], x0.shape()[3]}));
    const OutputClamp clamp{act_.clamp_lo(), act_.clamp_hi()};
    const OutputClamp* fused = act_.IsClamp() ? &clamp : nullptr;
    const float* bias = b != nullptr ? b->data<float>() : nullptr;
    auto image = [&](int64_t img, const ThreadPool& pool) {
      // Row k of B is channel k of the concatenation: a plane of the part that holds it.
      auto rows = [&](int64_t k, int64_t j0, int64_t n, float* out) {
        size_t p = 0;
        while (k >= first[p + 1]) ++p;
        const int64_t cp = first[p + 1] - first[p];
        const float* src = data[p] + (img * cp + k - first[p]) * pixels + j0;
        std::copy(src, src + n, out);
      };
      float* yi = y->data<float>() + img * m_ * pixels;
      SgemmPackedA(packed_, pixels, rows, 1.0f, 0.0f, yi, pixels, pool, bias, fused);
      if (!act_.IsClamp()) ApplyActivation(yi, m_ * pixels, act_);
    };
    ForEachProduct(batch, ctx.pool(), image);
    return Status::Ok();
  }

 private:
  Activation act_;
  int64_t m_ = 0, c_ = 0;
  SgemmPacked packed_;
};

}  // namespace

Status RegisterConcatConvOps(OpRegistry& registry) {
  OpDef def;
  def.op_type = "ConcatConv";
  def.domain = kDomain;
  def.types = {DataType::kFloat32};
  def.type_input = kFirstPart;
  def.infer = InferConcatConv;
  def.create = MakeKernel<ConcatConvKernel>;
  return registry.Register(std::move(def));
}

}  // namespace edgeai::cpu
