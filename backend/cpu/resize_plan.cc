// Resize / Upsample attribute parsing and the resolution of scales, sizes and roi (see resize_plan.h). Nothing
// here allocates on success, since inference runs on the inference path too.
#include "backend/cpu/resize_plan.h"

#include <cmath>
#include <string>
#include <string_view>

#include "backend/cpu/data_movement.h"

namespace edgeai::cpu {
namespace {

std::string_view StringAttr(const AttributeMap& attrs, const char* name, std::string_view fallback) {
  const Attribute* a = attrs.Find(name);
  return a != nullptr && a->kind == Attribute::Kind::kString ? std::string_view(a->s) : fallback;
}

Status ParseInterp(const InferenceContext& ctx, ResizeAttrs* a) {
  std::string_view mode = StringAttr(ctx.attrs(), "mode", "nearest");
  if (mode == "nearest") {
    a->interp = Interp::kNearest;
  } else if (mode == "linear" || (a->form == ResizeForm::kUpsample1 && mode == "bilinear")) {
    a->interp = Interp::kLinear;
  } else if (mode == "cubic" && a->form == ResizeForm::kRoiScalesSizes) {
    a->interp = Interp::kCubic;
  } else {
    const char* expected = a->form == ResizeForm::kRoiScalesSizes ? "nearest, linear or cubic"
                           : a->form == ResizeForm::kUpsample1    ? "nearest or bilinear"
                                                                  : "nearest or linear";
    return ctx.Error("unsupported mode '" + std::string(mode) + "' (expected " + expected + ")");
  }
  return Status::Ok();
}

Status ParseCoord(const InferenceContext& ctx, ResizeAttrs* a) {
  struct Named {
    const char* name;
    Coord value;
    int since;
  };
  static const Named kModes[] = {
      {"half_pixel", Coord::kHalfPixel, 11},
      {"half_pixel_symmetric", Coord::kHalfPixelSymmetric, 19},
      {"pytorch_half_pixel", Coord::kPytorchHalfPixel, 11},
      {"align_corners", Coord::kAlignCorners, 11},
      {"asymmetric", Coord::kAsymmetric, 11},
      {"tf_half_pixel_for_nn", Coord::kTfHalfPixelForNn, 11},
      {"tf_crop_and_resize", Coord::kTfCropAndResize, 11},
  };
  std::string_view name = StringAttr(ctx.attrs(), "coordinate_transformation_mode", "half_pixel");
  for (const Named& m : kModes) {
    if (name == m.name && a->opset >= m.since) {
      a->coord = m.value;
      return Status::Ok();
    }
  }
  return ctx.Error("unsupported coordinate_transformation_mode '" + std::string(name) + "' at opset " +
                   std::to_string(a->opset));
}

Status ParseNearest(const InferenceContext& ctx, ResizeAttrs* a) {
  std::string_view name = StringAttr(ctx.attrs(), "nearest_mode", "round_prefer_floor");
  if (name == "round_prefer_floor") {
    a->nearest = Nearest::kRoundPreferFloor;
  } else if (name == "round_prefer_ceil") {
    a->nearest = Nearest::kRoundPreferCeil;
  } else if (name == "floor") {
    a->nearest = Nearest::kFloor;
  } else if (name == "ceil") {
    a->nearest = Nearest::kCeil;
  } else {
    return ctx.Error("unsupported nearest_mode '" + std::string(name) + "'");
  }
  return Status::Ok();
}

Status ParseAspect(const InferenceContext& ctx, ResizeAttrs* a) {
  std::string_view name = StringAttr(ctx.attrs(), "keep_aspect_ratio_policy", "stretch");
  if (name == "stretch") {
    a->aspect = Aspect::kStretch;
  } else if (name == "not_larger") {
    a->aspect = Aspect::kNotLarger;
  } else if (name == "not_smaller") {
    a->aspect = Aspect::kNotSmaller;
  } else {
    return ctx.Error("unsupported keep_aspect_ratio_policy '" + std::string(name) + "'");
  }
  return Status::Ok();
}

// Upsample-1's height_scale / width_scale and Upsample-7's scales attribute.
Status ParseAttrScales(const InferenceContext& ctx, ResizeAttrs* a) {
  const AttributeMap& attrs = ctx.attrs();
  if (a->form == ResizeForm::kUpsample1) {
    const Attribute* h = attrs.Find("height_scale");
    const Attribute* w = attrs.Find("width_scale");
    if (h == nullptr || w == nullptr) return ctx.Error("needs the height_scale and width_scale attributes");
    a->attr_scales[0] = a->attr_scales[1] = 1.0;
    a->attr_scales[2] = h->f;
    a->attr_scales[3] = w->f;
    a->num_attr_scales = 4;
    return Status::Ok();
  }
  const Attribute* s = attrs.Find("scales");
  if (s == nullptr || s->kind != Attribute::Kind::kFloats) return ctx.Error("needs the scales attribute");
  if (s->floats.empty() || s->floats.size() > kMaxResizeRank) {
    return ctx.Error("scales must have 1 to " + std::to_string(kMaxResizeRank) + " values, got " +
                     std::to_string(s->floats.size()));
  }
  for (size_t i = 0; i < s->floats.size(); ++i) a->attr_scales[i] = s->floats[i];
  a->num_attr_scales = s->floats.size();
  return Status::Ok();
}

// For each axis, the entry of scales / sizes / roi it reads, or -1 when it is not resized; *count = entries.
Status AxisSlots(const ResizeAttrs& a, size_t rank, int slot[], size_t* count) {
  for (size_t d = 0; d < rank; ++d) slot[d] = a.axes == nullptr ? static_cast<int>(d) : -1;
  *count = rank;
  if (a.axes == nullptr) return Status::Ok();
  int64_t r = static_cast<int64_t>(rank);
  for (size_t i = 0; i < a.axes->size(); ++i) {
    int64_t axis = (*a.axes)[i];
    if (axis < -r || axis >= r) {
      return InvalidArgument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
    }
    if (axis < 0) axis += r;
    if (slot[axis] >= 0) return InvalidArgument("axes repeat axis " + std::to_string(axis));
    slot[axis] = static_cast<int>(i);
  }
  *count = a.axes->size();
  return Status::Ok();
}

bool ReadFloatAt(const Tensor& t, int64_t i, double* v) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      *v = t.data<float>()[i];
      return true;
    case DataType::kFloat64:
      *v = t.data<double>()[i];
      return true;
    case DataType::kFloat16:
      *v = HalfToFloat(t.data<uint16_t>()[i]);
      return true;
    default:
      return false;
  }
}

Status PlanFromScales(const ResizeAttrs& a, const Shape& in, const Tensor* scales, const int slot[], size_t count,
                      ResizePlan* plan) {
  size_t n = scales != nullptr ? static_cast<size_t>(scales->NumElements()) : a.num_attr_scales;
  if ((scales != nullptr && scales->rank() != 1) || n != count) {
    return InvalidArgument("scales must hold " + std::to_string(count) + " values (one per resized axis), got " +
                           (scales != nullptr ? scales->Describe() : std::to_string(n) + " values"));
  }
  for (size_t d = 0; d < in.rank(); ++d) {
    if (slot[d] < 0) continue;
    double s = a.num_attr_scales > 0 ? a.attr_scales[slot[d]] : 0.0;
    if (scales != nullptr && !ReadFloatAt(*scales, slot[d], &s)) {
      return InvalidArgument("scales must be float, got " + scales->Describe());
    }
    if (!(s > 0) || !std::isfinite(s)) return InvalidArgument("scales must be positive, got " + std::to_string(s));
    if (a.upsample && s < 1) return InvalidArgument("Upsample scales must be >= 1, got " + std::to_string(s));
    double o = std::floor(s * static_cast<double>(in[d]));
    if (o > 1e15)
      return InvalidArgument("scale " + std::to_string(s) + " makes axis " + std::to_string(d) + " too large");
    plan->scale[d] = s;
    plan->out[d] = in[d] < 0 ? -1 : static_cast<int64_t>(o);
  }
  return Status::Ok();
}

Status PlanFromSizes(const ResizeAttrs& a, const Shape& in, const Tensor& sizes_t, const int slot[], size_t count,
                     ResizePlan* plan) {
  Shape sizes;
  EDGEAI_RETURN_IF_ERROR(ReadInts(sizes_t, "sizes", &sizes));
  if (sizes.rank() != count) {
    return InvalidArgument("sizes must hold " + std::to_string(count) + " values (one per resized axis), got " +
                           IntsToString(sizes));
  }
  bool dims_known = true;
  double keep = a.aspect == Aspect::kNotLarger ? INFINITY : 0.0;
  for (size_t d = 0; d < in.rank(); ++d) {
    if (slot[d] < 0) continue;
    int64_t o = sizes[slot[d]];
    if (o < 0) return InvalidArgument("sizes must be non-negative, got " + IntsToString(sizes));
    if (in[d] == 0 && o > 0) return InvalidArgument("cannot resize the empty axis " + std::to_string(d));
    if (in[d] < 0) dims_known = false;
    double s = in[d] > 0 ? static_cast<double>(o) / static_cast<double>(in[d]) : 1.0;
    keep = a.aspect == Aspect::kNotLarger ? std::min(keep, s) : std::max(keep, s);
    plan->out[d] = o;
    plan->scale[d] = s;
  }
  if (a.aspect == Aspect::kStretch) return Status::Ok();
  // One scale for every resized axis, the output rounded to the nearest size.
  for (size_t d = 0; d < in.rank(); ++d) {
    if (slot[d] < 0) continue;
    plan->scale[d] = keep;
    plan->out[d] = dims_known ? static_cast<int64_t>(std::floor(keep * static_cast<double>(in[d]) + 0.5)) : -1;
  }
  return Status::Ok();
}

// Output dims and scales from one of scales (or the attribute scales) and sizes; `in` may hold unknown dims.
Status ResolvePlan(const ResizeAttrs& a, const Shape& in, const Tensor* scales, const Tensor* sizes, ResizePlan* plan) {
  size_t r = in.rank();
  if (r > kMaxResizeRank) {
    return Unimplemented("inputs of rank " + std::to_string(r) + " are not supported (at most " +
                         std::to_string(kMaxResizeRank) + ")");
  }
  int slot[kMaxResizeRank];
  size_t count = 0;
  EDGEAI_RETURN_IF_ERROR(AxisSlots(a, r, slot, &count));
  plan->out = in;
  for (size_t d = 0; d < r; ++d) {
    plan->scale[d] = 1.0;
    plan->roi_start[d] = 0.0;
    plan->roi_end[d] = 1.0;
  }
  if (sizes != nullptr) return PlanFromSizes(a, in, *sizes, slot, count, plan);
  return PlanFromScales(a, in, scales, slot, count, plan);
}

Status ResolveRoi(const ResizeAttrs& a, size_t rank, const Tensor* roi, ResizePlan* plan) {
  if (roi == nullptr || roi->NumElements() == 0) {
    return InvalidArgument("coordinate_transformation_mode tf_crop_and_resize needs a roi input");
  }
  int slot[kMaxResizeRank];
  size_t count = 0;
  EDGEAI_RETURN_IF_ERROR(AxisSlots(a, rank, slot, &count));
  if (roi->rank() != 1 || roi->NumElements() != static_cast<int64_t>(2 * count)) {
    return InvalidArgument("roi must hold " + std::to_string(2 * count) + " values (starts then ends), got " +
                           roi->Describe());
  }
  for (size_t d = 0; d < rank; ++d) {
    if (slot[d] < 0) continue;
    if (!ReadFloatAt(*roi, slot[d], &plan->roi_start[d]) ||
        !ReadFloatAt(*roi, slot[d] + static_cast<int64_t>(count), &plan->roi_end[d])) {
      return InvalidArgument("roi must be float, got " + roi->Describe());
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseResizeAttrs(const InferenceContext& ctx, ResizeAttrs* a) {
  const AttributeMap& attrs = ctx.attrs();
  int opset = ctx.opset();
  a->opset = opset;
  a->upsample = ctx.op_type() == "Upsample";
  if (a->upsample) {
    a->form = opset < 7 ? ResizeForm::kUpsample1 : opset < 9 ? ResizeForm::kAttrScales : ResizeForm::kInputScales;
  } else {
    a->form = opset < 11 ? ResizeForm::kInputScales : ResizeForm::kRoiScalesSizes;
  }
  EDGEAI_RETURN_IF_ERROR(ParseInterp(ctx, a));
  if (a->form != ResizeForm::kRoiScalesSizes) {
    // The original Upsample semantics: scale the index down and take the element at or after it.
    a->coord = Coord::kAsymmetric;
    a->nearest = Nearest::kLegacy;
    if (a->form == ResizeForm::kInputScales) return Status::Ok();
    return ParseAttrScales(ctx, a);
  }
  EDGEAI_RETURN_IF_ERROR(ParseCoord(ctx, a));
  EDGEAI_RETURN_IF_ERROR(ParseNearest(ctx, a));
  a->cubic_a = attrs.GetFloat("cubic_coeff_a", -0.75f);
  a->exclude_outside = attrs.GetInt("exclude_outside", 0) != 0;
  a->extrapolation = attrs.GetFloat("extrapolation_value", 0.0f);
  if (opset >= 18) {
    a->antialias = attrs.GetInt("antialias", 0) != 0;
    EDGEAI_RETURN_IF_ERROR(ParseAspect(ctx, a));
    a->axes = FindInts(attrs, "axes");
  }
  return Status::Ok();
}

Status PlanFromInputs(const ResizeAttrs& a, const Shape& in, const Tensor* in1, const Tensor* in2, const Tensor* in3,
                      ResizePlan* plan) {
  const Tensor* scales = nullptr;
  const Tensor* sizes = nullptr;
  if (a.form == ResizeForm::kInputScales) {
    if (in1 == nullptr) return InvalidArgument("missing the scales input");
    scales = in1;
  } else if (a.form == ResizeForm::kRoiScalesSizes) {
    bool has_scales = in2 != nullptr && in2->NumElements() > 0;
    bool has_sizes = in3 != nullptr && in3->NumElements() > 0;
    if (has_scales && has_sizes) return InvalidArgument("only one of scales and sizes may be given");
    if (!has_scales && !has_sizes) return InvalidArgument("needs a non-empty scales or sizes input");
    scales = has_scales ? in2 : nullptr;
    sizes = has_sizes ? in3 : nullptr;
  }
  EDGEAI_RETURN_IF_ERROR(ResolvePlan(a, in, scales, sizes, plan));
  if (a.coord == Coord::kTfCropAndResize) EDGEAI_RETURN_IF_ERROR(ResolveRoi(a, in.rank(), in1, plan));
  return Status::Ok();
}

namespace {

Status CheckInputTypes(const InferenceContext& ctx, const ResizeAttrs& a) {
  auto is_float = [](DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16;
  };
  size_t scales_index = a.form == ResizeForm::kInputScales ? 1 : 2;
  if (a.form == ResizeForm::kInputScales || a.form == ResizeForm::kRoiScalesSizes) {
    if (ctx.has_input(scales_index) && !is_float(ctx.input(scales_index).dtype)) {
      return ctx.Error("scales must be float, got " + ctx.input(scales_index).ToString());
    }
  }
  if (a.form != ResizeForm::kRoiScalesSizes) return Status::Ok();
  if (ctx.has_input(1) && !is_float(ctx.input(1).dtype)) {
    return ctx.Error("roi must be float, got " + ctx.input(1).ToString());
  }
  if (ctx.has_input(3) && ctx.input(3).dtype != DataType::kInt64 && ctx.input(3).dtype != DataType::kInt32) {
    return ctx.Error("sizes must be int64, got " + ctx.input(3).ToString());
  }
  return Status::Ok();
}

// Load time: scales or sizes may be unknown; *known is false when the output dims cannot be computed yet.
Status PickKnownSource(const InferenceContext& ctx, const ResizeAttrs& a, const Tensor** scales, const Tensor** sizes,
                       bool* known) {
  *known = true;
  if (a.form == ResizeForm::kInputScales) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    *scales = ctx.input_value(1);
    *known = *scales != nullptr;
    return Status::Ok();
  }
  if (a.form != ResizeForm::kRoiScalesSizes) return Status::Ok();
  if (a.opset < 13) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(2));
  }
  if (!ctx.has_input(2) && !ctx.has_input(3)) return ctx.Error("needs a scales or a sizes input");
  const Tensor* sc = ctx.has_input(2) ? ctx.input_value(2) : nullptr;
  const Tensor* sz = ctx.has_input(3) ? ctx.input_value(3) : nullptr;
  bool sc_full = sc != nullptr && sc->NumElements() > 0;
  bool sz_full = sz != nullptr && sz->NumElements() > 0;
  if (sc_full && sz_full) return ctx.Error("only one of scales and sizes may be given");
  if (sc_full) {
    *scales = sc;
  } else if (sz_full) {
    *sizes = sz;
  } else {
    bool all_known = (!ctx.has_input(2) || sc != nullptr) && (!ctx.has_input(3) || sz != nullptr);
    if (all_known) return ctx.Error("needs a non-empty scales or sizes input");
    *known = false;
  }
  return Status::Ok();
}

}  // namespace

Status InferResize(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ResizeAttrs a;
  EDGEAI_RETURN_IF_ERROR(ParseResizeAttrs(ctx, &a));
  EDGEAI_RETURN_IF_ERROR(CheckInputTypes(ctx, a));
  const ValueType& x = ctx.input(0);
  const Tensor* scales = nullptr;
  const Tensor* sizes = nullptr;
  bool known = true;
  EDGEAI_RETURN_IF_ERROR(PickKnownSource(ctx, a, &scales, &sizes, &known));
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  size_t rank = x.dims.rank();
  ResizePlan plan;
  Status status = Status::Ok();
  if (known) {
    status = ResolvePlan(a, x.dims, scales, sizes, &plan);
  } else if (rank > kMaxResizeRank) {
    status = Unimplemented("inputs of rank " + std::to_string(rank) + " are not supported");
  } else {
    int slot[kMaxResizeRank];
    size_t count = 0;
    status = AxisSlots(a, rank, slot, &count);
    plan.out = x.dims;
    for (size_t d = 0; d < rank; ++d) {
      if (slot[d] >= 0) plan.out[d] = -1;
    }
  }
  bool roi_known = a.form == ResizeForm::kRoiScalesSizes && ctx.has_input(1) && ctx.input_value(1) != nullptr;
  if (status.ok() && a.coord == Coord::kTfCropAndResize && (roi_known || !ctx.has_input(1))) {
    status = ResolveRoi(a, rank, ctx.input_value(1), &plan);
  }
  if (!status.ok()) return ctx.Error(status.message());
  ctx.output(0) = ValueType::Of(x.dtype, plan.out);
  return Status::Ok();
}

}  // namespace edgeai::cpu
