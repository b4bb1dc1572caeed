// Pad: constant, edge, reflect and (opset 19) wrap modes; negative pads crop. Each output row is either a
// constant fill or one memcpy of the source row plus the few padded elements at its two ends.
#include <cstring>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

enum class PadMode { kConstant, kEdge, kReflect, kWrap };

Status ParseMode(const InferenceContext& ctx, PadMode* mode) {
  std::string name = ctx.attrs().GetString("mode", "constant");
  if (name == "constant") {
    *mode = PadMode::kConstant;
  } else if (name == "edge") {
    *mode = PadMode::kEdge;
  } else if (name == "reflect") {
    *mode = PadMode::kReflect;
  } else if (name == "wrap" && ctx.opset() >= 19) {
    *mode = PadMode::kWrap;
  } else {
    return ctx.Error("unsupported mode '" + name + "'");
  }
  return Status::Ok();
}

// The source index that output position `i` (relative to the input's start) reads, or -1 for the constant.
// Reflect and wrap repeat periodically, as numpy.pad does for pads longer than the axis.
int64_t MapIndex(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  if (n == 0) return -1;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return i < 0 ? 0 : n - 1;
    case PadMode::kWrap:
      return ((i % n) + n) % n;
    case PadMode::kReflect: {
      if (n == 1) return 0;
      int64_t period = 2 * (n - 1);
      int64_t m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
  }
  return -1;
}

// The pads attribute of opset < 11 ("paddings" at opset 1, same layout).
Status AttributePads(const InferenceContext& ctx, Shape* pads) {
  const char* name = ctx.opset() < 2 ? "paddings" : "pads";
  const std::vector<int64_t>* attr = FindInts(ctx.attrs(), name);
  if (attr == nullptr) return ctx.Error(std::string("missing attribute '") + name + "'");
  IntsToShape(*attr, pads);
  return Status::Ok();
}

// Pads for every dim, [begin_0..begin_{r-1}, end_0..end_{r-1}], from the attribute (`attr_pads`, opset < 11)
// or the `pads` input with the optional `axes` input (opset 18). Errors carry no node name; callers add it.
Status ResolvePads(const Shape* attr_pads, const Tensor* pads_in, const Tensor* axes_in, size_t rank, Shape* pads) {
  Shape given;
  if (attr_pads != nullptr) {
    given = *attr_pads;
  } else {
    EDGEAI_RETURN_IF_ERROR(ReadInts(*pads_in, "pads", &given));
  }
  int64_t r = static_cast<int64_t>(rank);
  Shape axes;
  if (axes_in != nullptr) {
    EDGEAI_RETURN_IF_ERROR(ReadInts(*axes_in, "axes", &axes));
  } else {
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  }
  size_t n = axes.rank();
  if (given.rank() != 2 * n) {
    return InvalidArgument("pads " + IntsToString(given) + " must have 2 entries per padded axis (" +
                           std::to_string(2 * n) + ")");
  }
  pads->resize(0);
  pads->resize(2 * rank, 0);
  Shape seen;
  seen.resize(rank, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = axes[i];
    if (axis < -r || axis >= r) {
      return InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
    }
    if (axis < 0) axis += r;
    if (seen[axis]) return InvalidArgument("axes " + IntsToString(axes) + " repeat axis " + std::to_string(axis));
    seen[axis] = 1;
    (*pads)[axis] = given[i];
    (*pads)[axis + r] = given[i + n];
  }
  return Status::Ok();
}

// Output dims (-1 where the input dim is unknown); errors for negative sizes or padding an empty axis by
// copying from it.
Status PaddedDims(const Shape& in, const Shape& pads, PadMode mode, Shape* out) {
  size_t r = in.rank();
  *out = in;
  for (size_t i = 0; i < r; ++i) {
    if (in[i] < 0) continue;
    int64_t d = in[i] + pads[i] + pads[i + r];
    if (d < 0) {
      return InvalidArgument("pads " + IntsToString(pads) + " remove more than dim " + std::to_string(i) + " of size " +
                             std::to_string(in[i]) + " holds");
    }
    if (in[i] == 0 && d > 0 && mode != PadMode::kConstant) {
      return InvalidArgument("cannot pad the empty dim " + std::to_string(i) + " in a mode that copies from it");
    }
    (*out)[i] = d;
  }
  return Status::Ok();
}

Status InferPad(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  PadMode mode;
  EDGEAI_RETURN_IF_ERROR(ParseMode(ctx, &mode));
  if (ctx.opset() >= 11) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    if (ctx.has_input(2) && ctx.input(2).dtype != in.dtype) {
      return ctx.Error("constant_value " + ctx.input(2).ToString() + " must have the dtype of data " + in.ToString());
    }
  }
  if (ctx.has_input(3) && ctx.opset() < 18) return ctx.Error("the axes input needs opset 18");
  if (!in.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(in.dtype);
    return Status::Ok();
  }
  bool known = ctx.opset() < 11 || (ctx.input_value(1) && (!ctx.has_input(3) || ctx.input_value(3)));
  Shape out;
  if (!known) {
    out.resize(in.dims.rank(), -1);
  } else {
    Shape attr_pads, pads;
    if (ctx.opset() < 11) EDGEAI_RETURN_IF_ERROR(AttributePads(ctx, &attr_pads));
    Status status = ResolvePads(ctx.opset() < 11 ? &attr_pads : nullptr, ctx.input_value(1),
                                ctx.has_input(3) ? ctx.input_value(3) : nullptr, in.dims.rank(), &pads);
    if (status.ok()) status = PaddedDims(in.dims, pads, mode, &out);
    if (!status.ok()) return ctx.Error(status.message());
  }
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

struct PadPlan {
  const Shape* in_dims;
  const Shape* pads;
  PadMode mode;
  uint64_t value_bits;
};

template <typename T>
void PadTyped(const ThreadPool& pool, const PadPlan& plan, const Tensor& in, Tensor* out) {
  const Shape& idims = *plan.in_dims;
  const Shape& pads = *plan.pads;
  size_t r = idims.rank();
  T value;
  std::memcpy(&value, &plan.value_bits, sizeof(T));
  int64_t width = out->shape()[r - 1];
  int64_t in_width = idims[r - 1];
  int64_t lead = pads[r - 1];
  int64_t copy_begin = std::max<int64_t>(0, lead);
  int64_t copy_end = std::min(width, lead + in_width);
  Shape outer(out->shape().data(), r - 1);
  Shape zeros;
  zeros.resize(r - 1, 0);
  Shape in_strides = ContiguousStrides(idims);
  const T* src = in.data<T>();
  T* dst = out->data<T>();
  pool.ParallelFor(outer.NumElements(), GrainFor(width * static_cast<int64_t>(sizeof(T))),
                   [&](int64_t begin, int64_t end) {
                     IndexWalker w(outer, zeros, zeros, begin);
                     for (int64_t row = begin; row < end; ++row, w.Next()) {
                       T* o = dst + row * width;
                       int64_t offset = 0;
                       for (size_t k = 0; k + 1 < r && offset >= 0; ++k) {
                         int64_t s = MapIndex(w.index()[k] - pads[k], idims[k], plan.mode);
                         offset = s < 0 ? -1 : offset + s * in_strides[k];
                       }
                       if (offset < 0) {
                         std::fill_n(o, width, value);
                         continue;
                       }
                       const T* i = src + offset;
                       if (copy_end > copy_begin) {
                         std::memcpy(o + copy_begin, i + (copy_begin - lead),
                                     static_cast<size_t>(copy_end - copy_begin) * sizeof(T));
                       }
                       for (int64_t j = 0; j < width; ++j) {
                         if (j == copy_begin && copy_end > copy_begin) j = copy_end;
                         if (j >= width) break;
                         int64_t s = MapIndex(j - lead, in_width, plan.mode);
                         o[j] = s < 0 ? value : i[s];
                       }
                     }
                   });
}

class PadKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    opset_ = ctx.opset();
    if (opset_ < 11) {
      EDGEAI_RETURN_IF_ERROR(AttributePads(ctx, &attr_pads_));
      EDGEAI_RETURN_IF_ERROR(ConvertScalar(ctx.attrs().GetFloat("value", 0.0f), ctx.input(0).dtype, &value_bits_));
    }
    return ParseMode(ctx, &mode_);
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    Shape pads;
    Status status = ResolvePads(opset_ < 11 ? &attr_pads_ : nullptr, ctx.input(1), ctx.input(3), in.rank(), &pads);
    Shape dims;
    if (status.ok()) status = PaddedDims(in.shape(), pads, mode_, &dims);
    if (!status.ok()) return ctx.Error(status.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, dims));
    if (out->NumElements() == 0) return Status::Ok();
    if (in.rank() == 0) {
      CopyBytes(ctx.pool(), out->raw_data(), in.raw_data(), in.ByteSize());
      return Status::Ok();
    }
    PadPlan plan{&in.shape(), &pads, mode_, value_bits_};
    const Tensor* constant = opset_ >= 11 ? ctx.input(2) : nullptr;
    if (constant != nullptr && constant->NumElements() > 0) {
      plan.value_bits = 0;
      std::memcpy(&plan.value_bits, constant->raw_data(), DataTypeSize(constant->dtype()));
    }
    return VisitBySize(in.dtype(), [&](auto tag) {
      PadTyped<typename decltype(tag)::type>(ctx.pool(), plan, in, out);
      return Status::Ok();
    });
  }

 private:
  int opset_ = 0;
  Shape attr_pads_;
  PadMode mode_ = PadMode::kConstant;
  uint64_t value_bits_ = 0;
};

}  // namespace

Status RegisterPadOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  const int versions[][2] = {{1, 1}, {2, 10}, {11, 12}, {13, 17}, {18, 18}, {19, kMaxOpset}};
  for (const auto& v : versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Pad", v[0], v[1], all, InferPad, MakeKernel<PadKernel>));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
