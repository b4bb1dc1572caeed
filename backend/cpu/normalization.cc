// Normalisations: Softmax, LogSoftmax, LayerNormalization, BatchNormalization (inference, and training mode
// from opset 14) and InstanceNormalization. Each is a per-row (or per-plane) computation; rows are split over the
// pool and every row is processed with contiguous loops (Eigen's vectorised exp for the softmax family).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/vector_math.h"
#include "backend/shape_util.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr int64_t kWorkPerChunk = 1 << 14;  // elements per parallel chunk, at least
constexpr int64_t kColumnChunk = 256;       // strided softmax: columns handled together (stack buffers)

int64_t Grain(int64_t work_per_item) {
  return std::max<int64_t>(1, kWorkPerChunk / std::max<int64_t>(1, work_per_item));
}

template <typename T>
using ConstArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using MutArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Mean and (biased) variance of p[0..n), two passes for accuracy, accumulated in A with independent lanes.
template <typename A, typename T>
void MeanVar(const T* p, int64_t n, A* mean, A* var) {
  constexpr int kLanes = 8;
  A lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += static_cast<A>(p[i + l]);
  }
  for (; i < n; ++i) lanes[0] += static_cast<A>(p[i]);
  A sum = 0;
  for (A l : lanes) sum += l;
  const A m = sum / static_cast<A>(n);
  std::fill(lanes, lanes + kLanes, A(0));
  for (i = 0; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const A d = static_cast<A>(p[i + l]) - m;
      lanes[l] += d * d;
    }
  }
  for (; i < n; ++i) lanes[0] += (static_cast<A>(p[i]) - m) * (static_cast<A>(p[i]) - m);
  A sq = 0;
  for (A l : lanes) sq += l;
  *mean = m;
  *var = sq / static_cast<A>(n);
}

// ---- Softmax / LogSoftmax ----------------------------------------------------------------------------------------

Status InferSameAsInput(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

Status InferSoftmax(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(InferSameAsInput(ctx));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known) return Status::Ok();
  const int64_t axis = ctx.attrs().GetInt("axis", ctx.opset() >= 13 ? -1 : 1);
  return NormalizeAxis(ctx, axis, static_cast<int64_t>(x.dims.rank())).status();
}

template <bool kLog, typename T>
void SoftmaxRow(const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    // Vectorised exp (vector_math.h): the attention softmax of a transformer spends its time here.
    const float max = RowMax(x, n);
    const float sum = ExpShiftedSum(x, max, y, n);
    if constexpr (kLog) {
      const float log_sum = std::log(sum);
      for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - max) - log_sum;
    } else {
      ScaleRow(y, n, 1.0f / sum);
    }
    return;
  }
  ConstArray<T> xa(x, n);
  MutArray<T> ya(y, n);
  const T max = xa.maxCoeff();
  ya = (xa - max).exp();
  const T sum = ya.sum();
  if constexpr (kLog) {
    ya = (xa - max) - std::log(sum);  // not x - (max + log): that loses precision when |max| is large
  } else {
    ya *= T(1) / sum;
  }
}

// One [n, len] block with row stride `inner`: softmax down each column.
template <bool kLog, typename T>
void SoftmaxColumns(const T* x, T* y, int64_t n, int64_t inner, int64_t len) {
  T max[kColumnChunk], sum[kColumnChunk];
  std::fill(max, max + len, -std::numeric_limits<T>::infinity());
  std::fill(sum, sum + len, T(0));
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t t = 0; t < len; ++t) {
      const T v = x[j * inner + t];
      max[t] = max[t] < v ? v : max[t];  // value form: vectorises, unlike std::max on references
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t t = 0; t < len; ++t) {
      const T e = std::exp(x[j * inner + t] - max[t]);
      sum[t] += e;
      if constexpr (!kLog) y[j * inner + t] = e;
    }
  }
  for (int64_t t = 0; t < len; ++t) sum[t] = kLog ? std::log(sum[t]) : T(1) / sum[t];
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t t = 0; t < len; ++t) {
      if constexpr (kLog) y[j * inner + t] = (x[j * inner + t] - max[t]) - sum[t];
      else y[j * inner + t] *= sum[t];
    }
  }
}

template <bool kLog>
class SoftmaxKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    coerce_2d_ = ctx.opset() < 13;
    axis_ = ctx.attrs().GetInt("axis", coerce_2d_ ? 1 : -1);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (axis_ < -rank || axis_ >= rank) return ctx.Error("axis " + std::to_string(axis_) + " is out of range");
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    // Opsets 1-12 flatten everything from `axis` on into one row; 13+ normalise along `axis` alone.
    const int64_t outer = x.shape().SizeFromTo(0, axis);
    const int64_t n = coerce_2d_ ? x.shape().SizeFromTo(axis, x.rank()) : x.shape()[axis];
    const int64_t inner = coerce_2d_ ? 1 : x.shape().SizeFromTo(axis + 1, x.rank());
    if (x.NumElements() == 0) return Status::Ok();
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x.data<T>();
      T* yp = y->data<T>();
      if (inner == 1) {
        ctx.pool().ParallelFor(outer, Grain(n), [&](int64_t b, int64_t e) {
          for (int64_t r = b; r < e; ++r) SoftmaxRow<kLog, T>(xp + r * n, yp + r * n, n);
        });
        return Status::Ok();
      }
      const int64_t chunks = (inner + kColumnChunk - 1) / kColumnChunk;
      ctx.pool().ParallelFor(outer * chunks, Grain(n * std::min(inner, kColumnChunk)), [&](int64_t b, int64_t e) {
        for (int64_t task = b; task < e; ++task) {
          const int64_t o = task / chunks, c0 = (task % chunks) * kColumnChunk;
          const int64_t off = o * n * inner + c0;
          SoftmaxColumns<kLog, T>(xp + off, yp + off, n, inner, std::min(kColumnChunk, inner - c0));
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

// ---- LayerNormalization -------------------------------------------------------------------------------------------

// Whether `p` broadcasts unidirectionally onto the trailing block x[axis:] (right-aligned numpy rules).
bool BroadcastsToBlock(const Shape& p, const Shape& x, size_t axis) {
  const size_t block = x.rank() - axis;
  if (p.rank() > block) {
    for (size_t i = 0; i < p.rank() - block; ++i) {
      if (p[i] != 1) return false;
    }
  }
  for (size_t i = 0; i < std::min(p.rank(), block); ++i) {
    const int64_t pd = p[p.rank() - 1 - i], xd = x[x.rank() - 1 - i];
    if (pd != 1 && pd != xd && pd >= 0 && xd >= 0) return false;
  }
  return true;
}

// A pointer to `p` laid out as the full block x[axis:]: the tensor itself when it already is (the normal case,
// leading 1s included), else an expanded copy in `storage`. The copy allocates, but only for unusual partial
// broadcasts; a per-thread buffer is not safe here because a worker waiting in ParallelFor may run another node.
template <typename T>
const T* BlockView(const Tensor& p, const Shape& x, size_t axis, std::vector<T>* storage) {
  const int64_t block = x.SizeFromTo(axis, x.rank());
  if (p.NumElements() == block) return p.data<T>();
  storage->resize(block);
  const size_t n = x.rank() - axis;
  for (int64_t i = 0; i < block; ++i) {
    int64_t rem = i, src = 0, stride = 1;
    for (size_t k = 0; k < n && k < p.rank(); ++k) {
      const int64_t xd = x[x.rank() - 1 - k], pd = p.shape()[p.rank() - 1 - k];
      const int64_t idx = rem % xd;
      rem /= xd;
      if (pd != 1) src += idx * stride;
      stride *= pd;
    }
    (*storage)[i] = p.data<T>()[src];
  }
  return storage->data();
}

Status InferLayerNorm(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const int64_t stash = ctx.attrs().GetInt("stash_type", 1);
  if (stash != static_cast<int64_t>(DataType::kFloat32) && stash != static_cast<int64_t>(DataType::kFloat64)) {
    return ctx.Error("stash_type " + std::to_string(stash) + " is not supported (float32 or float64)");
  }
  const DataType stats = static_cast<DataType>(stash);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.input(i).dtype != x.dtype) {
      return ctx.Error("input #" + std::to_string(i) + " has dtype " + ctx.input(i).ToString() + ", X has " +
                       x.ToString());
    }
  }
  ctx.output(0) = x;
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.output(i) = ValueType::UnknownRank(stats);
  if (!x.rank_known) return Status::Ok();
  EDGEAI_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", -1),
                                                            static_cast<int64_t>(x.dims.rank())));
  for (size_t i = 1; i < std::min<size_t>(ctx.num_inputs(), 3); ++i) {
    if (ctx.has_input(i) && ctx.input(i).rank_known &&
        !BroadcastsToBlock(ctx.input(i).dims, x.dims, static_cast<size_t>(axis))) {
      return ctx.Error((i == 1 ? "Scale " : "B ") + ctx.input(i).ToString() +
                       " does not broadcast to the normalised dims of X " + x.ToString());
    }
  }
  Shape stat_dims = x.dims;
  for (size_t a = static_cast<size_t>(axis); a < stat_dims.rank(); ++a) stat_dims[a] = 1;
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.output(i) = ValueType::Of(stats, stat_dims);
  return Status::Ok();
}

class LayerNormKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", -1);
    epsilon_ = ctx.attrs().GetFloat("epsilon", 1e-5f);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* bias = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (axis_ < -rank || axis_ >= rank) return ctx.Error("axis " + std::to_string(axis_) + " is out of range");
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    if (!BroadcastsToBlock(scale.shape(), x.shape(), axis) ||
        (bias != nullptr && !BroadcastsToBlock(bias->shape(), x.shape(), axis))) {
      return ctx.Error("Scale/B do not broadcast to the normalised dims of X " + x.Describe());
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    Tensor* mean_out = nullptr;
    Tensor* inv_out = nullptr;
    if (ctx.num_outputs() > 1) {
      EDGEAI_ASSIGN_OR_RETURN(mean_out, ctx.Output(1));
    }
    if (ctx.num_outputs() > 2) {
      EDGEAI_ASSIGN_OR_RETURN(inv_out, ctx.Output(2));
    }
    const int64_t rows = x.shape().SizeFromTo(0, axis);
    const int64_t n = x.shape().SizeFromTo(axis, x.rank());
    if (n == 0) return Status::Ok();
    const DataType stats = mean_out ? mean_out->dtype() : inv_out ? inv_out->dtype() : x.dtype();
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      return VisitFloat(stats, [&](auto stag) {
        using U = typename decltype(stag)::type;
        using A = std::conditional_t<sizeof(U) >= sizeof(T), U, T>;  // accumulate in the wider type
        const T* xp = x.data<T>();
        std::vector<T> scale_copy, bias_copy;
        const T* sp = BlockView<T>(scale, x.shape(), axis, &scale_copy);
        const T* bp = bias ? BlockView<T>(*bias, x.shape(), axis, &bias_copy) : nullptr;
        T* yp = y->data<T>();
        U* mp = mean_out ? mean_out->data<U>() : nullptr;
        U* ip = inv_out ? inv_out->data<U>() : nullptr;
        ctx.pool().ParallelFor(rows, Grain(n), [&](int64_t b, int64_t e) {
          for (int64_t r = b; r < e; ++r) {
            const T* row = xp + r * n;
            if constexpr (std::is_same_v<T, float> && std::is_same_v<A, float>) {
              // Vectorised rows (vector_math.h), as the transformer's LayerNorms are float32 throughout.
              float mean, var;
              RowMeanVar(row, n, &mean, &var);
              const float inv = 1.0f / std::sqrt(var + epsilon_);
              NormalizeRow(row, n, mean, inv, sp, bp, yp + r * n);
              if (mp) mp[r] = static_cast<U>(mean);
              if (ip) ip[r] = static_cast<U>(inv);
              continue;
            }
            A mean, var;
            MeanVar<A>(row, n, &mean, &var);
            const A inv = A(1) / std::sqrt(var + static_cast<A>(epsilon_));
            T* out = yp + r * n;
            const T m = static_cast<T>(mean), s = static_cast<T>(inv);
            if (bp) {
              for (int64_t j = 0; j < n; ++j) out[j] = (row[j] - m) * s * sp[j] + bp[j];
            } else {
              for (int64_t j = 0; j < n; ++j) out[j] = (row[j] - m) * s * sp[j];
            }
            if (mp) mp[r] = static_cast<U>(mean);
            if (ip) ip[r] = static_cast<U>(inv);
          }
        });
        return Status::Ok();
      });
    });
  }

 private:
  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
};

// ---- BatchNormalization / InstanceNormalization ---------------------------------------------------------------

// Per-channel parameters may have their own float dtype (BatchNormalization 15).
double ParamAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32: return t.data<float>()[i];
    case DataType::kFloat64: return t.data<double>()[i];
    case DataType::kFloat16: return HalfToFloat(t.data<Float16>()[i].bits);
    default: return 0;
  }
}

void SetParam(Tensor& t, int64_t i, double v) {
  switch (t.dtype()) {
    case DataType::kFloat32: t.data<float>()[i] = static_cast<float>(v); break;
    case DataType::kFloat64: t.data<double>()[i] = v; break;
    case DataType::kFloat16: t.data<Float16>()[i].bits = FloatToHalf(static_cast<float>(v)); break;
    default: break;
  }
}

bool IsParamDtype(DataType d) {
  return d == DataType::kFloat32 || d == DataType::kFloat64 || d == DataType::kFloat16;
}

// training_mode exists from opset 14: statistics then come from the batch and the outputs 1-2 are the updated
// running mean and variance.
bool BatchNormTraining(const InferenceContext& ctx) {
  return ctx.opset() >= 14 && ctx.attrs().GetInt("training_mode", 0) != 0;
}

// Per-channel mean and biased variance of X [N, C, plane] over N and the plane, into stats[2c], stats[2c + 1].
template <typename T>
void BatchStats(const ThreadPool& pool, const T* x, int64_t batch, int64_t channels, int64_t plane, double* stats) {
  pool.ParallelFor(channels, Grain(batch * plane * 2), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < batch; ++n) {
        const T* p = x + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(p[i]);
      }
      const double count = static_cast<double>(batch * plane);
      const double mean = sum / count;
      double sq = 0;
      for (int64_t n = 0; n < batch; ++n) {
        const T* p = x + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) {
          const double d = static_cast<double>(p[i]) - mean;
          sq += d * d;
        }
      }
      stats[2 * c] = mean;
      stats[2 * c + 1] = sq / count;
    }
  });
}

// BatchNormalization before opset 9 can be per-activation (spatial = 0): parameters then cover x[1:].
bool BatchNormSpatial(const InferenceContext& ctx) {
  return ctx.opset() >= 9 || ctx.attrs().GetInt("spatial", 1) != 0;
}

// Checks the per-channel inputs first..last of a normalisation node against X [N, C, ...].
Status CheckChannelParams(const InferenceContext& ctx, size_t first, size_t last, bool spatial) {
  const ValueType& x = ctx.input(0);
  if (x.rank_known && x.dims.rank() < 2) return ctx.Error("X " + x.ToString() + " must have rank >= 2 (N, C, ...)");
  for (size_t i = first; i <= last; ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    const ValueType& p = ctx.input(i);
    if (!IsParamDtype(p.dtype)) return ctx.Error("input #" + std::to_string(i) + " has dtype " + p.ToString());
    if (!x.rank_known || !p.rank_known) continue;
    Shape want = spatial ? Shape{x.dims[1]} : Shape(x.dims.data() + 1, x.dims.rank() - 1);
    bool ok = p.dims.rank() == want.rank();
    for (size_t a = 0; ok && a < want.rank(); ++a) ok = p.dims[a] < 0 || want[a] < 0 || p.dims[a] == want[a];
    if (!ok) {
      return ctx.Error("input #" + std::to_string(i) + " " + p.ToString() + " must have shape " + want.ToString() +
                       " for X " + x.ToString());
    }
  }
  return Status::Ok();
}

Status InferBatchNorm(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(CheckChannelParams(ctx, 1, 4, BatchNormSpatial(ctx)));
  ctx.output(0) = ctx.input(0);
  // Extra outputs (running or saved statistics) are only meaningful when training; in inference they are the
  // unchanged running statistics. In training mode (14+) they are the updated running mean and variance, with
  // the dtypes and shapes of the inputs they update.
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.output(i) = ctx.input(i % 2 ? 3 : 4);
  return Status::Ok();
}

Status InferInstanceNorm(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(CheckChannelParams(ctx, 1, 2, true));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

// Shared by both ops: X as [N, C, plane] with per-channel affine y = x * a + b on each plane.
template <typename T>
void AffinePlane(const T* x, T* y, int64_t n, T a, T b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

class ChannelNormKernel : public Kernel {
 public:
  explicit ChannelNormKernel(bool instance) : instance_(instance) {}

  Status Init(const InferenceContext& ctx) {
    epsilon_ = ctx.attrs().GetFloat("epsilon", 1e-5f);
    spatial_ = instance_ || BatchNormSpatial(ctx);
    training_ = !instance_ && BatchNormTraining(ctx);
    momentum_ = ctx.attrs().Has("momentum") ? ctx.attrs().GetFloat("momentum", 0.9f) : 0.9;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 2) return ctx.Error("X " + x.Describe() + " must have rank >= 2");
    // Per-activation BatchNorm treats all of x[1:] as channels with one element each.
    const int64_t channels = spatial_ ? x.shape()[1] : x.shape().SizeFromTo(1, x.rank());
    const int64_t plane = spatial_ ? x.shape().SizeFromTo(2, x.rank()) : 1;
    const size_t params = instance_ ? 2 : 4;
    for (size_t i = 1; i <= params; ++i) {
      const Tensor* p = ctx.input(i);
      if (p == nullptr || p->NumElements() != channels || !IsParamDtype(p->dtype())) {
        return ctx.Error("input #" + std::to_string(i) + " must hold " + std::to_string(channels) + " values");
      }
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.shape()));
    // Training: batch statistics (mean, variance interleaved); only grows, so warm runs do not allocate.
    thread_local std::vector<double> batch_stats;
    if (training_) batch_stats.resize(static_cast<size_t>(2 * channels));
    const double* stats = batch_stats.data();
    if (training_) {
      EDGEAI_RETURN_IF_ERROR(VisitFloat(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        BatchStats(ctx.pool(), x.data<T>(), x.shape()[0], channels, plane, batch_stats.data());
        return Status::Ok();
      }));
    }
    for (size_t i = 1; i < ctx.num_outputs() && !instance_; ++i) {
      const Tensor& src = *ctx.input(i % 2 ? 3 : 4);
      EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(i, src.shape()));
      if (!training_ || i > 2) {
        std::memcpy(out->raw_data(), src.raw_data(), src.ByteSize());
        continue;
      }
      // running = input_running * momentum + batch * (1 - momentum)
      for (int64_t c = 0; c < channels; ++c) {
        SetParam(*out, c, ParamAt(src, c) * momentum_ + stats[2 * c + (i - 1)] * (1.0 - momentum_));
      }
    }
    const Tensor &scale = *ctx.input(1), &bias = *ctx.input(2);
    const int64_t planes = x.shape()[0] * channels;
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x.data<T>();
      T* yp = y->data<T>();
      const int64_t grain = Grain(plane * (instance_ ? 3 : 1));
      ctx.pool().ParallelFor(planes, grain, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const int64_t c = p % channels;
          const T* in = xp + p * plane;
          double mean, var;
          if (instance_) {
            MeanVar<double>(in, plane, &mean, &var);
          } else if (training_) {
            mean = stats[2 * c];
            var = stats[2 * c + 1];
          } else {
            mean = ParamAt(*ctx.input(3), c);
            var = ParamAt(*ctx.input(4), c);
          }
          const double a = ParamAt(scale, c) / std::sqrt(var + static_cast<double>(epsilon_));
          AffinePlane<T>(in, yp + p * plane, plane, static_cast<T>(a), static_cast<T>(ParamAt(bias, c) - mean * a));
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool instance_;
  bool spatial_ = true;
  bool training_ = false;
  float epsilon_ = 1e-5f;
  double momentum_ = 0.9;
};

template <bool kInstance>
Result<std::unique_ptr<Kernel>> CreateChannelNorm(const InferenceContext& ctx) {
  auto kernel = std::make_unique<ChannelNormKernel>(kInstance);
  EDGEAI_RETURN_IF_ERROR(kernel->Init(ctx));
  return std::unique_ptr<Kernel>(std::move(kernel));
}

OpDef Def(const char* op, int since, int until, InferFn infer, KernelFactory create) {
  return MakeOpDef(op, since, until, {DataType::kFloat32, DataType::kFloat64}, infer, create);
}

}  // namespace

Status RegisterNormalizationOps(OpRegistry& registry) {
  // Softmax family: opsets 1-12 coerce to 2-D at `axis` (default 1); 13+ normalise along `axis` (default -1).
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("Softmax", 1, 12, InferSoftmax, MakeKernel<SoftmaxKernel<false>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("Softmax", 13, kMaxOpset, InferSoftmax, MakeKernel<SoftmaxKernel<false>>)));
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("LogSoftmax", 1, 12, InferSoftmax, MakeKernel<SoftmaxKernel<true>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("LogSoftmax", 13, kMaxOpset, InferSoftmax, MakeKernel<SoftmaxKernel<true>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("LayerNormalization", 17, kMaxOpset, InferLayerNorm, MakeKernel<LayerNormKernel>)));
  // BatchNormalization: 1-6 (is_test, spatial), 7-8 (spatial), 9-13, 14 (training_mode), 15+ (mixed param
  // dtypes). Inference ignores is_test/momentum; spatial=0 is per-activation; the kernel reads each version.
  const int bn_ranges[][2] = {{1, 6}, {7, 8}, {9, 13}, {14, 14}, {15, kMaxOpset}};
  for (const auto& r : bn_ranges) {
    EDGEAI_RETURN_IF_ERROR(
        registry.Register(Def("BatchNormalization", r[0], r[1], InferBatchNorm, CreateChannelNorm<false>)));
  }
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      Def("InstanceNormalization", 1, kMaxOpset, InferInstanceNorm, CreateChannelNorm<true>)));
  return Status::Ok();
}

}  // namespace edgeai::cpu
