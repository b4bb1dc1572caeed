// Index-valued and position-driven ops with shapes known before computing: Hardmax, CumSum, TopK, OneHot,
// EyeLike and ReverseSequence. Most view the input as [outer, axis, inner] and work on the axis.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

std::vector<DataType> FloatTypes() { return {DataType::kFloat32, DataType::kFloat64}; }

std::vector<DataType> NumericTypes() {
  return {DataType::kFloat32, DataType::kFloat64, DataType::kInt8,   DataType::kUint8, DataType::kInt16,
          DataType::kUint16,  DataType::kInt32,   DataType::kUint32, DataType::kInt64, DataType::kUint64};
}

// A scalar (or one-element) int32/int64 input value, e.g. CumSum's axis or TopK's k.
Status ReadScalarInt(const Tensor& t, std::string_view what, int64_t* out) {
  Shape values;
  EDGEAI_RETURN_IF_ERROR(ReadInts(t, what, &values));
  if (values.rank() != 1) {
    return InvalidArgument(std::string(what) + " must hold exactly one value, got " + t.Describe());
  }
  *out = values[0];
  return Status::Ok();
}

// [outer, axis, inner] sizes of `dims` around `axis` (already normalised).
struct AxisView {
  int64_t outer, n, inner;
};
AxisView ViewAround(const Shape& dims, size_t axis) {
  return {dims.SizeFromTo(0, axis), dims[axis], dims.SizeFromTo(axis + 1, dims.rank())};
}

// ---------------------------------------------------------------------------------------------------- Hardmax

// Before opset 13 the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (default axis 1); from 13
// the op works along `axis` alone (default -1).
Status InferHardmax(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (x.rank_known) {
    const int64_t rank = static_cast<int64_t>(x.dims.rank());
    const int64_t axis = ctx.attrs().GetInt("axis", ctx.opset() >= 13 ? -1 : 1);
    const bool coerced = ctx.opset() < 13;
    if (rank == 0) return ctx.Error("input must have rank 1 or more");
    if (axis < -rank || axis > (coerced ? rank : rank - 1)) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
  }
  ctx.output(0) = x;
  return Status::Ok();
}

class HardmaxKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    coerced_ = ctx.opset() < 13;
    axis_ = ctx.attrs().GetInt("axis", coerced_ ? 1 : -1);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(dims.rank()) : axis_);
    AxisView v =
        coerced_ ? AxisView{dims.SizeFromTo(0, axis), dims.SizeFromTo(axis, dims.rank()), 1} : ViewAround(dims, axis);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      const int64_t block = v.n * v.inner;
      ctx.pool().ParallelFor(v.outer, GrainFor(block * 2 * sizeof(T)), [&](int64_t begin, int64_t end) {
        std::fill(dst + begin * block, dst + end * block, T(0));
        for (int64_t o = begin; o < end; ++o) {
          for (int64_t j = 0; j < v.inner && v.n > 0; ++j) {
            const T* s = src + o * block + j;
            int64_t best = 0;
            // Strictly greater: the first of equal maxima wins.
            for (int64_t i = 1; i < v.n; ++i) {
              if (s[i * v.inner] > s[best * v.inner]) best = i;
            }
            dst[o * block + best * v.inner + j] = T(1);
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool coerced_ = false;
  int64_t axis_ = -1;
};

// ----------------------------------------------------------------------------------------------------- CumSum

Status InferCumSum(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& axis = ctx.input(1);
  if (axis.dtype != DataType::kInt32 && axis.dtype != DataType::kInt64) {
    return ctx.Error("axis must be an int32 or int64 scalar, got " + axis.ToString());
  }
  if (x.rank_known && x.dims.rank() == 0) return ctx.Error("input must have rank 1 or more");
  if (const Tensor* value = ctx.input_value(1); value != nullptr && x.rank_known) {
    int64_t a = 0;
    Status read = ReadScalarInt(*value, "axis", &a);
    if (!read.ok()) return ctx.Error(read.message());
    EDGEAI_RETURN_IF_ERROR(NormalizeAxis(ctx, a, static_cast<int64_t>(x.dims.rank())).status());
  }
  ctx.output(0) = x;
  return Status::Ok();
}

class CumSumKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    exclusive_ = ctx.attrs().GetInt("exclusive", 0) != 0;
    reverse_ = ctx.attrs().GetInt("reverse", 0) != 0;
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    int64_t axis = 0;
    Status read = ReadScalarInt(*ctx.input(1), "axis", &axis);
    if (!read.ok()) return ctx.Error(read.message());
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (axis < -rank || axis >= rank) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    AxisView v = ViewAround(x.shape(), static_cast<size_t>(axis < 0 ? axis + rank : axis));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    return VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out->data<T>();
      const int64_t block = v.n * v.inner;
      ctx.pool().ParallelFor(v.outer, GrainFor(block * 2 * sizeof(T)), [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          // Row k of the scan is the k-th row visited (from the back when reversed); each output row is the
          // previous output row plus one input row, so the inner loop runs over contiguous rows.
          auto row = [&](int64_t k) { return o * block + (reverse_ ? v.n - 1 - k : k) * v.inner; };
          for (int64_t k = 0; k < v.n; ++k) {
            T* y = dst + row(k);
            if (k == 0) {
              if (exclusive_) {
                std::fill(y, y + v.inner, T(0));
              } else {
                std::copy(src + row(0), src + row(0) + v.inner, y);
              }
              continue;
            }
            const T* prev = dst + row(k - 1);
            const T* add = src + row(exclusive_ ? k - 1 : k);
            for (int64_t j = 0; j < v.inner; ++j) y[j] = static_cast<T>(prev[j] + add[j]);
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  bool exclusive_ = false;
  bool reverse_ = false;
};

// ------------------------------------------------------------------------------------------------------- TopK

// k is an attribute before opset 10 and input 1 from then on.
Status InferTopK(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  int64_t k = -1;
  if (ctx.opset() < 10) {
    if (!ctx.attrs().Has("k")) return ctx.Error("attribute k is required");
    k = ctx.attrs().GetInt("k", 0);
  } else {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    if (ctx.input(1).dtype != DataType::kInt64) return ctx.Error("k must be int64, got " + ctx.input(1).ToString());
    if (const Tensor* value = ctx.input_value(1)) {
      Status read = ReadScalarInt(*value, "k", &k);
      if (!read.ok()) return ctx.Error(read.message());
    }
  }
  if (ctx.input_value(1) != nullptr || ctx.opset() < 10) {
    if (k < 0) return ctx.Error("k must be non-negative, got " + std::to_string(k));
  }
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    if (ctx.num_outputs() > 1) ctx.output(1) = ValueType::UnknownRank(DataType::kInt64);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.rank());
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", -1), rank));
  if (k >= 0 && x.dims[axis] >= 0 && k > x.dims[axis]) {
    return ctx.Error("k = " + std::to_string(k) + " is larger than axis " + std::to_string(axis) + " of input " +
                     x.ToString());
  }
  Shape dims = x.dims;
  dims[axis] = k;
  ctx.output(0) = ValueType::Of(x.dtype, dims);
  if (ctx.num_outputs() > 1) ctx.output(1) = ValueType::Of(DataType::kInt64, dims);
  return Status::Ok();
}

// Orders NaN above every number, so that the comparison stays a strict weak order.
template <typename T>
bool Above(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a > b;
}

class TopKKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", -1);
    largest_ = ctx.attrs().GetInt("largest", 1) != 0;
    k_attr_ = ctx.opset() < 10 ? ctx.attrs().GetInt("k", 0) : -1;
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    int64_t k = k_attr_;
    if (k < 0) {
      Status read = ReadScalarInt(*ctx.input(1), "k", &k);
      if (!read.ok()) return ctx.Error(read.message());
    }
    AxisView v = ViewAround(x.shape(), axis);
    if (k < 0 || k > v.n) {
      return ctx.Error("k = " + std::to_string(k) + " is out of range for axis of size " + std::to_string(v.n));
    }
    Shape dims = x.shape();
    dims[axis] = k;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * values, ctx.Output(0, dims));
    Tensor* indices = nullptr;
    if (ctx.num_outputs() > 1) {
      EDGEAI_ASSIGN_OR_RETURN(indices, ctx.Output(1, dims));
    }
    return VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* out_v = values->data<T>();
      int64_t* out_i = indices != nullptr ? indices->data<int64_t>() : nullptr;
      const bool largest = largest_;
      // Ties go to the lower index, whichever direction is selected.
      auto before = [&](const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) {
        if (largest ? Above(a.first, b.first) : Above(b.first, a.first)) return true;
        if (largest ? Above(b.first, a.first) : Above(a.first, b.first)) return false;
        return a.second < b.second;
      };
      ctx.pool().ParallelFor(v.outer * v.inner, GrainFor(v.n * 16), [&](int64_t begin, int64_t end) {
        thread_local std::vector<std::pair<T, int64_t>> items;
        items.resize(static_cast<size_t>(v.n));
        for (int64_t s = begin; s < end; ++s) {
          const int64_t o = s / v.inner;
          const int64_t j = s % v.inner;
          const T* in = src + o * v.n * v.inner + j;
          for (int64_t i = 0; i < v.n; ++i) items[i] = {in[i * v.inner], i};
          std::partial_sort(items.begin(), items.begin() + k, items.end(), before);
          const int64_t base = o * k * v.inner + j;
          for (int64_t i = 0; i < k; ++i) {
            out_v[base + i * v.inner] = items[i].first;
            if (out_i != nullptr) out_i[base + i * v.inner] = items[i].second;
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  int64_t axis_ = -1;
  bool largest_ = true;
  int64_t k_attr_ = -1;
};

// ----------------------------------------------------------------------------------------------------- OneHot

// The first value of a numeric tensor as int64 (depth may be any numeric type; floats are truncated).
Status ReadDepth(const Tensor& t, int64_t* depth) {
  if (t.NumElements() != 1) return InvalidArgument("depth must hold exactly one value, got " + t.Describe());
  return VisitNumeric(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *depth = static_cast<int64_t>(*t.data<T>());
    return Status::Ok();
  });
}

Status InferOneHot(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& indices = ctx.input(0);
  const ValueType& values = ctx.input(2);
  if (values.rank_known && values.dims.rank() != 1) {
    return ctx.Error("values must be a 1-D [off_value, on_value] tensor, got " + values.ToString());
  }
  if (values.rank_known && values.dims[0] >= 0 && values.dims[0] != 2) {
    return ctx.Error("values must hold 2 elements [off_value, on_value], got " + values.ToString());
  }
  int64_t depth = -1;
  if (const Tensor* d = ctx.input_value(1)) {
    Status read = ReadDepth(*d, &depth);
    if (!read.ok()) return ctx.Error(read.message());
    if (depth <= 0) return ctx.Error("depth must be positive, got " + std::to_string(depth));
  }
  if (!indices.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(values.dtype);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(indices.dims.rank()) + 1;
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", -1), rank));
  Shape dims = indices.dims;
  dims.insert(static_cast<size_t>(axis), depth);
  ctx.output(0) = ValueType::Of(values.dtype, dims);
  return Status::Ok();
}

class OneHotKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", -1);
    negative_indices_ = ctx.opset() >= 11;
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& indices = *ctx.input(0);
    const Tensor& values = *ctx.input(2);
    int64_t depth = 0;
    Status read = ReadDepth(*ctx.input(1), &depth);
    if (!read.ok()) return ctx.Error(read.message());
    if (depth <= 0) return ctx.Error("depth must be positive, got " + std::to_string(depth));
    if (values.NumElements() != 2) return ctx.Error("values must hold 2 elements, got " + values.Describe());
    const int64_t rank = static_cast<int64_t>(indices.rank()) + 1;
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    Shape dims = indices.shape();
    dims.insert(axis, depth);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, dims));
    // Output [outer, depth, inner]: index (o, j) of `indices` sets out[o, index, j] to on, the rest to off.
    const int64_t outer = indices.shape().SizeFromTo(0, axis);
    const int64_t inner = indices.shape().SizeFromTo(axis, indices.rank());
    return VisitNumeric(indices.dtype(), [&](auto itag) {
      using I = typename decltype(itag)::type;
      const I* idx = indices.data<I>();
      return VisitBySize(values.dtype(), [&](auto vtag) {
        using V = typename decltype(vtag)::type;
        const V off = values.data<V>()[0];
        const V on = values.data<V>()[1];
        V* dst = out->data<V>();
        std::fill(dst, dst + out->NumElements(), off);
        for (int64_t o = 0; o < outer; ++o) {
          for (int64_t j = 0; j < inner; ++j) {
            int64_t index = static_cast<int64_t>(idx[o * inner + j]);
            if (negative_indices_ && index < 0) index += depth;
            // Out of [-depth, depth): the whole one-hot vector stays off.
            if (index >= 0 && index < depth) dst[(o * depth + index) * inner + j] = on;
          }
        }
        return Status::Ok();
      });
    });
  }

 private:
  int64_t axis_ = -1;
  bool negative_indices_ = true;
};

// ---------------------------------------------------------------------------------------------------- EyeLike

Status EyeLikeDtype(const InferenceContext& ctx, DataType* dtype) {
  *dtype = ctx.input(0).dtype;
  if (!ctx.attrs().Has("dtype")) return Status::Ok();
  const int64_t value = ctx.attrs().GetInt("dtype", 0);
  if (value < 0 || value > 1000 || !IsKnownDataType(static_cast<int32_t>(value)) ||
      DataTypeSize(static_cast<DataType>(value)) == 0) {
    return ctx.Error("dtype " + std::to_string(value) + " is not a supported output type");
  }
  *dtype = static_cast<DataType>(value);
  return Status::Ok();
}

Status InferEyeLike(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (x.rank_known && x.dims.rank() != 2) return ctx.Error("input " + x.ToString() + " must be 2-D");
  DataType dtype;
  EDGEAI_RETURN_IF_ERROR(EyeLikeDtype(ctx, &dtype));
  ctx.output(0) = x.rank_known ? ValueType::Of(dtype, x.dims) : ValueType::Of(dtype, Shape{-1, -1});
  return Status::Ok();
}

class EyeLikeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    k_ = ctx.attrs().GetInt("k", 0);
    return EyeLikeDtype(ctx, &dtype_);
  }
  Status Compute(KernelContext& ctx) const override {
    const Shape& dims = ctx.input(0)->shape();
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, dims));
    const size_t elem = DataTypeSize(dtype_);
    char* dst = static_cast<char*>(out->raw_data());
    std::memset(dst, 0, out->ByteSize());
    char one[8];
    EDGEAI_RETURN_IF_ERROR(ConvertScalar(1.0, dtype_, one));
    for (int64_t i = std::max<int64_t>(0, -k_); i < dims[0] && i + k_ < dims[1]; ++i) {
      std::memcpy(dst + (i * dims[1] + i + k_) * elem, one, elem);
    }
    return Status::Ok();
  }

 private:
  int64_t k_ = 0;
  DataType dtype_ = DataType::kFloat32;
};

// -------------------------------------------------------------------------------------------- ReverseSequence

Status InferReverseSequence(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& lens = ctx.input(1);
  const int64_t batch_axis = ctx.attrs().GetInt("batch_axis", 1);
  const int64_t time_axis = ctx.attrs().GetInt("time_axis", 0);
  if ((batch_axis != 0 && batch_axis != 1) || (time_axis != 0 && time_axis != 1) || batch_axis == time_axis) {
    return ctx.Error("batch_axis and time_axis must be 0 and 1 in some order, got " + std::to_string(batch_axis) +
                     " and " + std::to_string(time_axis));
  }
  if (lens.dtype != DataType::kInt64) return ctx.Error("sequence_lens must be int64, got " + lens.ToString());
  if (x.rank_known && x.dims.rank() < 2) return ctx.Error("input " + x.ToString() + " must have rank 2 or more");
  if (lens.rank_known && lens.dims.rank() != 1) {
    return ctx.Error("sequence_lens must be 1-D [batch], got " + lens.ToString());
  }
  if (x.rank_known && lens.rank_known && x.dims[batch_axis] >= 0 && lens.dims[0] >= 0 &&
      x.dims[batch_axis] != lens.dims[0]) {
    return ctx.Error("sequence_lens " + lens.ToString() + " does not match the batch size of input " + x.ToString());
  }
  ctx.output(0) = x;
  return Status::Ok();
}

class ReverseSequenceKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    batch_axis_ = ctx.attrs().GetInt("batch_axis", 1);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& lens = *ctx.input(1);
    const Shape& dims = x.shape();
    const int64_t batch = dims[batch_axis_];
    const int64_t time = dims[1 - batch_axis_];
    if (lens.NumElements() != batch) {
      return ctx.Error("sequence_lens " + lens.Describe() + " must hold one length per batch entry (" +
                       std::to_string(batch) + ")");
    }
    const int64_t* len = lens.data<int64_t>();
    for (int64_t b = 0; b < batch; ++b) {
      if (len[b] < 0 || len[b] > time) {
        return ctx.Error("sequence length " + std::to_string(len[b]) + " is out of range [0, " + std::to_string(time) +
                         "]");
      }
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    const size_t row = static_cast<size_t>(dims.SizeFromTo(2, dims.rank())) * DataTypeSize(x.dtype());
    // Byte offset of (batch b, time t): the two leading axes in either order, then a contiguous row.
    const int64_t b_stride = batch_axis_ == 0 ? time : 1;
    const int64_t t_stride = batch_axis_ == 0 ? 1 : batch;
    const char* src = static_cast<const char*>(x.raw_data());
    char* dst = static_cast<char*>(out->raw_data());
    ctx.pool().ParallelFor(batch * time, GrainFor(static_cast<int64_t>(row)), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t b = p / time;
        const int64_t t = p % time;
        const int64_t from = t < len[b] ? len[b] - 1 - t : t;
        std::memcpy(dst + (b * b_stride + t * t_stride) * row, src + (b * b_stride + from * t_stride) * row, row);
      }
    });
    return Status::Ok();
  }

 private:
  int64_t batch_axis_ = 1;
};

}  // namespace

Status RegisterIndexOps(OpRegistry& registry) {
  const std::vector<DataType> numeric = NumericTypes();
  const std::vector<DataType>& all = AllFixedSizeTypes();
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Hardmax", 1, 10, FloatTypes(), InferHardmax, MakeKernel<HardmaxKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Hardmax", 11, 12, FloatTypes(), InferHardmax, MakeKernel<HardmaxKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "Hardmax", 13, kMaxOpset, FloatTypes(), InferHardmax, MakeKernel<HardmaxKernel>));
  const std::vector<DataType> cumsum = {DataType::kFloat32, DataType::kFloat64, DataType::kInt32,
                                        DataType::kInt64,   DataType::kUint32,  DataType::kUint64};
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "CumSum", 11, 13, cumsum, InferCumSum, MakeKernel<CumSumKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "CumSum", 14, kMaxOpset, cumsum, InferCumSum, MakeKernel<CumSumKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "TopK", 1, 9, numeric, InferTopK, MakeKernel<TopKKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "TopK", 10, 10, numeric, InferTopK, MakeKernel<TopKKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "TopK", 11, kMaxOpset, numeric, InferTopK, MakeKernel<TopKKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "OneHot", 9, 10, numeric, InferOneHot, MakeKernel<OneHotKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "OneHot", 11, kMaxOpset, numeric, InferOneHot, MakeKernel<OneHotKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "EyeLike", 9, kMaxOpset, all, InferEyeLike, MakeKernel<EyeLikeKernel>));
  return AddOp(registry, "ReverseSequence", 10, kMaxOpset, all, InferReverseSequence,
               MakeKernel<ReverseSequenceKernel>);
}

}  // namespace edgeai::cpu
