// The bilinear samplers: GridSample (torch.nn.functional.grid_sample semantics, which the ONNX spec points to)
// and RoiAlign (Mask R-CNN; the avg and max reductions as onnxruntime, the reference backend, computes them).
// Both compute each sampling point's taps (offset, weight) once and apply them to every channel.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

std::string_view StringAttr(const AttributeMap& attrs, const char* name, std::string_view fallback) {
  const Attribute* a = attrs.Find(name);
  return a != nullptr && a->kind == Attribute::Kind::kString ? std::string_view(a->s) : fallback;
}

bool IsFloatType(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }

Status ZeroFill(Tensor* t) {
  std::memset(t->raw_data(), 0, t->ByteSize());
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------- GridSample

enum class GridMode { kLinear, kNearest, kCubic };
enum class GridPadding { kZeros, kBorder, kReflection };

struct GridAttrs {
  GridMode mode = GridMode::kLinear;
  GridPadding padding = GridPadding::kZeros;
  bool align_corners = false;
};

Status ParseGridAttrs(const InferenceContext& ctx, GridAttrs* a) {
  // Opset 20 renamed bilinear / bicubic to linear / cubic.
  bool v20 = ctx.opset() >= 20;
  std::string_view mode = StringAttr(ctx.attrs(), "mode", v20 ? "linear" : "bilinear");
  if (mode == (v20 ? "linear" : "bilinear")) {
    a->mode = GridMode::kLinear;
  } else if (mode == "nearest") {
    a->mode = GridMode::kNearest;
  } else if (mode == (v20 ? "cubic" : "bicubic")) {
    a->mode = GridMode::kCubic;
  } else {
    return ctx.Error("unsupported mode '" + std::string(mode) + "' (expected " +
                     (v20 ? "linear, nearest or cubic" : "bilinear, nearest or bicubic") + ")");
  }
  std::string_view padding = StringAttr(ctx.attrs(), "padding_mode", "zeros");
  if (padding == "zeros") {
    a->padding = GridPadding::kZeros;
  } else if (padding == "border") {
    a->padding = GridPadding::kBorder;
  } else if (padding == "reflection") {
    a->padding = GridPadding::kReflection;
  } else {
    return ctx.Error("unsupported padding_mode '" + std::string(padding) + "'");
  }
  a->align_corners = ctx.attrs().GetInt("align_corners", 0) != 0;
  return Status::Ok();
}

Status InferGridSample(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  GridAttrs attrs;
  EDGEAI_RETURN_IF_ERROR(ParseGridAttrs(ctx, &attrs));
  const ValueType& x = ctx.input(0);
  const ValueType& grid = ctx.input(1);
  if (!IsFloatType(grid.dtype)) return ctx.Error("grid must be float, got " + grid.ToString());
  if (x.rank_known && x.dims.rank() != 4) {
    return ctx.Error("X must be 4-D (N, C, H, W), got " + x.ToString() + "; other ranks are not supported");
  }
  if (grid.rank_known && (grid.dims.rank() != 4 || (grid.dims[3] >= 0 && grid.dims[3] != 2))) {
    return ctx.Error("grid must be (N, H_out, W_out, 2), got " + grid.ToString());
  }
  Shape out{-1, -1, -1, -1};
  if (x.rank_known) {
    out[0] = x.dims[0];
    out[1] = x.dims[1];
  }
  if (grid.rank_known) {
    if (out[0] >= 0 && grid.dims[0] >= 0 && out[0] != grid.dims[0]) {
      return ctx.Error("X " + x.ToString() + " and grid " + grid.ToString() + " differ in batch size");
    }
    if (out[0] < 0) out[0] = grid.dims[0];
    out[2] = grid.dims[1];
    out[3] = grid.dims[2];
  }
  ctx.output(0) = ValueType::Of(x.dtype, out);
  return Status::Ok();
}

// Grid coordinate in [-1, 1] to a pixel coordinate.
double Unnormalize(double c, int64_t size, bool align_corners) {
  return align_corners ? (c + 1) / 2 * static_cast<double>(size - 1) : ((c + 1) * static_cast<double>(size) - 1) / 2;
}

// Reflects v into [low, high] (given doubled, so that half-pixel bounds stay integral) until it lands inside.
double Reflect(double v, double twice_low, double twice_high) {
  if (twice_low == twice_high) return 0;
  double low = twice_low / 2, span = (twice_high - twice_low) / 2;
  v = std::fabs(v - low);
  double extra = std::fmod(v, span);
  double flips = std::floor(v / span);
  return std::fmod(flips, 2.0) == 0 ? extra + low : span - extra + low;
}

double PadCoord(double v, int64_t size, const GridAttrs& a) {
  double last = static_cast<double>(size - 1);
  if (a.padding == GridPadding::kBorder) return std::clamp(v, 0.0, last);
  if (a.padding == GridPadding::kReflection) {
    v = a.align_corners ? Reflect(v, 0, 2 * last) : Reflect(v, -1, 2 * static_cast<double>(size) - 1);
    return std::clamp(v, 0.0, last);
  }
  return v;
}

void CubicCoeffs(double t, double* c) {
  constexpr double A = -0.75;
  auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
  auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
  c[0] = far(t + 1);
  c[1] = near(t);
  c[2] = near(1 - t);
  c[3] = far(2 - t);
}

// The taps of one sampling point; taps outside the input (zeros padding) are left out.
struct PointTaps {
  int64_t offset[16];
  double weight[16];
  int count = 0;
  void Add(int64_t y, int64_t x, int64_t h, int64_t w, double wt) {
    if (y < 0 || y >= h || x < 0 || x >= w) return;
    offset[count] = y * w + x;
    weight[count] = wt;
    ++count;
  }
};

void SampleTaps(const GridAttrs& a, double gx, double gy, int64_t h, int64_t w, PointTaps* t) {
  t->count = 0;
  double x = Unnormalize(gx, w, a.align_corners);
  double y = Unnormalize(gy, h, a.align_corners);
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  if (a.mode == GridMode::kCubic) {
    // Each of the 4x4 taps is padded on its own, as torch does.
    double x0 = std::floor(x), y0 = std::floor(y);
    double cx[4], cy[4];
    CubicCoeffs(x - x0, cx);
    CubicCoeffs(y - y0, cy);
    for (int j = 0; j < 4; ++j) {
      auto iy = static_cast<int64_t>(PadCoord(y0 - 1 + j, h, a));
      for (int i = 0; i < 4; ++i) {
        auto ix = static_cast<int64_t>(PadCoord(x0 - 1 + i, w, a));
        t->Add(iy, ix, h, w, cx[i] * cy[j]);
      }
    }
    return;
  }
  x = PadCoord(x, w, a);
  y = PadCoord(y, h, a);
  if (a.mode == GridMode::kNearest) {
    t->Add(static_cast<int64_t>(std::nearbyint(y)), static_cast<int64_t>(std::nearbyint(x)), h, w, 1.0);
    return;
  }
  double x0 = std::floor(x), y0 = std::floor(y);
  double fx = x - x0, fy = y - y0;
  auto ix = static_cast<int64_t>(x0), iy = static_cast<int64_t>(y0);
  t->Add(iy, ix, h, w, (1 - fx) * (1 - fy));
  t->Add(iy, ix + 1, h, w, fx * (1 - fy));
  t->Add(iy + 1, ix, h, w, (1 - fx) * fy);
  t->Add(iy + 1, ix + 1, h, w, fx * fy);
}

class GridSampleKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseGridAttrs(ctx, &attrs_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& grid = *ctx.input(1);
    if (x.rank() != 4 || grid.rank() != 4 || grid.shape()[3] != 2 || grid.shape()[0] != x.shape()[0]) {
      return ctx.Error("X " + x.Describe() + " and grid " + grid.Describe() + " do not match");
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (y->NumElements() == 0) return Status::Ok();
    if (x.NumElements() == 0) return ZeroFill(y);  // nothing to sample from
    return VisitFloat(x.dtype(), [&](auto xt) {
      using T = typename decltype(xt)::type;
      return VisitFloat(grid.dtype(), [&](auto gt) {
        using G = typename decltype(gt)::type;
        Run<T, G>(x, grid, y, ctx.pool());
        return Status::Ok();
      });
    });
  }

 private:
  template <typename T, typename G>
  void Run(const Tensor& x, const Tensor& grid, Tensor* y, const ThreadPool& pool) const {
    int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    int64_t points = grid.shape()[1] * grid.shape()[2];
    const T* src = x.data<T>();
    const G* g = grid.data<G>();
    T* dst = y->data<T>();
    int64_t taps = attrs_.mode == GridMode::kCubic ? 16 : 4;
    pool.ParallelFor(n * points, std::max<int64_t>(1, 16384 / (c * taps)), [&](int64_t begin, int64_t end) {
      PointTaps t;
      for (int64_t p = begin; p < end; ++p) {
        int64_t b = p / points, q = p % points;
        SampleTaps(attrs_, static_cast<double>(g[2 * p]), static_cast<double>(g[2 * p + 1]), h, w, &t);
        const T* plane = src + b * c * h * w;
        T* out = dst + b * c * points + q;
        for (int64_t ch = 0; ch < c; ++ch, plane += h * w, out += points) {
          double acc = 0;
          for (int k = 0; k < t.count; ++k) acc += t.weight[k] * static_cast<double>(plane[t.offset[k]]);
          *out = static_cast<T>(acc);
        }
      }
    });
  }

  GridAttrs attrs_;
};

// ------------------------------------------------------------------------------------------------- RoiAlign

struct RoiAttrs {
  bool max = false;
  bool half_pixel = false;  // opset 16's default; opset 10 behaves as output_half_pixel
  int64_t out_h = 1, out_w = 1, sampling = 0;
  double spatial_scale = 1.0;
};

Status ParseRoiAttrs(const InferenceContext& ctx, RoiAttrs* a) {
  const AttributeMap& attrs = ctx.attrs();
  std::string_view mode = StringAttr(attrs, "mode", "avg");
  if (mode != "avg" && mode != "max") return ctx.Error("unsupported mode '" + std::string(mode) + "'");
  a->max = mode == "max";
  if (ctx.opset() >= 16) {
    std::string_view coord = StringAttr(attrs, "coordinate_transformation_mode", "half_pixel");
    if (coord != "half_pixel" && coord != "output_half_pixel") {
      return ctx.Error("unsupported coordinate_transformation_mode '" + std::string(coord) + "'");
    }
    a->half_pixel = coord == "half_pixel";
  }
  a->out_h = attrs.GetInt("output_height", 1);
  a->out_w = attrs.GetInt("output_width", 1);
  a->sampling = attrs.GetInt("sampling_ratio", 0);
  a->spatial_scale = attrs.GetFloat("spatial_scale", 1.0f);
  if (a->out_h <= 0 || a->out_w <= 0) {
    return ctx.Error("output_height and output_width must be positive, got " + std::to_string(a->out_h) + " and " +
                     std::to_string(a->out_w));
  }
  if (a->sampling < 0) return ctx.Error("sampling_ratio must be >= 0, got " + std::to_string(a->sampling));
  return Status::Ok();
}

Status InferRoiAlign(InferenceContext& ctx) {
  for (size_t i = 0; i < 3; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  RoiAttrs attrs;
  EDGEAI_RETURN_IF_ERROR(ParseRoiAttrs(ctx, &attrs));
  const ValueType& x = ctx.input(0);
  const ValueType& rois = ctx.input(1);
  const ValueType& idx = ctx.input(2);
  if (rois.dtype != x.dtype) return ctx.Error("rois " + rois.ToString() + " must have the dtype of X " + x.ToString());
  if (idx.dtype != DataType::kInt64 && idx.dtype != DataType::kInt32) {
    return ctx.Error("batch_indices must be int64, got " + idx.ToString());
  }
  if (x.rank_known && x.dims.rank() != 4) return ctx.Error("X must be 4-D (N, C, H, W), got " + x.ToString());
  if (rois.rank_known && (rois.dims.rank() != 2 || (rois.dims[1] >= 0 && rois.dims[1] != 4))) {
    return ctx.Error("rois must be (num_rois, 4), got " + rois.ToString());
  }
  if (idx.rank_known && idx.dims.rank() != 1) return ctx.Error("batch_indices must be 1-D, got " + idx.ToString());
  int64_t num = rois.rank_known ? rois.dims[0] : -1;
  if (idx.rank_known) {
    if (num >= 0 && idx.dims[0] >= 0 && num != idx.dims[0]) {
      return ctx.Error("rois " + rois.ToString() + " and batch_indices " + idx.ToString() + " differ in length");
    }
    if (num < 0) num = idx.dims[0];
  }
  ctx.output(0) = ValueType::Of(x.dtype, Shape{num, x.rank_known ? x.dims[1] : -1, attrs.out_h, attrs.out_w});
  return Status::Ok();
}

// One bilinear sample: four input offsets and their weights (all zero when the point is off the map).
struct Sample {
  int64_t pos[4];
  double w[4];
};

Sample BilinearSample(double y, double x, int64_t h, int64_t w) {
  Sample s{};
  if (y < -1.0 || y > static_cast<double>(h) || x < -1.0 || x > static_cast<double>(w)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  auto y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x);
  int64_t y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= h - 1) {
    y0 = y1 = h - 1;
    y = static_cast<double>(y0);
  }
  if (x0 >= w - 1) {
    x0 = x1 = w - 1;
    x = static_cast<double>(x0);
  }
  double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0);
  double hy = 1 - ly, hx = 1 - lx;
  s.pos[0] = y0 * w + x0;
  s.pos[1] = y0 * w + x1;
  s.pos[2] = y1 * w + x0;
  s.pos[3] = y1 * w + x1;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

class RoiAlignKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return ParseRoiAttrs(ctx, &attrs_); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& rois = *ctx.input(1);
    const Tensor& idx = *ctx.input(2);
    int64_t num = rois.rank() == 2 ? rois.shape()[0] : -1;
    if (x.rank() != 4 || rois.rank() != 2 || rois.shape()[1] != 4 || idx.rank() != 1 || idx.shape()[0] != num) {
      return ctx.Error("X " + x.Describe() + ", rois " + rois.Describe() + " and batch_indices " + idx.Describe() +
                       " do not match");
    }
    for (int64_t r = 0; r < num; ++r) {
      int64_t b = idx.dtype() == DataType::kInt64 ? idx.data<int64_t>()[r] : idx.data<int32_t>()[r];
      if (b < 0 || b >= x.shape()[0]) {
        return ctx.Error("batch index " + std::to_string(b) + " of roi " + std::to_string(r) +
                         " is out of range for batch size " + std::to_string(x.shape()[0]));
      }
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    if (y->NumElements() == 0) return Status::Ok();
    if (x.NumElements() == 0) return ZeroFill(y);  // nothing to sample from
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      int64_t work = x.shape()[1] * attrs_.out_h * attrs_.out_w * 4;
      ctx.pool().ParallelFor(num, std::max<int64_t>(1, 16384 / work), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) Roi<T>(x, rois, idx, r, y);
      });
      return Status::Ok();
    });
  }

 private:
  template <typename T>
  void Roi(const Tensor& x, const Tensor& rois, const Tensor& idx, int64_t r, Tensor* y) const {
    int64_t c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    int64_t b = idx.dtype() == DataType::kInt64 ? idx.data<int64_t>()[r] : idx.data<int32_t>()[r];
    const T* box = rois.data<T>() + r * 4;
    double offset = attrs_.half_pixel ? 0.5 : 0.0;
    double x1 = static_cast<double>(box[0]) * attrs_.spatial_scale - offset;
    double y1 = static_cast<double>(box[1]) * attrs_.spatial_scale - offset;
    double roi_w = static_cast<double>(box[2]) * attrs_.spatial_scale - offset - x1;
    double roi_h = static_cast<double>(box[3]) * attrs_.spatial_scale - offset - y1;
    if (!attrs_.half_pixel) {  // the legacy behaviour forces rois at least one pixel wide
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    int64_t oh = attrs_.out_h, ow = attrs_.out_w;
    double bin_h = roi_h / static_cast<double>(oh), bin_w = roi_w / static_cast<double>(ow);
    int64_t grid_h = attrs_.sampling > 0 ? attrs_.sampling : static_cast<int64_t>(std::ceil(roi_h / oh));
    int64_t grid_w = attrs_.sampling > 0 ? attrs_.sampling : static_cast<int64_t>(std::ceil(roi_w / ow));
    grid_h = std::max<int64_t>(grid_h, 0);
    grid_w = std::max<int64_t>(grid_w, 0);
    double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    // Sample positions are shared by every channel; only grows, so warm runs do not allocate.
    thread_local std::vector<Sample> samples;
    samples.resize(static_cast<size_t>(oh * ow * grid_h * grid_w));
    size_t k = 0;
    for (int64_t ph = 0; ph < oh; ++ph) {
      for (int64_t pw = 0; pw < ow; ++pw) {
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          double yy = y1 + ph * bin_h + (iy + 0.5) * bin_h / static_cast<double>(grid_h);
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            double xx = x1 + pw * bin_w + (ix + 0.5) * bin_w / static_cast<double>(grid_w);
            samples[k++] = BilinearSample(yy, xx, h, w);
          }
        }
      }
    }
    int64_t per_bin = grid_h * grid_w;
    for (int64_t ch = 0; ch < c; ++ch) {
      const T* plane = x.data<T>() + (b * c + ch) * h * w;
      T* out = y->data<T>() + (r * c + ch) * oh * ow;
      const Sample* s = samples.data();
      for (int64_t bin = 0; bin < oh * ow; ++bin, s += per_bin) {
        double acc = 0;
        for (int64_t i = 0; i < per_bin; ++i) {
          double v[4];
          for (int j = 0; j < 4; ++j) v[j] = s[i].w[j] * static_cast<double>(plane[s[i].pos[j]]);
          if (attrs_.max) {
            // The maximum of the weighted corner values, as onnxruntime defines max pooling here.
            double m = std::max(std::max(v[0], v[1]), std::max(v[2], v[3]));
            acc = i == 0 ? m : std::max(acc, m);
          } else {
            acc += v[0] + v[1] + v[2] + v[3];
          }
        }
        out[bin] = static_cast<T>(attrs_.max ? acc : acc / count);
      }
    }
  }

  RoiAttrs attrs_;
};

}  // namespace

Status RegisterSamplingOps(OpRegistry& registry) {
  const std::vector<DataType> floats = {DataType::kFloat32, DataType::kFloat64};
  const int grid_versions[][2] = {{16, 19}, {20, kMaxOpset}};
  for (const auto& v : grid_versions) {
    EDGEAI_RETURN_IF_ERROR(
        AddOp(registry, "GridSample", v[0], v[1], floats, InferGridSample, MakeKernel<GridSampleKernel>));
  }
  const int roi_versions[][2] = {{10, 15}, {16, kMaxOpset}};
  for (const auto& v : roi_versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "RoiAlign", v[0], v[1], floats, InferRoiAlign, MakeKernel<RoiAlignKernel>));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
