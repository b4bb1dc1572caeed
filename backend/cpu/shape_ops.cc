// Ops that change only the shape or the layout of a tensor: Reshape, Flatten, Squeeze, Unsqueeze (copies of the
// input bytes under a new shape), Shape, Size (metadata as int64), Expand and Transpose (strided copies).
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

// Reshape, Flatten, Squeeze and Unsqueeze: the output holds the input's bytes under the inferred shape.
class CopyInputKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    const Tensor* in = ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    if (out->ByteSize() != in->ByteSize()) {
      return ctx.Error("output " + out->Describe() + " does not hold the input " + in->Describe());
    }
    // The executor's plan may have given the output the input's own bytes (OpDef::in_place): nothing to move.
    if (out->raw_data() != in->raw_data()) CopyBytes(ctx.pool(), out->raw_data(), in->raw_data(), in->ByteSize());
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------------------------------- Reshape

// Resolves a Reshape target against the input dims: 0 copies the input dim (unless allow_zero), one -1 takes
// what is left. Unknown input dims make the dims that depend on them unknown.
Status ResolveReshape(const InferenceContext& ctx, const ValueType& in, const Shape& target, bool allow_zero,
                      Shape* out) {
  *out = target;
  int64_t infer_at = -1;
  bool has_zero = false;
  bool product_known = true;
  int64_t product = 1;
  for (size_t i = 0; i < target.rank(); ++i) {
    int64_t v = target[i];
    if (v == -1) {
      if (infer_at >= 0) return ctx.Error("shape " + IntsToString(target) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (v < -1) return ctx.Error("shape " + IntsToString(target) + " has the invalid dim " + std::to_string(v));
    if (v == 0 && !allow_zero) {
      if (in.rank_known && i >= in.dims.rank()) {
        return ctx.Error("shape " + IntsToString(target) + " copies input dim " + std::to_string(i) +
                         " (a 0) but the input " + in.ToString() + " has no such dim");
      }
      v = in.rank_known ? in.dims[i] : -1;
      (*out)[i] = v;
    } else if (v == 0) {
      has_zero = true;
    }
    if (v < 0) {
      product_known = false;
    } else {
      product *= v;
    }
  }
  if (has_zero && infer_at >= 0) {
    return ctx.Error("shape " + IntsToString(target) + " holds both 0 and -1, which allowzero=1 forbids");
  }
  bool in_known = in.IsFullyKnown();
  int64_t total = in_known ? in.dims.NumElements() : -1;
  if (infer_at >= 0) {
    if (!in_known || !product_known) {
      (*out)[infer_at] = -1;
      return Status::Ok();
    }
    if (product == 0 || total % product != 0) {
      return ctx.Error("cannot reshape " + in.ToString() + " into " + IntsToString(target) +
                       ": the -1 dim cannot be inferred");
    }
    (*out)[infer_at] = total / product;
  } else if (in_known && product_known && product != total) {
    return ctx.Error("cannot reshape " + in.ToString() + " (" + std::to_string(total) + " elements) into " +
                     IntsToString(target) + " (" + std::to_string(product) + " elements)");
  }
  return Status::Ok();
}

Status InferReshape(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  bool allow_zero = ctx.opset() >= 14 && ctx.attrs().GetInt("allowzero", 0) != 0;
  Shape target;
  if (ctx.opset() < 5) {
    const std::vector<int64_t>* shape = FindInts(ctx.attrs(), "shape");
    if (shape == nullptr) return ctx.Error("missing attribute 'shape'");
    IntsToShape(*shape, &target);
  } else {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    if (ctx.input_value(1) == nullptr) {
      ctx.output(0) = RankFromLength(ctx, 1, in.dtype);
      return Status::Ok();
    }
    EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, 1, "shape", &target));
  }
  Shape out;
  EDGEAI_RETURN_IF_ERROR(ResolveReshape(ctx, in, target, allow_zero, &out));
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------- Flatten

Status InferFlatten(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  int64_t axis = ctx.attrs().GetInt("axis", 1);
  if (!in.rank_known) {
    ctx.output(0) = ValueType::Of(in.dtype, Shape{axis == 0 ? 1 : -1, -1});
    return Status::Ok();
  }
  int64_t rank = static_cast<int64_t>(in.dims.rank());
  int64_t lowest = ctx.opset() >= 11 ? -rank : 0;
  if (axis < lowest || axis > rank) {
    return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t& part = i < axis ? outer : inner;
    part = (part < 0 || in.dims[i] < 0) ? -1 : part * in.dims[i];
  }
  ctx.output(0) = ValueType::Of(in.dtype, Shape{outer, inner});
  return Status::Ok();
}

// --------------------------------------------------------------------------------------- Squeeze, Unsqueeze

// The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13. `present` is false when
// none were given; `known` false when given as an input whose value is not known yet.
struct AxesArg {
  bool present = false;
  bool known = true;
  Shape values;
};

Status ReadAxesArg(const InferenceContext& ctx, AxesArg* axes) {
  if (ctx.opset() < 13) {
    const std::vector<int64_t>* attr = FindInts(ctx.attrs(), "axes");
    axes->present = attr != nullptr;
    if (attr) IntsToShape(*attr, &axes->values);
    return Status::Ok();
  }
  if (!ctx.has_input(1)) return Status::Ok();
  axes->present = true;
  if (ctx.input_value(1) == nullptr) {
    axes->known = false;
    return Status::Ok();
  }
  return ReadInputInts(ctx, 1, "axes", &axes->values);
}

// Normalises `axes` against `rank` into a 0/1 mask; errors on out-of-range or repeated axes.
Status AxesMask(const InferenceContext& ctx, const Shape& axes, int64_t rank, Shape* mask) {
  mask->resize(0);
  mask->resize(static_cast<size_t>(rank), 0);
  for (int64_t axis : axes) {
    if (axis < -rank || axis >= rank) {
      return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    int64_t a = axis < 0 ? axis + rank : axis;
    if ((*mask)[a]) return ctx.Error("axes " + IntsToString(axes) + " repeat axis " + std::to_string(a));
    (*mask)[a] = 1;
  }
  return Status::Ok();
}

Status InferSqueeze(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  AxesArg axes;
  EDGEAI_RETURN_IF_ERROR(ReadAxesArg(ctx, &axes));
  ctx.output(0) = ValueType::UnknownRank(in.dtype);
  if (!in.rank_known) return Status::Ok();
  int64_t rank = static_cast<int64_t>(in.dims.rank());
  Shape out;
  if (!axes.present) {
    // Which dims are 1 decides the rank; with an unknown dim it stays unknown.
    if (HasUnknownDim(in.dims)) return Status::Ok();
    for (int64_t d : in.dims) {
      if (d != 1) out.push_back(d);
    }
  } else if (!axes.known) {
    const ValueType& a = ctx.input(1);
    if (!a.rank_known || a.dims.rank() != 1 || a.dims[0] < 0 || a.dims[0] > rank) return Status::Ok();
    out.resize(static_cast<size_t>(rank - a.dims[0]), -1);
  } else {
    Shape mask;
    EDGEAI_RETURN_IF_ERROR(AxesMask(ctx, axes.values, rank, &mask));
    for (int64_t i = 0; i < rank; ++i) {
      if (!mask[i]) {
        out.push_back(in.dims[i]);
      } else if (in.dims[i] > 1 || in.dims[i] == 0) {
        return ctx.Error("cannot squeeze axis " + std::to_string(i) + " of size " + std::to_string(in.dims[i]) +
                         " in " + in.ToString());
      }
    }
  }
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

Status InferUnsqueeze(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  AxesArg axes;
  EDGEAI_RETURN_IF_ERROR(ReadAxesArg(ctx, &axes));
  if (!axes.present) return ctx.Error(ctx.opset() < 13 ? "missing attribute 'axes'" : "missing input 'axes'");
  ctx.output(0) = ValueType::UnknownRank(in.dtype);
  if (!in.rank_known) return Status::Ok();
  int64_t rank = static_cast<int64_t>(in.dims.rank());
  if (!axes.known) {
    ValueType added = RankFromLength(ctx, 1, in.dtype);
    if (added.rank_known) {
      added.dims.resize(static_cast<size_t>(rank) + added.dims.rank(), -1);
      ctx.output(0) = added;
    }
    return Status::Ok();
  }
  int64_t out_rank = rank + static_cast<int64_t>(axes.values.rank());
  Shape mask;
  EDGEAI_RETURN_IF_ERROR(AxesMask(ctx, axes.values, out_rank, &mask));
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(mask[i] ? 1 : in.dims[next++]);
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

// ------------------------------------------------------------------------------------------------ Shape, Size

// The [start, end) range of dims Shape reports (opset 15 attributes; the whole shape before).
void ShapeRange(const InferenceContext& ctx, int64_t rank, int64_t* start, int64_t* end) {
  *start = 0;
  *end = rank;
  if (ctx.opset() < 15) return;
  auto clamp = [rank](int64_t v) { return std::min(rank, std::max<int64_t>(0, v < 0 ? v + rank : v)); };
  *start = clamp(ctx.attrs().GetInt("start", 0));
  *end = clamp(ctx.attrs().GetInt("end", rank));
  if (*end < *start) *end = *start;
}

Status InferShape(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  int64_t start = 0;
  int64_t end = -1;
  if (in.rank_known) ShapeRange(ctx, static_cast<int64_t>(in.dims.rank()), &start, &end);
  ctx.output(0) = ValueType::Of(DataType::kInt64, Shape{in.rank_known ? end - start : -1});
  return Status::Ok();
}

class ShapeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    start_ = ctx.attrs().GetInt("start", 0);
    end_ = ctx.attrs().GetInt("end", std::numeric_limits<int64_t>::max());
    opset_ = ctx.opset();
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Shape& dims = ctx.input(0)->shape();
    int64_t rank = static_cast<int64_t>(dims.rank());
    int64_t start = 0;
    int64_t end = rank;
    if (opset_ >= 15) {
      auto clamp = [rank](int64_t v) { return std::min(rank, std::max<int64_t>(0, v < 0 ? v + rank : v)); };
      start = clamp(start_);
      end = std::max(start, clamp(end_));
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, Shape{end - start}));
    for (int64_t i = start; i < end; ++i) out->data<int64_t>()[i - start] = dims[i];
    return Status::Ok();
  }

 private:
  int64_t start_ = 0;
  int64_t end_ = 0;
  int opset_ = 0;
};

Status InferSize(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ValueType::Of(DataType::kInt64, Shape{});
  return Status::Ok();
}

class SizeKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, Shape{}));
    out->data<int64_t>()[0] = ctx.input(0)->NumElements();
    return Status::Ok();
  }
};

// ----------------------------------------------------------------------------------------------------- Expand

Status InferExpand(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& in = ctx.input(0);
  ctx.output(0) = ValueType::UnknownRank(in.dtype);
  if (ctx.input_value(1) == nullptr) {
    ValueType target = RankFromLength(ctx, 1, in.dtype);
    if (!in.rank_known || !target.rank_known) return Status::Ok();
    // Each dim is the input's when that is known and above 1 (the target may only repeat it or say 1).
    size_t rank = std::max(in.dims.rank(), target.dims.rank());
    Shape out;
    out.resize(rank, -1);
    for (size_t i = 0; i < in.dims.rank(); ++i) {
      int64_t d = in.dims[i];
      if (d > 1) out[rank - in.dims.rank() + i] = d;
    }
    ctx.output(0) = ValueType::Of(in.dtype, out);
    return Status::Ok();
  }
  Shape target;
  EDGEAI_RETURN_IF_ERROR(ReadInputInts(ctx, 1, "shape", &target));
  for (int64_t d : target) {
    if (d < 0) return ctx.Error("shape " + IntsToString(target) + " has a negative dim");
  }
  if (!in.rank_known) return Status::Ok();
  Result<Shape> out = BroadcastShapes(in.dims, target);
  if (!out.ok()) return ctx.Error(out.status().message());
  ctx.output(0) = ValueType::Of(in.dtype, *out);
  return Status::Ok();
}

class ExpandKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    size_t rank = out->rank();
    size_t offset = rank - in.rank();
    Shape in_strides = ContiguousStrides(in.shape());
    Shape strides;
    strides.resize(rank, 0);
    for (size_t i = offset; i < rank; ++i) {
      if (in.shape()[i - offset] != 1) strides[i] = in_strides[i - offset];
    }
    StridedCopy(ctx.pool(), DataTypeSize(in.dtype()), out->shape(), strides, in.raw_data(), out->raw_data());
    return Status::Ok();
  }
};

// -------------------------------------------------------------------------------------------------- Transpose

Status InferTranspose(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& in = ctx.input(0);
  const std::vector<int64_t>* perm = FindInts(ctx.attrs(), "perm");
  if (!in.rank_known) {
    if (perm == nullptr) {
      ctx.output(0) = ValueType::UnknownRank(in.dtype);
    } else {
      Shape dims;
      dims.resize(perm->size(), -1);
      ctx.output(0) = ValueType::Of(in.dtype, dims);
    }
    return Status::Ok();
  }
  size_t rank = in.dims.rank();
  Shape out;
  out.resize(rank);
  if (perm == nullptr) {
    for (size_t i = 0; i < rank; ++i) out[i] = in.dims[rank - 1 - i];
  } else {
    Shape p;
    IntsToShape(*perm, &p);
    if (p.rank() != rank) {
      return ctx.Error("perm " + IntsToString(p) + " does not match the input rank " + std::to_string(rank));
    }
    Shape seen;
    seen.resize(rank, 0);
    for (size_t i = 0; i < rank; ++i) {
      if (p[i] < 0 || p[i] >= static_cast<int64_t>(rank) || seen[p[i]]) {
        return ctx.Error("perm " + IntsToString(p) + " is not a permutation of 0.." + std::to_string(rank - 1));
      }
      seen[p[i]] = 1;
      out[i] = in.dims[p[i]];
    }
  }
  ctx.output(0) = ValueType::Of(in.dtype, out);
  return Status::Ok();
}

class TransposeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    const std::vector<int64_t>* perm = FindInts(ctx.attrs(), "perm");
    has_perm_ = perm != nullptr;
    if (perm) IntsToShape(*perm, &perm_);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    size_t rank = in.rank();
    if (has_perm_ && perm_.rank() != rank) return ctx.Error("perm does not match the input rank");
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0));
    Shape in_strides = ContiguousStrides(in.shape());
    Shape strides;
    strides.resize(rank);
    for (size_t i = 0; i < rank; ++i) strides[i] = in_strides[has_perm_ ? perm_[i] : rank - 1 - i];
    StridedCopy(ctx.pool(), DataTypeSize(in.dtype()), out->shape(), strides, in.raw_data(), out->raw_data());
    return Status::Ok();
  }

 private:
  bool has_perm_ = false;
  Shape perm_;
};

}  // namespace

Status RegisterShapeOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  struct Entry {
    const char* op;
    int since;
    int until;
    InferFn infer;
    KernelFactory create;
    bool any_type;
    bool view = false;  // the output is the input's bytes: it may share the input's buffer
  };
  const Entry entries[] = {
      {"Reshape", 1, 4, InferReshape, MakeKernel<CopyInputKernel>, false, true},
      {"Reshape", 5, 13, InferReshape, MakeKernel<CopyInputKernel>, false, true},
      {"Reshape", 14, kMaxOpset, InferReshape, MakeKernel<CopyInputKernel>, false, true},
      {"Flatten", 1, 10, InferFlatten, MakeKernel<CopyInputKernel>, false, true},
      {"Flatten", 11, kMaxOpset, InferFlatten, MakeKernel<CopyInputKernel>, false, true},
      {"Squeeze", 1, 12, InferSqueeze, MakeKernel<CopyInputKernel>, false, true},
      {"Squeeze", 13, kMaxOpset, InferSqueeze, MakeKernel<CopyInputKernel>, false, true},
      {"Unsqueeze", 1, 12, InferUnsqueeze, MakeKernel<CopyInputKernel>, false, true},
      {"Unsqueeze", 13, kMaxOpset, InferUnsqueeze, MakeKernel<CopyInputKernel>, false, true},
      {"Shape", 1, 14, InferShape, MakeKernel<ShapeKernel>, true},
      {"Shape", 15, kMaxOpset, InferShape, MakeKernel<ShapeKernel>, true},
      {"Size", 1, kMaxOpset, InferSize, MakeKernel<SizeKernel>, true},
      {"Expand", 8, kMaxOpset, InferExpand, MakeKernel<ExpandKernel>, false},
      {"Transpose", 1, kMaxOpset, InferTranspose, MakeKernel<TransposeKernel>, false},
  };
  for (const Entry& e : entries) {
    OpDef def = MakeOpDef(e.op, e.since, e.until, e.any_type ? std::vector<DataType>{} : all, e.infer, e.create);
    if (e.view) def.in_place.push_back(InPlace{0, 0, true});
    EDGEAI_RETURN_IF_ERROR(registry.Register(std::move(def)));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
