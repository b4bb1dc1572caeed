// Ops that assemble or cut tensors: Concat, Split, Slice. Copies are memcpy runs over contiguous blocks.
#include <cmath>
#include <cstring>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

// ----------------------------------------------------------------------------------------------------- Concat

Status ConcatAxis(const InferenceContext& ctx, int64_t* axis) {
  if (!ctx.attrs().Has("axis") && ctx.opset() >= 4) return ctx.Error("missing attribute 'axis'");
  *axis = ctx.attrs().GetInt("axis", 1);
  return Status::Ok();
}

Status InferConcat(InferenceContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("needs at least one input");
  int64_t axis = 0;
  EDGEAI_RETURN_IF_ERROR(ConcatAxis(ctx, &axis));
  const ValueType* first_known = nullptr;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    if (ctx.input(i).dtype != ctx.input(0).dtype) {
      return ctx.Error("input #" + std::to_string(i) + " is " + ctx.input(i).ToString() + " but input #0 is " +
                       ctx.input(0).ToString());
    }
    if (!first_known && ctx.input(i).rank_known) first_known = &ctx.input(i);
  }
  DataType dtype = ctx.input(0).dtype;
  if (first_known == nullptr) {
    ctx.output(0) = ValueType::UnknownRank(dtype);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(first_known->dims.rank());
  EDGEAI_ASSIGN_OR_RETURN(axis, NormalizeAxis(ctx, axis, rank));
  Shape out = first_known->dims;
  int64_t sum = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const ValueType& in = ctx.input(i);
    if (!in.rank_known) {
      sum = -1;
      continue;
    }
    if (static_cast<int64_t>(in.dims.rank()) != rank) {
      return ctx.Error("input #" + std::to_string(i) + " " + in.ToString() + " has another rank than " +
                       first_known->ToString());
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) continue;
      if (out[d] < 0) {
        out[d] = in.dims[d];
      } else if (in.dims[d] >= 0 && in.dims[d] != out[d]) {
        return ctx.Error("input #" + std::to_string(i) + " " + in.ToString() + " differs from " +
                         first_known->ToString() + " in dim " + std::to_string(d) + " (not the concat axis)");
      }
    }
    sum = (sum < 0 || in.dims[axis] < 0) ? -1 : sum + in.dims[axis];
  }
  out[axis] = sum;
  ctx.output(0) = ValueType::Of(dtype, out);
  return Status::Ok();
}

class ConcatKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ConcatAxis(ctx, &axis_); }
  Status Compute(KernelContext& ctx) const override {
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    const Shape& dims = out->shape();
    size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(dims.rank()) : axis_);
    int64_t outer = dims.SizeFromTo(0, axis);
    int64_t inner_bytes = dims.SizeFromTo(axis + 1, dims.rank()) * static_cast<int64_t>(DataTypeSize(out->dtype()));
    int64_t row_bytes = dims[axis] * inner_bytes;
    char* dst = static_cast<char*>(out->raw_data());
    size_t n = ctx.num_inputs();
    if (outer == 1) {
      for (size_t i = 0; i < n; ++i) {
        const Tensor& in = *ctx.input(i);
        CopyBytes(ctx.pool(), dst, in.raw_data(), in.ByteSize());
        dst += in.ByteSize();
      }
      return Status::Ok();
    }
    ctx.pool().ParallelFor(outer, GrainFor(row_bytes), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        char* row = dst + o * row_bytes;
        for (size_t i = 0; i < n; ++i) {
          const Tensor& in = *ctx.input(i);
          int64_t bytes = in.shape()[axis] * inner_bytes;
          std::memcpy(row, static_cast<const char*>(in.raw_data()) + o * bytes, static_cast<size_t>(bytes));
          row += bytes;
        }
      }
    });
    return Status::Ok();
  }

 private:
  int64_t axis_ = 1;
};

// ------------------------------------------------------------------------------------------------------ Split

// The part sizes of Split along an axis of size `dim` (-1 when unknown): from the `split` attribute (opset
// 1-12) or input (opset 1 and 13+), from `num_outputs` (opset 18+, last part smaller), else equal parts.
Status SplitSizes(const InferenceContext& ctx, int64_t dim, Shape* sizes) {
  int64_t n = static_cast<int64_t>(ctx.num_outputs());
  if (n == 0) return ctx.Error("needs at least one output");
  const std::vector<int64_t>* attr = ctx.opset() < 13 ? FindInts(ctx.attrs(), "split") : nullptr;
  bool has_input = (ctx.opset() == 1 || ctx.opset() >= 13) && ctx.has_input(1);
  int64_t num_outputs = ctx.opset() >= 18 ? ctx.attrs().GetInt("num_outputs", 0) : 0;
  if (num_outputs != 0 && num_outputs != n) {
    return ctx.Error("num_outputs is " + std::to_string(num_outputs) + " but the node has " + std::to_string(n) +
                     " outputs");
  }
  if (num_outputs != 0 && (attr || has_input)) return ctx.Error("give either 'split' or 'num_outputs', not both");
  sizes->resize(0);
  sizes->resize(static_cast<size_t>(n), -1);
  if (attr || has_input) {
    if (!attr && ctx.input_value(1) == nullptr) return Status::Ok();
    Shape split;
    if (attr) {
      IntsToShape(*attr, &split);
    } else {
      EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, 1, "split", &split));
    }
    if (static_cast<int64_t>(split.rank()) != n) {
      return ctx.Error("split " + IntsToString(split) + " has " + std::to_string(split.rank()) +
                       " parts but the node has " + std::to_string(n) + " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : split) {
      if (s < 0) return ctx.Error("split " + IntsToString(split) + " has a negative part");
      sum += s;
    }
    if (dim >= 0 && sum != dim) {
      return ctx.Error("split " + IntsToString(split) + " sums to " + std::to_string(sum) + " but the axis has size " +
                       std::to_string(dim));
    }
    *sizes = split;
    return Status::Ok();
  }
  if (dim < 0) return Status::Ok();
  if (num_outputs != 0) {
    int64_t chunk = (dim + n - 1) / n;
    if (chunk * (n - 1) >= dim && dim > 0) {
      return ctx.Error("cannot split an axis of size " + std::to_string(dim) + " into " + std::to_string(n) +
                       " non-empty parts");
    }
    for (int64_t i = 0; i < n; ++i) (*sizes)[i] = std::min(chunk, dim - i * chunk);
    return Status::Ok();
  }
  if (dim % n != 0) {
    return ctx.Error("cannot split an axis of size " + std::to_string(dim) + " into " + std::to_string(n) +
                     " equal parts; give 'split'");
  }
  for (int64_t i = 0; i < n; ++i) (*sizes)[i] = dim / n;
  return Status::Ok();
}

Status InferSplit(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  Shape sizes;
  if (!in.rank_known) {
    EDGEAI_RETURN_IF_ERROR(SplitSizes(ctx, -1, &sizes));
    for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.output(i) = ValueType::UnknownRank(in.dtype);
    return Status::Ok();
  }
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis,
                          NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), static_cast<int64_t>(in.dims.rank())));
  EDGEAI_RETURN_IF_ERROR(SplitSizes(ctx, in.dims[axis], &sizes));
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    Shape dims = in.dims;
    dims[axis] = sizes[i];
    ctx.output(i) = ValueType::Of(in.dtype, dims);
  }
  return Status::Ok();
}

class SplitKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 0);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    const Shape& dims = in.shape();
    size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + static_cast<int64_t>(dims.rank()) : axis_);
    int64_t outer = dims.SizeFromTo(0, axis);
    int64_t inner_bytes = dims.SizeFromTo(axis + 1, dims.rank()) * static_cast<int64_t>(DataTypeSize(in.dtype()));
    int64_t row_bytes = dims[axis] * inner_bytes;
    // Only grows, so that warm runs do not allocate.
    thread_local std::vector<char*> outs;
    size_t n = ctx.num_outputs();
    outs.resize(n);
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(i));
      outs[i] = static_cast<char*>(out->raw_data());
      total += out->shape()[axis];
    }
    if (total != dims[axis]) return ctx.Error("output sizes do not add up to the split axis");
    const char* src = static_cast<const char*>(in.raw_data());
    if (outer == 1) {
      for (size_t i = 0; i < n; ++i) {
        int64_t bytes = ctx.inferred_output(i).dims[axis] * inner_bytes;
        CopyBytes(ctx.pool(), outs[i], src, static_cast<size_t>(bytes));
        src += bytes;
      }
      return Status::Ok();
    }
    // The workers must see this thread's vector, not their own thread_local one.
    std::vector<char*>& out_ptrs = outs;
    ctx.pool().ParallelFor(outer, GrainFor(row_bytes), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const char* row = src + o * row_bytes;
        for (size_t i = 0; i < n; ++i) {
          int64_t bytes = ctx.inferred_output(i).dims[axis] * inner_bytes;
          std::memcpy(out_ptrs[i] + o * bytes, row, static_cast<size_t>(bytes));
          row += bytes;
        }
      }
    });
    return Status::Ok();
  }

 private:
  int64_t axis_ = 0;
};

// ------------------------------------------------------------------------------------------------------ Slice

struct SliceArgs {
  Shape starts, ends, axes, steps;
  bool has_axes = false;
  bool has_steps = false;
};

// Per dim of `dims`: first index, step and count (identity for dims not sliced; count -1 for unknown dims).
// Clamping follows the opset 13 text, which also describes the older versions' behaviour.
Status ResolveSlice(const Shape& dims, const SliceArgs& a, Shape* start, Shape* step, Shape* count) {
  size_t n = a.starts.rank();
  int64_t rank = static_cast<int64_t>(dims.rank());
  if (a.ends.rank() != n) return InvalidArgument("starts and ends have different lengths");
  if (a.has_axes && a.axes.rank() != n) return InvalidArgument("axes and starts have different lengths");
  if (a.has_steps && a.steps.rank() != n) return InvalidArgument("steps and starts have different lengths");
  if (!a.has_axes && static_cast<int64_t>(n) > rank) {
    return InvalidArgument("starts has more entries than the input rank " + std::to_string(rank));
  }
  start->resize(0);
  start->resize(dims.rank(), 0);
  step->resize(0);
  step->resize(dims.rank(), 1);
  *count = dims;
  Shape seen;
  seen.resize(dims.rank(), 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = a.has_axes ? a.axes[i] : static_cast<int64_t>(i);
    if (axis < -rank || axis >= rank) {
      return InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    if (axis < 0) axis += rank;
    if (seen[axis]) return InvalidArgument("axis " + std::to_string(axis) + " is sliced twice");
    seen[axis] = 1;
    int64_t s = a.has_steps ? a.steps[i] : 1;
    if (s == 0) return InvalidArgument("steps must not be 0");
    (*step)[axis] = s;
    int64_t dim = dims[axis];
    if (dim < 0) continue;  // count stays unknown
    int64_t b = a.starts[i] < 0 ? a.starts[i] + dim : a.starts[i];
    int64_t e = a.ends[i] < 0 ? a.ends[i] + dim : a.ends[i];
    int64_t c;
    if (s > 0) {
      b = std::min(std::max<int64_t>(b, 0), dim);
      e = std::min(std::max<int64_t>(e, 0), dim);
      c = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = std::min(std::max<int64_t>(b, 0), dim - 1);
      e = std::min(std::max<int64_t>(e, -1), dim - 1);
      c = b > e ? (b - e - s - 1) / -s : 0;
    }
    (*start)[axis] = c > 0 ? b : 0;
    (*count)[axis] = c;
  }
  return Status::Ok();
}

// Reads the slice arguments: attributes before opset 10, inputs 1..4 from 10. `known` is false when an input
// value is not known yet; then `axes_known` says whether at least the sliced axes are.
Status ReadSliceArgs(const InferenceContext& ctx, SliceArgs* a, bool* known, bool* axes_known) {
  *known = true;
  *axes_known = true;
  if (ctx.opset() < 10) {
    const std::vector<int64_t>* starts = FindInts(ctx.attrs(), "starts");
    const std::vector<int64_t>* ends = FindInts(ctx.attrs(), "ends");
    const std::vector<int64_t>* axes = FindInts(ctx.attrs(), "axes");
    if (!starts || !ends) return ctx.Error("missing attribute 'starts' or 'ends'");
    IntsToShape(*starts, &a->starts);
    IntsToShape(*ends, &a->ends);
    a->has_axes = axes != nullptr;
    if (axes) IntsToShape(*axes, &a->axes);
    return Status::Ok();
  }
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(2));
  a->has_axes = ctx.has_input(3);
  a->has_steps = ctx.has_input(4);
  if (a->has_axes && ctx.input_value(3) == nullptr) *axes_known = false;
  if (a->has_axes && *axes_known) EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, 3, "axes", &a->axes));
  const char* names[] = {"starts", "ends", "axes", "steps"};
  Shape* targets[] = {&a->starts, &a->ends, &a->axes, &a->steps};
  for (size_t i = 1; i <= 4; ++i) {
    if (i == 3 || !ctx.has_input(i)) continue;
    if (ctx.input_value(i) == nullptr) {
      *known = false;
      continue;
    }
    EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, i, names[i - 1], targets[i - 1]));
  }
  if (!*axes_known) *known = false;
  if (!*known && !a->has_axes) {
    // The default axes are 0..n-1 with n the length of `starts`, when its type says it.
    ValueType len = RankFromLength(ctx, 1, DataType::kInt64);
    *axes_known = len.rank_known;
    a->axes.resize(0);
    for (size_t i = 0; i < len.dims.rank(); ++i) a->axes.push_back(static_cast<int64_t>(i));
  }
  return Status::Ok();
}

Status InferSlice(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  SliceArgs args;
  bool known = false;
  bool axes_known = false;
  EDGEAI_RETURN_IF_ERROR(ReadSliceArgs(ctx, &args, &known, &axes_known));
  if (!in.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(in.dtype);
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in.dims.rank());
  Shape out = in.dims;
  if (known) {
    Shape start, step;
    Status status = ResolveSlice(in.dims, args, &start, &step, &out);
    if (!status.ok()) return ctx.Error(status.message());
  } else {
    if (!axes_known) {
      out.resize(0);
      out.resize(static_cast<size_t>(rank), -1);
    } else {
      for (int64_t axis : args.axes) {
        if (axis < -rank || axis >= rank) {
          return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
        }
        out[axis < 0 ? axis + rank : axis] = -1;
      }
    }
  }
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

class SliceKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    opset_ = ctx.opset();
    if (opset_ < 10) {
      bool known = false;
      bool axes_known = false;
      return ReadSliceArgs(ctx, &attr_args_, &known, &axes_known);
    }
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    SliceArgs args;
    if (opset_ < 10) {
      args = attr_args_;
    } else {
      EDGEAI_RETURN_IF_ERROR(ReadKernelInts(ctx, 1, "starts", &args.starts));
      EDGEAI_RETURN_IF_ERROR(ReadKernelInts(ctx, 2, "ends", &args.ends));
      args.has_axes = ctx.input(3) != nullptr;
      args.has_steps = ctx.input(4) != nullptr;
      if (args.has_axes) EDGEAI_RETURN_IF_ERROR(ReadKernelInts(ctx, 3, "axes", &args.axes));
      if (args.has_steps) EDGEAI_RETURN_IF_ERROR(ReadKernelInts(ctx, 4, "steps", &args.steps));
    }
    Shape start, step, count;
    Status status = ResolveSlice(in.shape(), args, &start, &step, &count);
    if (!status.ok()) return ctx.Error(status.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, count));
    if (out->NumElements() == 0) return Status::Ok();
    Shape strides = ContiguousStrides(in.shape());
    int64_t offset = 0;
    for (size_t i = 0; i < strides.rank(); ++i) {
      offset += start[i] * strides[i];
      strides[i] *= step[i];
    }
    size_t elem = DataTypeSize(in.dtype());
    const char* src = static_cast<const char*>(in.raw_data()) + offset * static_cast<int64_t>(elem);
    StridedCopy(ctx.pool(), elem, count, strides, src, out->raw_data());
    return Status::Ok();
  }

 private:
  static Status ReadKernelInts(KernelContext& ctx, size_t i, const char* what, Shape* out) {
    Status status = ReadInts(*ctx.input(i), what, out);
    return status.ok() ? status : ctx.Error(status.message());
  }

  int opset_ = 0;
  SliceArgs attr_args_;
};

}  // namespace

Status RegisterTensorOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Concat", 1, 3, all, InferConcat, MakeKernel<ConcatKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Concat", 4, 10, all, InferConcat, MakeKernel<ConcatKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Concat", 11, kMaxOpset, all, InferConcat, MakeKernel<ConcatKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Split", 1, 1, all, InferSplit, MakeKernel<SplitKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Split", 2, 12, all, InferSplit, MakeKernel<SplitKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Split", 13, 17, all, InferSplit, MakeKernel<SplitKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Split", 18, kMaxOpset, all, InferSplit, MakeKernel<SplitKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Slice", 1, 9, all, InferSlice, MakeKernel<SliceKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Slice", 10, kMaxOpset, all, InferSlice, MakeKernel<SliceKernel>));
  return Status::Ok();
}

}  // namespace edgeai::cpu
