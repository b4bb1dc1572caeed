// Index-driven writes and their N-d gather: Scatter, ScatterElements, ScatterND and GatherND.
//
// Scatters start from a copy of `data` and apply updates in index order. Updates that may hit the same output
// element are kept on one thread, in order, so duplicate indices reduce deterministically: ScatterElements
// splits the work over lines that run along `axis` (elements of different lines never collide) and ScatterND
// over columns of the updated slices. Index values are validated in a pre-pass, before any output is written.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

bool IsIndexType(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }

int64_t IndexAt(const Tensor& indices, int64_t i) {
  return indices.dtype() == DataType::kInt64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
}

std::string RangeError(int64_t index, int64_t axis, int64_t size) {
  return "index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) + " of size " +
         std::to_string(size);
}

// ------------------------------------------------------------------------------------------------ reductions

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

// Parses `reduction`; add/mul exist from opset 16, max/min from 18.
Status ParseReduction(const InferenceContext& ctx, Reduction* out) {
  const Attribute* attr = ctx.attrs().Find("reduction");
  *out = Reduction::kNone;
  if (attr == nullptr) return Status::Ok();
  const std::string& s = attr->s;
  int since = 16;
  if (s == "none") {
    *out = Reduction::kNone;
  } else if (s == "add") {
    *out = Reduction::kAdd;
  } else if (s == "mul") {
    *out = Reduction::kMul;
  } else if (s == "max" || s == "min") {
    *out = s == "max" ? Reduction::kMax : Reduction::kMin;
    since = 18;
  } else {
    return ctx.Error("reduction '" + s + "' is not one of none, add, mul, max, min");
  }
  if (ctx.opset() < since) {
    return ctx.Error("reduction '" + s + "' needs opset " + std::to_string(since) + " or later (model uses " +
                     std::to_string(ctx.opset()) + ")");
  }
  return Status::Ok();
}

// bfloat16 has no C++ type in edgeai; reductions widen it to float like float16.
struct BFloat16Bits {
  uint16_t bits;
};
float Widen(Float16 v) { return HalfToFloat(v.bits); }
float Widen(BFloat16Bits v) {
  uint32_t bits = static_cast<uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}
template <typename T>
T Widen(T v) {
  return v;
}
void Narrow(float v, Float16* out) { out->bits = FloatToHalf(v); }
void Narrow(float v, BFloat16Bits* out) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    out->bits = static_cast<uint16_t>((bits >> 16) | 0x40);  // keep NaN a (quiet) NaN
    return;
  }
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  out->bits = static_cast<uint16_t>(bits >> 16);
}
template <typename T, typename V>
void Narrow(V v, T* out) {
  *out = static_cast<T>(v);  // integer add/mul wrap; bool add is "or", mul is "and"
}

struct Assign {
  template <typename T>
  void operator()(T& dst, const T& src) const {
    dst = src;
  }
};
template <Reduction kOp>
struct Combine {
  template <typename T>
  void operator()(T& dst, const T& src) const {
    auto a = Widen(dst);
    auto b = Widen(src);
    if constexpr (kOp == Reduction::kAdd) Narrow(a + b, &dst);
    if constexpr (kOp == Reduction::kMul) Narrow(a * b, &dst);
    if constexpr (kOp == Reduction::kMax) Narrow(a < b ? b : a, &dst);
    if constexpr (kOp == Reduction::kMin) Narrow(b < a ? b : a, &dst);
  }
};

// Calls f(TypeTag<T>, op) with the element type and the update functor. Without a reduction only the element
// size matters; reductions need the real type (every fixed-size dtype has one).
template <typename F>
Status VisitScatter(DataType dtype, Reduction reduction, F&& f) {
  if (reduction == Reduction::kNone) return VisitBySize(dtype, [&](auto tag) { return f(tag, Assign{}); });
  auto with_op = [&](auto tag) -> Status {
    switch (reduction) {
      case Reduction::kAdd:
        return f(tag, Combine<Reduction::kAdd>{});
      case Reduction::kMul:
        return f(tag, Combine<Reduction::kMul>{});
      case Reduction::kMax:
        return f(tag, Combine<Reduction::kMax>{});
      default:
        return f(tag, Combine<Reduction::kMin>{});
    }
  };
  switch (dtype) {
    case DataType::kBool:
      return with_op(TypeTag<bool>{});
    case DataType::kFloat16:
      return with_op(TypeTag<Float16>{});
    case DataType::kBFloat16:
      return with_op(TypeTag<BFloat16Bits>{});
    default:
      return VisitNumeric(dtype, with_op);
  }
}

// -------------------------------------------------------------------------------------------- ScatterElements

Status InferScatterElements(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& data = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  const ValueType& updates = ctx.input(2);
  if (!IsIndexType(indices.dtype)) return ctx.Error("indices must be int32 or int64, got " + indices.ToString());
  if (updates.dtype != data.dtype) {
    return ctx.Error("updates " + updates.ToString() + " must have the dtype of data " + data.ToString());
  }
  ctx.output(0) = data;
  if (!data.rank_known) return Status::Ok();
  int64_t rank = static_cast<int64_t>(data.dims.rank());
  if (rank == 0) return ctx.Error("data must have rank 1 or more");
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), rank));
  Reduction reduction;
  EDGEAI_RETURN_IF_ERROR(ParseReduction(ctx, &reduction));
  if (!indices.rank_known) return Status::Ok();
  if (indices.dims.rank() != data.dims.rank()) {
    return ctx.Error("indices " + indices.ToString() + " must have the rank of data " + data.ToString());
  }
  if (updates.rank_known) {
    bool same = updates.dims.rank() == indices.dims.rank();
    for (size_t d = 0; same && d < updates.dims.rank(); ++d) {
      same = updates.dims[d] < 0 || indices.dims[d] < 0 || updates.dims[d] == indices.dims[d];
    }
    if (!same)
      return ctx.Error("updates " + updates.ToString() + " must have the shape of indices " + indices.ToString());
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (d != axis && data.dims[d] >= 0 && indices.dims[d] > data.dims[d]) {
      return ctx.Error("indices " + indices.ToString() + " exceed data " + data.ToString() + " in dim " +
                       std::to_string(d));
    }
  }
  return Status::Ok();
}

// Applies the updates line by line; a line is every position of `indices` that differs only along `axis`.
template <typename T, typename I, typename Op>
void ScatterLines(const ThreadPool& pool, const Shape& data_dims, const Tensor& indices, size_t axis, const T* upd,
                  T* out, Op op) {
  const Shape& idims = indices.shape();
  Shape lines_dims = idims;
  lines_dims[axis] = 1;
  Shape out_strides = ContiguousStrides(data_dims);
  Shape in_strides = ContiguousStrides(idims);
  const int64_t len = idims[axis];
  const int64_t in_step = in_strides[axis];
  const int64_t out_step = out_strides[axis];
  const int64_t size = data_dims[axis];
  const I* idx = indices.data<I>();
  pool.ParallelFor(lines_dims.NumElements(), GrainFor(len * 16), [&](int64_t begin, int64_t end) {
    IndexWalker w(lines_dims, out_strides, in_strides, begin);
    for (int64_t line = begin; line < end; ++line, w.Next()) {
      for (int64_t a = 0; a < len; ++a) {
        const int64_t pos = w.b() + a * in_step;
        const int64_t k = idx[pos] < 0 ? idx[pos] + size : idx[pos];
        op(out[w.a() + k * out_step], upd[pos]);
      }
    }
  });
}

class ScatterElementsKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 0);
    return ParseReduction(ctx, &reduction_);
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    EDGEAI_RETURN_IF_ERROR(Validate(ctx, data, indices, updates));
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(data.rank()) : axis_);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, data.shape()));
    CopyBytes(ctx.pool(), out->raw_data(), data.raw_data(), data.ByteSize());
    if (indices.NumElements() == 0) return Status::Ok();
    return VisitScatter(data.dtype(), reduction_, [&](auto tag, auto op) {
      using T = typename decltype(tag)::type;
      if (indices.dtype() == DataType::kInt64) {
        ScatterLines<T, int64_t>(ctx.pool(), data.shape(), indices, axis, updates.data<T>(), out->data<T>(), op);
      } else {
        ScatterLines<T, int32_t>(ctx.pool(), data.shape(), indices, axis, updates.data<T>(), out->data<T>(), op);
      }
      return Status::Ok();
    });
  }

 private:
  Status Validate(const KernelContext& ctx, const Tensor& data, const Tensor& indices, const Tensor& updates) const {
    const int64_t rank = static_cast<int64_t>(data.rank());
    if (rank == 0 || axis_ < -rank || axis_ >= rank) {
      return ctx.Error("axis " + std::to_string(axis_) + " is out of range for data " + data.Describe());
    }
    if (indices.rank() != data.rank() || updates.shape() != indices.shape()) {
      return ctx.Error("indices " + indices.Describe() + " and updates " + updates.Describe() +
                       " must have one shape, of the rank of data " + data.Describe());
    }
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    for (int64_t d = 0; d < rank; ++d) {
      if (d != axis && indices.shape()[d] > data.shape()[d]) {
        return ctx.Error("indices " + indices.Describe() + " exceed data " + data.Describe() + " in dim " +
                         std::to_string(d));
      }
    }
    const int64_t size = data.shape()[axis];
    for (int64_t i = 0; i < indices.NumElements(); ++i) {
      const int64_t index = IndexAt(indices, i);
      if (index < -size || index >= size) return ctx.Error(RangeError(index, axis, size));
    }
    return Status::Ok();
  }

  int64_t axis_ = 0;
  Reduction reduction_ = Reduction::kNone;
};

// --------------------------------------------------------------------------------- ScatterND and GatherND

// Shared checks of data [r dims] and indices [..., k]; `batch` leading dims of both must agree (GatherND).
Status CheckNdIndices(const InferenceContext& ctx, const ValueType& data, const ValueType& indices, int64_t batch) {
  if (!IsIndexType(indices.dtype)) return ctx.Error("indices must be int32 or int64, got " + indices.ToString());
  if (!data.rank_known || !indices.rank_known) return Status::Ok();
  const int64_t r = static_cast<int64_t>(data.dims.rank());
  const int64_t q = static_cast<int64_t>(indices.dims.rank());
  if (r < 1 || q < 1) return ctx.Error("data and indices must have rank 1 or more");
  if (batch < 0 || batch >= std::min(r, q)) {
    return ctx.Error("batch_dims " + std::to_string(batch) + " must be less than the ranks of data " + data.ToString() +
                     " and indices " + indices.ToString());
  }
  for (int64_t d = 0; d < batch; ++d) {
    if (data.dims[d] >= 0 && indices.dims[d] >= 0 && data.dims[d] != indices.dims[d]) {
      return ctx.Error("batch dim " + std::to_string(d) + " differs between data " + data.ToString() + " and indices " +
                       indices.ToString());
    }
  }
  const int64_t k = indices.dims[q - 1];
  if (k > r - batch) {
    return ctx.Error("indices " + indices.ToString() + " address " + std::to_string(k) + " dims, more than data " +
                     data.ToString() + " has after " + std::to_string(batch) + " batch dims");
  }
  return Status::Ok();
}

// Flat element offsets (within one batch block of data) of every index tuple, validated. Thread-local storage
// that only grows, so warm runs do not allocate.
Status TupleOffsets(const KernelContext& ctx, const Shape& dims, int64_t batch, const Tensor& indices,
                    const std::vector<int64_t>** out) {
  thread_local std::vector<int64_t> offsets;
  const int64_t k = indices.shape().back();
  const int64_t count = indices.shape().SizeFromTo(0, indices.rank() - 1);
  offsets.resize(static_cast<size_t>(count));
  Shape strides = ContiguousStrides(dims);
  for (int64_t t = 0; t < count; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t axis = batch + j;
      const int64_t size = dims[axis];
      int64_t index = IndexAt(indices, t * k + j);
      if (index < -size || index >= size) return ctx.Error(RangeError(index, axis, size));
      offset += (index < 0 ? index + size : index) * strides[axis];
    }
    offsets[t] = offset;
  }
  *out = &offsets;
  return Status::Ok();
}

Status InferScatterNd(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& data = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  const ValueType& updates = ctx.input(2);
  if (updates.dtype != data.dtype) {
    return ctx.Error("updates " + updates.ToString() + " must have the dtype of data " + data.ToString());
  }
  Reduction reduction;
  EDGEAI_RETURN_IF_ERROR(ParseReduction(ctx, &reduction));
  EDGEAI_RETURN_IF_ERROR(CheckNdIndices(ctx, data, indices, 0));
  ctx.output(0) = data;
  if (!data.rank_known || !indices.rank_known || !updates.rank_known || indices.dims.back() < 0) {
    return Status::Ok();
  }
  // updates = indices.shape[:-1] + data.shape[k:]
  const size_t q = indices.dims.rank();
  const size_t k = static_cast<size_t>(indices.dims.back());
  Shape want(indices.dims.data(), q - 1);
  for (size_t d = k; d < data.dims.rank(); ++d) want.push_back(data.dims[d]);
  bool ok = updates.dims.rank() == want.rank();
  for (size_t d = 0; ok && d < want.rank(); ++d) ok = want[d] < 0 || updates.dims[d] < 0 || want[d] == updates.dims[d];
  if (!ok) {
    return ctx.Error("updates " + updates.ToString() + " must have shape " + want.ToString() + " for data " +
                     data.ToString() + " and indices " + indices.ToString());
  }
  return Status::Ok();
}

class ScatterNdKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseReduction(ctx, &reduction_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    const Shape& dims = data.shape();
    if (dims.rank() < 1 || indices.rank() < 1 || indices.shape().back() > static_cast<int64_t>(dims.rank())) {
      return ctx.Error("indices " + indices.Describe() + " do not fit data " + data.Describe());
    }
    const size_t k = static_cast<size_t>(indices.shape().back());
    const int64_t slice = dims.SizeFromTo(k, dims.rank());
    const int64_t tuples = indices.shape().SizeFromTo(0, indices.rank() - 1);
    if (updates.NumElements() != tuples * slice || updates.rank() != indices.rank() - 1 + dims.rank() - k) {
      return ctx.Error("updates " + updates.Describe() + " do not match indices " + indices.Describe() + " and data " +
                       data.Describe());
    }
    const std::vector<int64_t>* offsets = nullptr;
    EDGEAI_RETURN_IF_ERROR(TupleOffsets(ctx, dims, 0, indices, &offsets));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, dims));
    CopyBytes(ctx.pool(), out->raw_data(), data.raw_data(), data.ByteSize());
    const int64_t* base = offsets->data();
    return VisitScatter(data.dtype(), reduction_, [&](auto tag, auto op) {
      using T = typename decltype(tag)::type;
      const T* src = updates.data<T>();
      T* dst = out->data<T>();
      // Columns of the slices are independent; within a column the tuples apply in order.
      ctx.pool().ParallelFor(slice, GrainFor(tuples * 16), [&](int64_t b, int64_t e) {
        for (int64_t t = 0; t < tuples; ++t) {
          T* to = dst + base[t];
          const T* from = src + t * slice;
          for (int64_t j = b; j < e; ++j) op(to[j], from[j]);
        }
      });
      return Status::Ok();
    });
  }

 private:
  Reduction reduction_ = Reduction::kNone;
};

Status InferGatherNd(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& data = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  const int64_t batch = ctx.opset() >= 12 ? ctx.attrs().GetInt("batch_dims", 0) : 0;
  EDGEAI_RETURN_IF_ERROR(CheckNdIndices(ctx, data, indices, batch));
  if (!data.rank_known || !indices.rank_known || indices.dims.back() < 0) {
    ctx.output(0) = ValueType::UnknownRank(data.dtype);
    return Status::Ok();
  }
  // indices.shape[:-1] + data.shape[batch + k:]
  Shape out(indices.dims.data(), indices.dims.rank() - 1);
  for (size_t d = static_cast<size_t>(batch + indices.dims.back()); d < data.dims.rank(); ++d) {
    out.push_back(data.dims[d]);
  }
  ctx.output(0) = ValueType::Of(data.dtype, out);
  return Status::Ok();
}

class GatherNdKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    batch_ = ctx.opset() >= 12 ? ctx.attrs().GetInt("batch_dims", 0) : 0;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Shape& dims = data.shape();
    const int64_t r = static_cast<int64_t>(dims.rank());
    const int64_t q = static_cast<int64_t>(indices.rank());
    if (r < 1 || q < 1 || batch_ < 0 || batch_ >= std::min(r, q) || indices.shape().back() > r - batch_) {
      return ctx.Error("indices " + indices.Describe() + " do not fit data " + data.Describe() + " with batch_dims " +
                       std::to_string(batch_));
    }
    for (int64_t d = 0; d < batch_; ++d) {
      if (dims[d] != indices.shape()[d]) {
        return ctx.Error("batch dim " + std::to_string(d) + " differs between data " + data.Describe() +
                         " and indices " + indices.Describe());
      }
    }
    const int64_t k = indices.shape().back();
    const int64_t slice = dims.SizeFromTo(static_cast<size_t>(batch_ + k), dims.rank());
    const int64_t block = dims.SizeFromTo(static_cast<size_t>(batch_), dims.rank());
    const int64_t tuples = indices.shape().SizeFromTo(0, indices.rank() - 1);
    const int64_t per_batch = indices.shape().SizeFromTo(static_cast<size_t>(batch_), indices.rank() - 1);
    const std::vector<int64_t>* offsets = nullptr;
    EDGEAI_RETURN_IF_ERROR(TupleOffsets(ctx, dims, batch_, indices, &offsets));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    if (out->NumElements() == 0) return Status::Ok();
    const int64_t* base = offsets->data();
    return VisitBySize(data.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = data.data<T>();
      T* dst = out->data<T>();
      const size_t bytes = static_cast<size_t>(slice) * sizeof(T);
      ctx.pool().ParallelFor(tuples, GrainFor(static_cast<int64_t>(bytes)), [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          const T* from = src + (t / per_batch) * block + base[t];
          if (slice == 1) {
            dst[t] = *from;
          } else {
            std::memcpy(dst + t * slice, from, bytes);
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  int64_t batch_ = 0;
};

}  // namespace

Status RegisterScatterOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  auto scatter = MakeKernel<ScatterElementsKernel>;
  // Scatter (9-10) is ScatterElements under its old name; it was deprecated at opset 11.
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Scatter", 9, 10, all, InferScatterElements, scatter));
  const int ranges[][2] = {{11, 12}, {13, 15}, {16, 17}, {18, kMaxOpset}};
  for (const auto& r : ranges) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "ScatterElements", r[0], r[1], all, InferScatterElements, scatter));
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "ScatterND", r[0], r[1], all, InferScatterNd, MakeKernel<ScatterNdKernel>));
  }
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "GatherND", 11, 11, all, InferGatherNd, MakeKernel<GatherNdKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "GatherND", 12, 12, all, InferGatherNd, MakeKernel<GatherNdKernel>));
  return AddOp(registry, "GatherND", 13, kMaxOpset, all, InferGatherNd, MakeKernel<GatherNdKernel>);
}

}  // namespace edgeai::cpu
