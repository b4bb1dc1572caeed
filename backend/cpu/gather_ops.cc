// Index-driven copies: Gather, GatherElements, Tile and Trilu.
#include <cstring>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

bool IsIndexType(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }

int64_t IndexAt(const Tensor& indices, int64_t i) {
  return indices.dtype() == DataType::kInt64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
}

// Error naming the first index outside [-size, size), as both kernels and load-time inference report it.
std::string IndexError(int64_t index, int64_t axis, int64_t size) {
  return "index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) + " of size " +
         std::to_string(size);
}

// ----------------------------------------------------------------------------------------------------- Gather

Status InferGather(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& data = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  if (!IsIndexType(indices.dtype)) return ctx.Error("indices must be int32 or int64, got " + indices.ToString());
  if (!data.rank_known || !indices.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(data.dtype);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(data.dims.rank());
  if (rank == 0) return ctx.Error("data must have rank 1 or more");
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), rank));
  Shape out;
  for (int64_t i = 0; i < axis; ++i) out.push_back(data.dims[i]);
  for (int64_t d : indices.dims) out.push_back(d);
  for (int64_t i = axis + 1; i < rank; ++i) out.push_back(data.dims[i]);
  ctx.output(0) = ValueType::Of(data.dtype, out);
  return Status::Ok();
}

class GatherKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 0);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Shape& dims = data.shape();
    size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(dims.rank()) : axis_);
    int64_t size = dims[axis];
    int64_t count = indices.NumElements();
    // Validated and normalised once up front; only grows, so warm runs do not allocate.
    thread_local std::vector<int64_t> normalized;
    normalized.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      int64_t index = IndexAt(indices, i);
      if (index < -size || index >= size) return ctx.Error(IndexError(index, static_cast<int64_t>(axis), size));
      normalized[i] = index < 0 ? index + size : index;
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    int64_t outer = dims.SizeFromTo(0, axis);
    int64_t inner = dims.SizeFromTo(axis + 1, dims.rank());
    const int64_t* idx = normalized.data();
    return VisitBySize(data.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* src = data.data<T>();
      T* dst = out->data<T>();
      size_t bytes = static_cast<size_t>(inner) * sizeof(T);
      ctx.pool().ParallelFor(outer * count, GrainFor(static_cast<int64_t>(bytes)), [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const T* from = src + ((item / count) * size + idx[item % count]) * inner;
          if (inner == 1) {
            dst[item] = *from;
          } else {
            std::memcpy(dst + item * inner, from, bytes);
          }
        }
      });
      return Status::Ok();
    });
  }

 private:
  int64_t axis_ = 0;
};

// --------------------------------------------------------------------------------------------- GatherElements

Status InferGatherElements(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& data = ctx.input(0);
  const ValueType& indices = ctx.input(1);
  if (!IsIndexType(indices.dtype)) return ctx.Error("indices must be int32 or int64, got " + indices.ToString());
  ctx.output(0) = indices.rank_known ? ValueType::Of(data.dtype, indices.dims) : ValueType::UnknownRank(data.dtype);
  if (!data.rank_known || !indices.rank_known) return Status::Ok();
  int64_t rank = static_cast<int64_t>(data.dims.rank());
  if (rank == 0) return ctx.Error("data must have rank 1 or more");
  if (indices.dims.rank() != data.dims.rank()) {
    return ctx.Error("indices " + indices.ToString() + " must have the rank of data " + data.ToString());
  }
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), rank));
  for (int64_t i = 0; i < rank; ++i) {
    if (i != axis && data.dims[i] >= 0 && indices.dims[i] > data.dims[i]) {
      return ctx.Error("indices " + indices.ToString() + " exceed data " + data.ToString() + " in dim " +
                       std::to_string(i));
    }
  }
  return Status::Ok();
}

template <typename T, typename I>
void GatherElementsRows(const ThreadPool& pool, const Tensor& data, const Tensor& indices, size_t axis, T* dst) {
  const Shape& idims = indices.shape();
  size_t rank = idims.rank();
  Shape data_strides = ContiguousStrides(data.shape());
  int64_t axis_stride = data_strides[axis];
  int64_t size = data.shape()[axis];
  data_strides[axis] = 0;  // the index supplies this coordinate
  Shape outer_dims(idims.data(), rank - 1);
  Shape outer_data(data_strides.data(), rank - 1);
  Shape outer_idx = ContiguousStrides(outer_dims);
  int64_t len = idims[rank - 1];
  int64_t last_stride = axis + 1 == rank ? 0 : 1;
  const T* src = data.data<T>();
  const I* idx = indices.data<I>();
  pool.ParallelFor(outer_dims.NumElements(), GrainFor(len * static_cast<int64_t>(sizeof(T))),
                   [&](int64_t begin, int64_t end) {
                     IndexWalker w(outer_dims, outer_data, outer_idx, begin);
                     for (int64_t row = begin; row < end; ++row, w.Next()) {
                       const T* in = src + w.a();
                       const I* ix = idx + w.b() * len;
                       T* out = dst + row * len;
                       for (int64_t j = 0; j < len; ++j) {
                         int64_t k = ix[j] < 0 ? ix[j] + size : ix[j];
                         out[j] = in[j * last_stride + k * axis_stride];
                       }
                     }
                   });
}

class GatherElementsKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 0);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(data.rank()) : axis_);
    int64_t size = data.shape()[axis];
    for (int64_t i = 0; i < indices.NumElements(); ++i) {
      int64_t index = IndexAt(indices, i);
      if (index < -size || index >= size) return ctx.Error(IndexError(index, static_cast<int64_t>(axis), size));
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    if (out->NumElements() == 0) return Status::Ok();
    return VisitBySize(data.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (indices.dtype() == DataType::kInt64) {
        GatherElementsRows<T, int64_t>(ctx.pool(), data, indices, axis, out->data<T>());
      } else {
        GatherElementsRows<T, int32_t>(ctx.pool(), data, indices, axis, out->data<T>());
      }
      return Status::Ok();
    });
  }

 private:
  int64_t axis_ = 0;
};

// ------------------------------------------------------------------------------------------------------- Tile

// A one-element tensor of any numeric dtype as an integer (Tile-1 takes its `tiles` and `axis` as tensors of
// the data's float type).
Status ScalarAsInt(const Tensor& t, const char* what, int64_t* out) {
  if (t.NumElements() != 1) return InvalidArgument(std::string(what) + " must be a scalar, got " + t.Describe());
  return VisitNumeric(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    *out = static_cast<int64_t>(*t.data<T>());
    return Status::Ok();
  });
}

// Repeats per dim: the `repeats` input (opset 6+) or, at opset 1-5, `tiles` copies along the `axis` input.
Status ReadRepeats(const Tensor* tiles, const Tensor* axis, int opset, size_t rank, Shape* repeats) {
  int64_t r = static_cast<int64_t>(rank);
  if (opset >= 6) {
    EDGEAI_RETURN_IF_ERROR(ReadInts(*tiles, "repeats", repeats));
  } else {
    int64_t count = 0;
    int64_t a = 0;
    EDGEAI_RETURN_IF_ERROR(ScalarAsInt(*tiles, "tiles", &count));
    EDGEAI_RETURN_IF_ERROR(ScalarAsInt(*axis, "axis", &a));
    if (a < -r || a >= r) {
      return InvalidArgument("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
    }
    repeats->resize(0);
    repeats->resize(rank, 1);
    (*repeats)[a < 0 ? a + r : a] = count;
  }
  if (repeats->rank() != rank) {
    return InvalidArgument("repeats " + IntsToString(*repeats) + " must have one entry per input dim (" +
                           std::to_string(rank) + ")");
  }
  for (int64_t v : *repeats) {
    if (v < 0) return InvalidArgument("repeats " + IntsToString(*repeats) + " has a negative entry");
  }
  return Status::Ok();
}

Status InferTile(InferenceContext& ctx) {
  size_t needed = ctx.opset() >= 6 ? 2 : 3;
  for (size_t i = 0; i < needed; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& in = ctx.input(0);
  const Tensor* tiles = ctx.input_value(1);
  const Tensor* axis = needed == 3 ? ctx.input_value(2) : nullptr;
  bool known = tiles && (needed == 2 || axis);
  if (!in.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(in.dtype);
    return Status::Ok();
  }
  Shape out = in.dims;
  if (!known) {
    for (size_t i = 0; i < out.rank(); ++i) out[i] = out[i] == 0 ? 0 : -1;
  } else {
    Shape repeats;
    Status status = ReadRepeats(tiles, axis, ctx.opset(), in.dims.rank(), &repeats);
    if (!status.ok()) return ctx.Error(status.message());
    for (size_t i = 0; i < out.rank(); ++i) out[i] = out[i] < 0 ? (repeats[i] == 0 ? 0 : -1) : out[i] * repeats[i];
  }
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

class TileKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    opset_ = ctx.opset();
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    Shape repeats;
    Status status = ReadRepeats(ctx.input(1), opset_ >= 6 ? nullptr : ctx.input(2), opset_, in.rank(), &repeats);
    if (!status.ok()) return ctx.Error(status.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    // Output dim i of size r*d, row-major, is the pair of dims (r, d) with the repeat dim broadcast (stride 0).
    Shape in_strides = ContiguousStrides(in.shape());
    Shape dims, strides;
    for (size_t i = 0; i < in.rank(); ++i) {
      dims.push_back(repeats[i]);
      strides.push_back(0);
      dims.push_back(in.shape()[i]);
      strides.push_back(in_strides[i]);
    }
    StridedCopy(ctx.pool(), DataTypeSize(in.dtype()), dims, strides, in.raw_data(), out->raw_data());
    return Status::Ok();
  }

 private:
  int opset_ = 0;
};

// ------------------------------------------------------------------------------------------------------ Trilu

Status InferTrilu(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  if (in.rank_known && in.dims.rank() < 2) return ctx.Error("input " + in.ToString() + " must have rank 2 or more");
  if (ctx.has_input(1)) {
    const ValueType& k = ctx.input(1);
    if (k.dtype != DataType::kInt64) return ctx.Error("k must be an int64 scalar, got " + k.ToString());
    if (k.rank_known && k.dims.NumElements() != 1 && !HasUnknownDim(k.dims)) {
      return ctx.Error("k must be an int64 scalar, got " + k.ToString());
    }
  }
  ctx.output(0) = in;
  return Status::Ok();
}

class TriluKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    upper_ = ctx.attrs().GetInt("upper", 1) != 0;
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    int64_t k = ctx.input(1) ? *ctx.input(1)->data<int64_t>() : 0;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    const Shape& dims = in.shape();
    int64_t rows = dims[dims.rank() - 2];
    int64_t cols = dims[dims.rank() - 1];
    size_t elem = DataTypeSize(in.dtype());
    int64_t row_bytes = cols * static_cast<int64_t>(elem);
    const char* src = static_cast<const char*>(in.raw_data());
    char* dst = static_cast<char*>(out->raw_data());
    int64_t total_rows = in.NumElements() / std::max<int64_t>(1, cols);
    if (cols == 0) return Status::Ok();
    ctx.pool().ParallelFor(total_rows, GrainFor(row_bytes), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t i = r % rows;
        // Upper keeps columns j >= i + k; lower keeps j <= i + k. [keep_begin, keep_end) is what is copied.
        int64_t edge = upper_ ? i + k : i + k + 1;
        int64_t split = std::min(cols, std::max<int64_t>(0, edge));
        int64_t keep_begin = upper_ ? split : 0;
        int64_t keep_end = upper_ ? cols : split;
        char* row = dst + r * row_bytes;
        const char* from = src + r * row_bytes;
        std::memset(row, 0, static_cast<size_t>(row_bytes));
        std::memcpy(row + keep_begin * elem, from + keep_begin * elem,
                    static_cast<size_t>(keep_end - keep_begin) * elem);
      }
    });
    return Status::Ok();
  }

 private:
  bool upper_ = true;
};

}  // namespace

Status RegisterGatherOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Gather", 1, 10, all, InferGather, MakeKernel<GatherKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Gather", 11, 12, all, InferGather, MakeKernel<GatherKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Gather", 13, kMaxOpset, all, InferGather, MakeKernel<GatherKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "GatherElements", 11, 12, all, InferGatherElements, MakeKernel<GatherElementsKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "GatherElements", 13, kMaxOpset, all, InferGatherElements, MakeKernel<GatherElementsKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Tile", 1, 5, all, InferTile, MakeKernel<TileKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Tile", 6, 12, all, InferTile, MakeKernel<TileKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Tile", 13, kMaxOpset, all, InferTile, MakeKernel<TileKernel>));
  return AddOp(registry, "Trilu", 14, kMaxOpset, all, InferTrilu, MakeKernel<TriluKernel>);
}

}  // namespace edgeai::cpu
