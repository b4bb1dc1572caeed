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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/op_attributes.h"
#include "backend/thread_pool.h"
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

// ---- Pieces shared by the im2col / col2im convolution kernels (ConvTranspose, ConvInteger, QLinearConv). ----

constexpr size_t kMaxConvSpatial = 6;  // input rank up to 8, the inline capacity of Shape

// The window attributes plus a positive `group`.
Status ParseWindowAndGroup(const AttributeMap& attrs, WindowAttrs* window, int64_t* group);

// The kernel dims of a convolution over x.rank() - 2 spatial axes, from W's spatial dims and kernel_shape (they
// must agree where both are known; `w_name` names W in messages). Where the kernel dim is unknown (-1),
// `kernel` gets 1 and `input` -1; elsewhere `input` gets x's spatial dim.
Status ResolveConvKernel(const std::vector<int64_t>& kernel_shape, const Shape& x, const Shape& w,
                         const char* w_name, int64_t* input, int64_t* kernel);

// The concrete geometry of one grouped convolution call.
struct ConvCallGeometry {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  size_t n = 0;
  int64_t in[kMaxConvSpatial], kernel[kMaxConvSpatial], out[kMaxConvSpatial];
  int64_t stride[kMaxConvSpatial], dilation[kMaxConvSpatial], pad[kMaxConvSpatial];
  int64_t in_size = 1, kernel_size = 1, out_size = 1;

  int64_t cpg() const { return in_channels / group; }
  int64_t mpg() const { return out_channels / group; }
  // One input channel per group over 2 spatial axes (Conv stores 1-D problems as 2-D).
  bool IsDepthwise() const { return cpg() == 1 && n == 2; }
  // Every kernel dim 1, stride 1, no padding: the input already is the im2col matrix.
  bool IsPointwise() const {
    for (size_t i = 0; i < n; ++i) {
      if (kernel[i] != 1 || stride[i] != 1 || pad[i] != 0 || in[i] != out[i]) return false;
    }
    return true;
  }
};

// Sets n, the spatial dims, strides, dilations and sizes of `p` from X, W and the window attributes, with the
// output dims and begin pads the op computed (`out` and `pad_begin` may point into `p`).
void SetConvSpatial(const Shape& x, const Shape& w, const WindowAttrs& window, const int64_t* out,
                    const int64_t* pad_begin, ConvCallGeometry* p);

// For kernel tap `kidx` (row-major over p.kernel): offset[i] = k_i * dilation[i] - pad[i] on each axis, and the
// row-major strides of the `image` grid (p.in for im2col, p.out for col2im).
inline void KernelTapOffsets(const ConvCallGeometry& p, int64_t kidx, const int64_t* image, int64_t* offset,
                             int64_t* image_stride) {
  int64_t rest = kidx, acc = 1;
  for (size_t i = p.n; i-- > 0;) {
    offset[i] = (rest % p.kernel[i]) * p.dilation[i] - p.pad[i];
    rest /= p.kernel[i];
    image_stride[i] = acc;
    acc *= image[i];
  }
}

// [*lo, *hi): the positions j in [0, count) with 0 <= j * stride + off < limit.
inline void TapRange(int64_t off, int64_t stride, int64_t limit, int64_t count, int64_t* lo, int64_t* hi) {
  int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t h = limit - off <= 0 ? 0 : (limit - off - 1) / stride + 1;
  *lo = std::min(l, count);
  *hi = std::max(*lo, std::min(h, count));
}

// Walks the rows (every axis but the last) of the `walk` grid, whose position pos lands on image index
// pos * p.stride + offset on each axis: fn(inside, base) per row, in order, with `inside` telling whether the
// row lands inside the `image` grid and `base` its image offset (meaningful only when inside).
template <typename Fn>
inline void ForEachTapRow(const ConvCallGeometry& p, const int64_t* walk, const int64_t* image,
                          const int64_t* offset, const int64_t* image_stride, Fn&& fn) {
  const size_t last = p.n - 1;
  int64_t rows = walk[last] == 0 ? 0 : 1;
  for (size_t i = 0; i < last; ++i) rows *= walk[i];
  int64_t pos[kMaxConvSpatial] = {};
  for (int64_t r = 0; r < rows; ++r) {
    bool inside = true;
    int64_t base = 0;
    for (size_t i = 0; i < last; ++i) {
      const int64_t o = pos[i] * p.stride[i] + offset[i];
      inside = inside && o >= 0 && o < image[i];
      base += o * image_stride[i];
    }
    for (size_t i = last; i-- > 0 && ++pos[i] == walk[i];) pos[i] = 0;
    fn(inside, base);
  }
}

// Runs fn(item, item_pool) for the `items` (image, group) pairs: spread over `pool` when there are enough of
// them (each then running on `serial`), otherwise one after another, each using the whole pool.
template <typename Fn>
void ForEachConvItem(int64_t items, const ThreadPool& pool, const ThreadPool& serial, Fn&& fn) {
  if (items >= 2 * pool.threads()) {
    pool.ParallelFor(items, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) fn(i, serial);
    });
  } else {
    for (int64_t i = 0; i < items; ++i) fn(i, pool);
  }
}

}  // namespace edgeai::cpu
