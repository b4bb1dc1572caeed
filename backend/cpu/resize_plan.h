// Resize and Upsample, the part shared by shape inference and the kernel (resize_plan.cc): attribute parsing
// for every opset form and the resolution of scales / sizes / roi into output dims and per-axis scale factors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/kernel.h"

namespace edgeai::cpu {

// Plans live in fixed arrays so that resolving one on the inference path does not allocate.
constexpr size_t kMaxResizeRank = Shape::kInlineRank;

enum class Interp { kNearest, kLinear, kCubic };
enum class Coord {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
};
// kLegacy: Upsample and Resize-10, floor when enlarging and ceil when shrinking.
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };
enum class Aspect { kStretch, kNotLarger, kNotSmaller };
// Where the scale factors come from: Upsample-1's height/width attributes, Upsample-7's scales attribute,
// a scales input (Upsample-9, Resize-10), or Resize-11's roi / scales / sizes inputs.
enum class ResizeForm { kUpsample1, kAttrScales, kInputScales, kRoiScalesSizes };

struct ResizeAttrs {
  ResizeForm form = ResizeForm::kRoiScalesSizes;
  bool upsample = false;  // scales must be >= 1
  int opset = 0;
  Interp interp = Interp::kNearest;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  Aspect aspect = Aspect::kStretch;
  // Opset 18: the axes that scales / sizes / roi refer to (null: all). Points into the node's attribute, or
  // into the kernel's own copy.
  const std::vector<int64_t>* axes = nullptr;
  double attr_scales[kMaxResizeRank] = {};
  size_t num_attr_scales = 0;
};

struct ResizePlan {
  Shape out;  // -1 where unknown (load time)
  double scale[kMaxResizeRank] = {};
  double roi_start[kMaxResizeRank] = {};
  double roi_end[kMaxResizeRank] = {};
};

// Parses and validates the node's attributes. Errors name the node.
Status ParseResizeAttrs(const InferenceContext& ctx, ResizeAttrs* a);

// The plan for input dims `in` (all known) from the run's inputs 1..3 (nullptr when absent). Errors carry no
// node name; callers add it.
Status PlanFromInputs(const ResizeAttrs& a, const Shape& in, const Tensor* in1, const Tensor* in2, const Tensor* in3,
                      ResizePlan* plan);

// Shape inference of Resize and Upsample.
Status InferResize(InferenceContext& ctx);

}  // namespace edgeai::cpu
