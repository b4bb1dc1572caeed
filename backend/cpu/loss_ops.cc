// Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss over input [N, C, d1, ..., dk] and target
// [N, d1, ..., dk]. Both views are [N, C, D] with D = d1*...*dk, so one gather-and-reduce routine serves any
// number of extra dims; SoftmaxCrossEntropyLoss first takes the log-softmax over C (its optional second output).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

enum class Reduction { kNone, kSum, kMean };

Status ParseReduction(const InferenceContext& ctx, Reduction* out) {
  const std::string text = ctx.attrs().GetString("reduction", "mean");
  if (text == "none") {
    *out = Reduction::kNone;
  } else if (text == "sum") {
    *out = Reduction::kSum;
  } else if (text == "mean") {
    *out = Reduction::kMean;
  } else {
    return ctx.Error("reduction must be 'none', 'sum' or 'mean', got '" + text + "'");
  }
  return Status::Ok();
}

bool IsIndexType(DataType t) { return t == DataType::kInt32 || t == DataType::kInt64; }

// Checks the input / target / weight types against each other and sets output 0 (and 1, the log-probabilities
// of SoftmaxCrossEntropyLoss, shaped like the input).
Status InferLoss(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  Reduction reduction;
  EDGEAI_RETURN_IF_ERROR(ParseReduction(ctx, &reduction));
  const ValueType& x = ctx.input(0);
  const ValueType& target = ctx.input(1);
  if (!IsIndexType(target.dtype)) return ctx.Error("target must be int32 or int64, got " + target.ToString());
  if (x.rank_known && x.dims.rank() < 2) return ctx.Error("input " + x.ToString() + " must have rank 2 or more");
  if (x.rank_known && target.rank_known) {
    if (target.dims.rank() + 1 != x.dims.rank()) {
      return ctx.Error("target " + target.ToString() + " must have rank one less than input " + x.ToString());
    }
    for (size_t i = 0; i < target.dims.rank(); ++i) {
      const int64_t xd = x.dims[i == 0 ? 0 : i + 1];
      const int64_t td = target.dims[i];
      if (xd >= 0 && td >= 0 && xd != td) {
        return ctx.Error("target " + target.ToString() + " does not match input " + x.ToString() +
                         " (expected [N, d1, ..., dk] of input [N, C, d1, ..., dk])");
      }
    }
  }
  if (ctx.has_input(2)) {
    const ValueType& w = ctx.input(2);
    if (w.dtype != x.dtype) return ctx.Error("weight " + w.ToString() + " must have the input's dtype");
    if (w.rank_known && w.dims.rank() != 1) return ctx.Error("weight " + w.ToString() + " must be 1-D [C]");
    if (w.rank_known && x.rank_known && w.dims[0] >= 0 && x.dims[1] >= 0 && w.dims[0] != x.dims[1]) {
      return ctx.Error("weight " + w.ToString() + " must have C = " + std::to_string(x.dims[1]) + " elements");
    }
  }
  if (reduction != Reduction::kNone) {
    ctx.output(0) = ValueType::Of(x.dtype, Shape{});
  } else if (target.rank_known) {
    ctx.output(0) = ValueType::Of(x.dtype, target.dims);
  } else if (x.rank_known) {
    Shape dims = x.dims;
    dims.erase(1);
    ctx.output(0) = ValueType::Of(x.dtype, dims);
  } else {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
  }
  if (ctx.num_outputs() > 1) ctx.output(1) = x;
  return Status::Ok();
}

struct LossDims {
  int64_t n, c, d;
};

template <typename Ind>
Status CheckTarget(const KernelContext& ctx, const Ind* target, int64_t count, int64_t classes, bool has_ignore,
                   int64_t ignore_index) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t t = static_cast<int64_t>(target[i]);
    if (has_ignore && t == ignore_index) continue;
    if (t < 0 || t >= classes) {
      return ctx.Error("target value " + std::to_string(t) + " is out of range [0, " + std::to_string(classes) + ")");
    }
  }
  return Status::Ok();
}

// loss[n, d] = -w[t] * x[n, t, d] with t = target[n, d] (0 where t is ignored); then the reduction, where
// "mean" divides by the sum of the weights that were applied.
template <typename T, typename Ind>
void GatherLoss(const T* x, const Ind* target, const T* weight, LossDims dims, bool has_ignore, int64_t ignore_index,
                Reduction reduction, T* out) {
  double total = 0.0;
  double weight_sum = 0.0;
  for (int64_t n = 0; n < dims.n; ++n) {
    const T* xn = x + n * dims.c * dims.d;
    const Ind* tn = target + n * dims.d;
    for (int64_t d = 0; d < dims.d; ++d) {
      const int64_t t = static_cast<int64_t>(tn[d]);
      T loss = T(0);
      T w = T(0);
      if (!has_ignore || t != ignore_index) {
        w = weight != nullptr ? weight[t] : T(1);
        loss = -xn[t * dims.d + d] * w;
      }
      if (reduction == Reduction::kNone) {
        out[n * dims.d + d] = loss;
      } else {
        total += static_cast<double>(loss);
        weight_sum += static_cast<double>(w);
      }
    }
  }
  if (reduction == Reduction::kSum) *out = static_cast<T>(total);
  // 0 / 0 (every target ignored) gives NaN, as the reference does.
  if (reduction == Reduction::kMean) *out = static_cast<T>(total / weight_sum);
}

// log_softmax over the C axis of each [C, D] block; D is the contiguous axis, so the loops over it vectorise.
template <typename T>
void LogSoftmaxOverC(const ThreadPool& pool, const T* x, T* y, LossDims dims) {
  const int64_t block = dims.c * dims.d;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, block));
  pool.ParallelFor(dims.n, grain, [&](int64_t begin, int64_t end) {
    thread_local std::vector<T> scratch;
    if (scratch.size() < static_cast<size_t>(2 * dims.d)) scratch.resize(static_cast<size_t>(2 * dims.d));
    T* mx = scratch.data();
    T* sum = mx + dims.d;
    for (int64_t n = begin; n < end; ++n) {
      const T* xn = x + n * block;
      T* yn = y + n * block;
      std::copy(xn, xn + dims.d, mx);
      for (int64_t c = 1; c < dims.c; ++c) {
        const T* row = xn + c * dims.d;
        for (int64_t d = 0; d < dims.d; ++d) mx[d] = row[d] > mx[d] ? row[d] : mx[d];
      }
      std::fill(sum, sum + dims.d, T(0));
      for (int64_t c = 0; c < dims.c; ++c) {
        const T* row = xn + c * dims.d;
        T* out = yn + c * dims.d;
        for (int64_t d = 0; d < dims.d; ++d) {
          out[d] = row[d] - mx[d];
          sum[d] += std::exp(out[d]);
        }
      }
      for (int64_t d = 0; d < dims.d; ++d) sum[d] = std::log(sum[d]);
      for (int64_t c = 0; c < dims.c; ++c) {
        T* out = yn + c * dims.d;
        for (int64_t d = 0; d < dims.d; ++d) out[d] -= sum[d];
      }
    }
  });
}

template <bool kSoftmax>
class LossKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseReduction(ctx, &reduction_));
    has_ignore_ = ctx.attrs().Has("ignore_index");
    ignore_index_ = ctx.attrs().GetInt("ignore_index", 0);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& target = *ctx.input(1);
    const Tensor* weight = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const Shape& xs = x.shape();
    LossDims dims{xs[0], xs[1], xs.SizeFromTo(2, xs.rank())};
    if (weight != nullptr && weight->NumElements() != dims.c) {
      return ctx.Error("weight " + weight->Describe() + " must have C = " + std::to_string(dims.c) + " elements");
    }
    const int64_t count = target.NumElements();
    Status valid = target.dtype() == DataType::kInt64
                       ? CheckTarget(ctx, target.data<int64_t>(), count, dims.c, has_ignore_, ignore_index_)
                       : CheckTarget(ctx, target.data<int32_t>(), count, dims.c, has_ignore_, ignore_index_);
    EDGEAI_RETURN_IF_ERROR(valid);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    Tensor* log_prob = nullptr;
    if (kSoftmax && ctx.num_outputs() > 1) {
      EDGEAI_ASSIGN_OR_RETURN(log_prob, ctx.Output(1, xs));
    }
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* probs = x.data<T>();
      if constexpr (kSoftmax) {
        T* dst = nullptr;
        thread_local std::vector<T> scratch;
        if (log_prob != nullptr) {
          dst = log_prob->data<T>();
        } else {
          if (scratch.size() < static_cast<size_t>(x.NumElements())) scratch.resize(x.NumElements());
          dst = scratch.data();
        }
        LogSoftmaxOverC(ctx.pool(), x.data<T>(), dst, dims);
        probs = dst;
      }
      const T* w = weight != nullptr ? weight->data<T>() : nullptr;
      if (target.dtype() == DataType::kInt64) {
        GatherLoss(probs, target.data<int64_t>(), w, dims, has_ignore_, ignore_index_, reduction_, out->data<T>());
      } else {
        GatherLoss(probs, target.data<int32_t>(), w, dims, has_ignore_, ignore_index_, reduction_, out->data<T>());
      }
      return Status::Ok();
    });
  }

 private:
  Reduction reduction_ = Reduction::kMean;
  bool has_ignore_ = false;
  int64_t ignore_index_ = 0;
};

OpDef LossDef(const char* op, KernelFactory create) {
  OpDef def;
  def.op_type = op;
  def.since_version = 12;  // 12 and 13 differ only in the accepted types
  def.types = {DataType::kFloat32, DataType::kFloat64};
  def.infer = InferLoss;
  def.create = create;
  return def;
}

}  // namespace

Status RegisterLossOps(OpRegistry& registry) {
  EDGEAI_RETURN_IF_ERROR(registry.Register(LossDef("NegativeLogLikelihoodLoss", MakeKernel<LossKernel<false>>)));
  return registry.Register(LossDef("SoftmaxCrossEntropyLoss", MakeKernel<LossKernel<true>>));
}

}  // namespace edgeai::cpu
