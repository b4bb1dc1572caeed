#include "backend/cpu/conv_geometry.h"

#include <algorithm>

namespace edgeai::cpu {
namespace {

std::string ListToString(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

Status CheckAll(const std::vector<int64_t>& v, const char* name, int64_t min_value) {
  for (int64_t x : v) {
    if (x < min_value) {
      return InvalidArgument(std::string(name) + " " + ListToString(v) + " must be " +
                             (min_value > 0 ? "positive" : "non-negative"));
    }
  }
  return Status::Ok();
}

Status CheckLength(const std::vector<int64_t>& v, const char* name, size_t expected, size_t n) {
  if (v.empty() || v.size() == expected) return Status::Ok();
  return InvalidArgument(std::string(name) + " " + ListToString(v) + " has " + std::to_string(v.size()) +
                         " values; expected " + std::to_string(expected) + " for " + std::to_string(n) +
                         " spatial axes");
}

int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

Status ParseAutoPad(const std::string& text, AutoPad* out) {
  if (text.empty() || text == "NOTSET") {
    *out = AutoPad::kNotSet;
  } else if (text == "SAME_UPPER") {
    *out = AutoPad::kSameUpper;
  } else if (text == "SAME_LOWER") {
    *out = AutoPad::kSameLower;
  } else if (text == "VALID") {
    *out = AutoPad::kValid;
  } else {
    return InvalidArgument("auto_pad '" + text + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  }
  return Status::Ok();
}

Status ParseWindowAttrs(const AttributeMap& attrs, WindowAttrs* out) {
  *out = WindowAttrs{};
  out->kernel_shape = attrs.GetInts("kernel_shape");
  out->strides = attrs.GetInts("strides");
  out->dilations = attrs.GetInts("dilations");
  out->pads = attrs.GetInts("pads");
  out->ceil_mode = attrs.GetInt("ceil_mode", 0) != 0;
  EDGEAI_RETURN_IF_ERROR(ParseAutoPad(attrs.GetString("auto_pad", "NOTSET"), &out->auto_pad));
  EDGEAI_RETURN_IF_ERROR(CheckAll(out->kernel_shape, "kernel_shape", 1));
  EDGEAI_RETURN_IF_ERROR(CheckAll(out->strides, "strides", 1));
  EDGEAI_RETURN_IF_ERROR(CheckAll(out->dilations, "dilations", 1));
  EDGEAI_RETURN_IF_ERROR(CheckAll(out->pads, "pads", 0));
  if (out->pads.size() % 2 != 0) {
    return InvalidArgument("pads " + ListToString(out->pads) + " must hold a begin and an end per spatial axis");
  }
  // Any present list fixes the spatial rank; the others must agree with it.
  size_t n = 0;
  if (!out->kernel_shape.empty()) n = out->kernel_shape.size();
  else if (!out->strides.empty()) n = out->strides.size();
  else if (!out->dilations.empty()) n = out->dilations.size();
  else n = out->pads.size() / 2;
  EDGEAI_RETURN_IF_ERROR(CheckLength(out->strides, "strides", n, n));
  EDGEAI_RETURN_IF_ERROR(CheckLength(out->dilations, "dilations", n, n));
  EDGEAI_RETURN_IF_ERROR(CheckLength(out->pads, "pads", 2 * n, n));
  return Status::Ok();
}

Status ComputePoolGeometry(const int64_t* input, const int64_t* kernel, size_t n, const WindowAttrs& attrs,
                           SpatialGeometry* out) {
  EDGEAI_RETURN_IF_ERROR(CheckLength(attrs.kernel_shape, "kernel_shape", n, n));
  EDGEAI_RETURN_IF_ERROR(CheckLength(attrs.strides, "strides", n, n));
  EDGEAI_RETURN_IF_ERROR(CheckLength(attrs.dilations, "dilations", n, n));
  EDGEAI_RETURN_IF_ERROR(CheckLength(attrs.pads, "pads", 2 * n, n));
  out->output.resize(n);
  out->pad_begin.resize(n);
  out->pad_end.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = input[i];
    const int64_t k = kernel[i];
    const int64_t s = attrs.strides.empty() ? 1 : attrs.strides[i];
    const int64_t d = attrs.dilations.empty() ? 1 : attrs.dilations[i];
    if (k < 1) return InvalidArgument("kernel dim " + std::to_string(k) + " must be positive");
    const int64_t extent = (k - 1) * d + 1;  // span of one dilated window
    int64_t pb = 0, pe = 0, o = -1;
    switch (attrs.auto_pad) {
      case AutoPad::kNotSet:
        pb = attrs.pads.empty() ? 0 : attrs.pads[i];
        pe = attrs.pads.empty() ? 0 : attrs.pads[i + n];
        if (in >= 0) {
          const int64_t span = in + pb + pe - extent;
          if (span < 0) break;  // reported below
          o = (attrs.ceil_mode ? CeilDiv(span, s) : FloorDiv(span, s)) + 1;
          if (attrs.ceil_mode && (o - 1) * s >= in + pb) --o;
        }
        break;
      case AutoPad::kValid:
        if (in >= 0) o = in >= extent ? (in - extent) / s + 1 : 0;
        break;
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower:
        pb = pe = -1;
        if (in >= 0) {
          o = CeilDiv(in, s);
          const int64_t total = std::max<int64_t>(0, (o - 1) * s + extent - in);
          const int64_t small = total / 2;
          pb = attrs.auto_pad == AutoPad::kSameUpper ? small : total - small;
          pe = total - pb;
        }
        break;
    }
    if (in >= 0 && o < 1 && !(attrs.auto_pad != AutoPad::kNotSet && in == 0)) {
      return InvalidArgument("spatial axis " + std::to_string(i) + " of size " + std::to_string(in) +
                             " (padded by " + std::to_string(pb) + "+" + std::to_string(pe) +
                             ") is smaller than the window extent " + std::to_string(extent));
    }
    out->output[i] = o;
    out->pad_begin[i] = pb;
    out->pad_end[i] = pe;
  }
  return Status::Ok();
}

Status ParseWindowAndGroup(const AttributeMap& attrs, WindowAttrs* window, int64_t* group) {
  EDGEAI_RETURN_IF_ERROR(ParseWindowAttrs(attrs, window));
  *group = attrs.GetInt("group", 1);
  if (*group < 1) return InvalidArgument("group " + std::to_string(*group) + " must be positive");
  return Status::Ok();
}

Status ResolveConvKernel(const std::vector<int64_t>& kernel_shape, const Shape& x, const Shape& w,
                         const char* w_name, int64_t* input, int64_t* kernel) {
  const size_t n = x.rank() - 2;
  if (!kernel_shape.empty() && kernel_shape.size() != n) {
    return InvalidArgument("kernel_shape has " + std::to_string(kernel_shape.size()) + " dims for " +
                           std::to_string(n) + " spatial axes");
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t k = w[i + 2];
    if (!kernel_shape.empty()) {
      if (k >= 0 && k != kernel_shape[i]) {
        return InvalidArgument("kernel_shape does not match the spatial dims of " + std::string(w_name) + " " +
                               w.ToString());
      }
      k = kernel_shape[i];
    }
    kernel[i] = k < 0 ? 1 : k;
    input[i] = k < 0 ? -1 : x[i + 2];
  }
  return Status::Ok();
}

void SetConvSpatial(const Shape& x, const Shape& w, const WindowAttrs& window, const int64_t* out,
                    const int64_t* pad_begin, ConvCallGeometry* p) {
  p->n = x.rank() - 2;
  p->in_size = p->kernel_size = p->out_size = 1;
  for (size_t i = 0; i < p->n; ++i) {
    p->in[i] = x[i + 2];
    p->kernel[i] = w[i + 2];
    p->out[i] = out[i];
    p->stride[i] = window.strides.empty() ? 1 : window.strides[i];
    p->dilation[i] = window.dilations.empty() ? 1 : window.dilations[i];
    p->pad[i] = pad_begin[i];
    p->in_size *= p->in[i];
    p->kernel_size *= p->kernel[i];
    p->out_size *= p->out[i];
  }
}

}  // namespace edgeai::cpu
