// Assorted ops without a family of their own: Shrink, IsInf, IsNaN (elementwise), Det (batched determinant),
// LRN (cross-channel normalisation) and MeanVarianceNormalization (over any set of axes).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

std::vector<DataType> FloatTypes() { return {DataType::kFloat32, DataType::kFloat64}; }
constexpr int64_t kElementGrain = 32768;

Status InferSame(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

Status InferBoolLike(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  ctx.output(0).dtype = DataType::kBool;
  return Status::Ok();
}

// ----------------------------------------------------------------------------------------------------- Shrink

class ShrinkKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    lambd_ = ctx.attrs().GetFloat("lambd", 0.5f);
    bias_ = ctx.attrs().GetFloat("bias", 0.0f);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      // Integers are compared and shifted in double precision, then converted back.
      using C = std::conditional_t<std::is_floating_point_v<T>, T, double>;
      const C lambd = static_cast<C>(lambd_);
      const C bias = static_cast<C>(bias_);
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      ctx.pool().ParallelFor(x.NumElements(), kElementGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const C v = static_cast<C>(src[i]);
          dst[i] = static_cast<T>(v < -lambd ? v + bias : (v > lambd ? v - bias : C(0)));
        }
      });
      return Status::Ok();
    });
  }

 private:
  float lambd_ = 0.5f;
  float bias_ = 0.0f;
};

// ---------------------------------------------------------------------------------------------- IsInf, IsNaN

template <bool kNaN>
class FloatClassKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    positive_ = ctx.attrs().GetInt("detect_positive", 1) != 0;
    negative_ = ctx.attrs().GetInt("detect_negative", 1) != 0;
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      bool* dst = out->data<bool>();
      const T inf = std::numeric_limits<T>::infinity();
      ctx.pool().ParallelFor(x.NumElements(), kElementGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          if constexpr (kNaN) {
            dst[i] = src[i] != src[i];
          } else {
            dst[i] = (positive_ && src[i] == inf) || (negative_ && src[i] == -inf);
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool positive_ = true;
  bool negative_ = true;
};

// -------------------------------------------------------------------------------------------------------- Det

Status InferDet(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  const size_t rank = x.dims.rank();
  if (rank < 2) return ctx.Error("input " + x.ToString() + " must have rank 2 or more ([*, M, M])");
  const int64_t m = x.dims[rank - 2];
  const int64_t n = x.dims[rank - 1];
  if (m >= 0 && n >= 0 && m != n) return ctx.Error("input " + x.ToString() + " must hold square matrices");
  Shape dims = x.dims;
  dims.resize(rank - 2);
  ctx.output(0) = ValueType::Of(x.dtype, dims);
  return Status::Ok();
}

// Determinant by LU decomposition with partial pivoting, in double precision, destroying `a` (m x m).
double Determinant(double* a, int64_t m) {
  double det = 1.0;
  for (int64_t k = 0; k < m; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < m; ++i) {
      if (std::fabs(a[i * m + k]) > std::fabs(a[pivot * m + k])) pivot = i;
    }
    if (a[pivot * m + k] == 0.0) return 0.0;
    if (pivot != k) {
      std::swap_ranges(a + k * m, a + (k + 1) * m, a + pivot * m);
      det = -det;
    }
    const double diag = a[k * m + k];
    det *= diag;
    for (int64_t i = k + 1; i < m; ++i) {
      const double f = a[i * m + k] / diag;
      for (int64_t j = k + 1; j < m; ++j) a[i * m + j] -= f * a[k * m + j];
    }
  }
  return det;
}

class DetKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const int64_t m = x.shape().back();
    const int64_t size = m * m;
    const int64_t batch = size == 0 ? 0 : x.NumElements() / size;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      if (size == 0) {  // the determinant of a 0 x 0 matrix is 1
        std::fill(dst, dst + out->NumElements(), T(1));
        return Status::Ok();
      }
      ctx.pool().ParallelFor(batch, std::max<int64_t>(1, 4096 / (size * m)), [&](int64_t begin, int64_t end) {
        thread_local std::vector<double> a;
        a.resize(static_cast<size_t>(size));
        for (int64_t b = begin; b < end; ++b) {
          std::copy(src + b * size, src + (b + 1) * size, a.begin());
          dst[b] = static_cast<T>(Determinant(a.data(), m));
        }
      });
      return Status::Ok();
    });
  }
};

// -------------------------------------------------------------------------------------------------------- LRN

Status InferLrn(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (!ctx.attrs().Has("size")) return ctx.Error("attribute size is required");
  const int64_t size = ctx.attrs().GetInt("size", 0);
  if (size <= 0) return ctx.Error("size must be positive, got " + std::to_string(size));
  if (x.rank_known && x.dims.rank() < 2) return ctx.Error("input " + x.ToString() + " must be [N, C, ...]");
  ctx.output(0) = x;
  return Status::Ok();
}

// y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)/2, c + ceil((size-1)/2)])^beta.
class LrnKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    size_ = ctx.attrs().GetInt("size", 1);
    alpha_ = ctx.attrs().GetFloat("alpha", 1e-4f);
    beta_ = ctx.attrs().GetFloat("beta", 0.75f);
    bias_ = ctx.attrs().GetFloat("bias", 1.0f);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    const int64_t channels = dims[1];
    const int64_t inner = dims.SizeFromTo(2, dims.rank());
    const int64_t before = (size_ - 1) / 2;
    const int64_t after = size_ - 1 - before;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      const T scale = static_cast<T>(alpha_) / static_cast<T>(size_);
      const T bias = static_cast<T>(bias_);
      const T beta = static_cast<T>(beta_);
      const int64_t planes = dims[0] * channels;
      ctx.pool().ParallelFor(planes, GrainFor(inner * size_ * 8), [&](int64_t begin, int64_t end) {
        thread_local std::vector<T> sum;
        sum.resize(static_cast<size_t>(inner));
        for (int64_t p = begin; p < end; ++p) {
          const int64_t n = p / channels;
          const int64_t c = p % channels;
          std::fill(sum.begin(), sum.end(), T(0));
          for (int64_t k = std::max<int64_t>(0, c - before); k <= std::min(channels - 1, c + after); ++k) {
            const T* row = src + (n * channels + k) * inner;
            for (int64_t j = 0; j < inner; ++j) sum[j] += row[j] * row[j];
          }
          const T* in = src + p * inner;
          T* y = dst + p * inner;
          for (int64_t j = 0; j < inner; ++j) y[j] = in[j] / std::pow(bias + scale * sum[j], beta);
        }
      });
      return Status::Ok();
    });
  }

 private:
  int64_t size_ = 1;
  float alpha_ = 1e-4f, beta_ = 0.75f, bias_ = 1.0f;
};

// ------------------------------------------------------------------------------------ MeanVarianceNormalization

// The reduced axes as a bit mask over `rank` axes; error for an axis out of range or given twice.
Status MvnAxisMask(const std::vector<int64_t>& axes, int64_t rank, uint64_t* mask) {
  *mask = 0;
  for (int64_t a : axes) {
    const int64_t axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank || axis >= 64) {
      return InvalidArgument("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    }
    if (*mask & (uint64_t{1} << axis)) return InvalidArgument("axis " + std::to_string(a) + " is given twice");
    *mask |= uint64_t{1} << axis;
  }
  return Status::Ok();
}

const std::vector<int64_t> kMvnDefaultAxes = {0, 2, 3};

Status InferMvn(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (x.rank_known) {
    uint64_t mask;
    const std::vector<int64_t>* axes = FindInts(ctx.attrs(), "axes");  // no copy: infer runs per inference too
    Status s = MvnAxisMask(axes != nullptr ? *axes : kMvnDefaultAxes, static_cast<int64_t>(x.dims.rank()), &mask);
    if (!s.ok()) return ctx.Error(s.message());
  }
  ctx.output(0) = x;
  return Status::Ok();
}

// y = (x - mean) / (std + 1e-9), mean and (population) std over the reduced axes. Each element maps to a
// group (its position over the kept axes); three passes accumulate mean, variance and write the output.
class MvnKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axes_ = ctx.attrs().GetInts("axes", kMvnDefaultAxes);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    const size_t rank = dims.rank();
    uint64_t mask;
    Status s = MvnAxisMask(axes_, static_cast<int64_t>(rank), &mask);
    if (!s.ok()) return ctx.Error(s.message());
    // Group strides: row-major over the kept axes, 0 on the reduced ones.
    Shape group_strides;
    group_strides.resize(rank, 0);
    int64_t groups = 1;
    for (size_t d = rank; d-- > 0;) {
      if (mask & (uint64_t{1} << d)) continue;
      group_strides[d] = groups;
      groups *= dims[d];
    }
    const int64_t total = x.NumElements();
    const int64_t per_group = groups == 0 ? 0 : total / groups;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      thread_local std::vector<double> mean, scale;
      mean.assign(static_cast<size_t>(groups), 0.0);
      scale.assign(static_cast<size_t>(groups), 0.0);
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      auto walk = [&](auto&& visit) {
        Shape index;
        index.resize(rank, 0);
        int64_t g = 0;
        for (int64_t i = 0; i < total; ++i) {
          visit(i, g);
          for (size_t d = rank; d-- > 0;) {
            g += group_strides[d];
            if (++index[d] < dims[d]) break;
            g -= group_strides[d] * dims[d];
            index[d] = 0;
          }
        }
      };
      walk([&](int64_t i, int64_t g) { mean[g] += src[i]; });
      for (double& m : mean) m /= static_cast<double>(per_group);
      walk([&](int64_t i, int64_t g) {
        const double d = src[i] - mean[g];
        scale[g] += d * d;
      });
      for (double& s : scale) s = 1.0 / (std::sqrt(s / static_cast<double>(per_group)) + 1e-9);
      walk([&](int64_t i, int64_t g) { dst[i] = static_cast<T>((src[i] - mean[g]) * scale[g]); });
      return Status::Ok();
    });
  }

 private:
  std::vector<int64_t> axes_;
};

}  // namespace

Status RegisterMiscOps(OpRegistry& registry) {
  const std::vector<DataType> numeric = {DataType::kFloat32, DataType::kFloat64, DataType::kInt8,  DataType::kUint8,
                                         DataType::kInt16,   DataType::kUint16,  DataType::kInt32, DataType::kUint32,
                                         DataType::kInt64,   DataType::kUint64};
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Shrink", 9, kMaxOpset, numeric, InferSame, MakeKernel<ShrinkKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "IsInf", 10, kMaxOpset, FloatTypes(), InferBoolLike, MakeKernel<FloatClassKernel<false>>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "IsNaN", 9, 12, FloatTypes(), InferBoolLike, MakeKernel<FloatClassKernel<true>>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "IsNaN", 13, kMaxOpset, FloatTypes(), InferBoolLike, MakeKernel<FloatClassKernel<true>>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Det", 11, kMaxOpset, FloatTypes(), InferDet, MakeKernel<DetKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LRN", 1, 12, FloatTypes(), InferLrn, MakeKernel<LrnKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "LRN", 13, kMaxOpset, FloatTypes(), InferLrn, MakeKernel<LrnKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "MeanVarianceNormalization", 9, 12, FloatTypes(), InferMvn, MakeKernel<MvnKernel>));
  return AddOp(registry, "MeanVarianceNormalization", 13, kMaxOpset, FloatTypes(), InferMvn, MakeKernel<MvnKernel>);
}

}  // namespace edgeai::cpu
