// Spatial geometry shared by the sliding-window ops (Conv, MaxPool, AveragePool, ...): parsing of the window
// attributes and the ONNX output-size / auto_pad rules, in one place so every op agrees on them.
//
// Usage, in a kernel's Init or an infer function:
//   WindowAttrs attrs;
//   Status s = ParseWindowAttrs(ctx.attrs(), &attrs);             // once, attribute values only
//   SpatialGeometry geo;
//   s = ComputePoolGeometry(x_dims + 2, kernel, n, attrs, &geo);  // per input shape; no heap for n <= 8
// Errors are invalid_argument with a message that does not name the node; wrap it with ctx.Error(message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/op_attributes.h"
#include "edgeai/shape.h"
#include "edgeai/status.h"

namespace edgeai::cpu {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// "NOTSET" (or empty), "SAME_UPPER", "SAME_LOWER", "VALID".
Status ParseAutoPad(const std::string& text, AutoPad* out);

// The window attributes as written on the node. Empty vectors mean "absent" (defaults: strides and dilations
// 1, pads 0; kernel_shape then comes from elsewhere, e.g. Conv's weight shape).
struct WindowAttrs {
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // ONNX layout: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;
};

// Reads kernel_shape, strides, dilations, pads, auto_pad and ceil_mode (each optional) and checks what does
// not depend on the input: positive kernel/strides/dilations, non-negative pads, even pads length, a known
// auto_pad, and that the lengths of the present lists agree with each other.
Status ParseWindowAttrs(const AttributeMap& attrs, WindowAttrs* out);

// Per spatial axis (n of them): the output size and the padding actually applied at each end.
struct SpatialGeometry {
  Shape output;
  Shape pad_begin;
  Shape pad_end;
};

// Output spatial dims and effective pads of a window op over `n` spatial axes:
//   NOTSET: floor (or ceil with ceil_mode) of (in + pb + pe - ((k-1)*d+1)) / s + 1; with ceil_mode the last
//           window must start inside the input or the begin padding, else it is dropped.
//   VALID:  ceil((in - ((k-1)*d+1) + 1) / s), no padding.
//   SAME_*: ceil(in / s), total padding max(0, (out-1)*s + (k-1)*d+1 - in), the odd unit at the end for
//           SAME_UPPER and at the begin for SAME_LOWER. ceil_mode does not apply to auto_pad.
// `input` and `kernel` hold n dims each; an unknown input dim (-1, at load time) gives -1 output (and -1 pads
// for SAME_*). Errors: attribute lengths that disagree with n, or a window larger than the padded input.
Status ComputePoolGeometry(const int64_t* input, const int64_t* kernel, size_t n, const WindowAttrs& attrs,
                           SpatialGeometry* out);

}  // namespace edgeai::cpu
