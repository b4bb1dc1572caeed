// Resize (opset 10 on) and Upsample (opsets 1-9): nearest, n-linear and n-cubic interpolation over any axes,
// following the ONNX reference (onnx/backend/test/case/node/resize.py) tap for tap, including its quirks: the
// "output width" of the coordinate formulas is scale * input length (not the rounded output length), neighbours
// come from an edge-padded window that shifts inward near the borders, and exclude_outside renormalises.
//
// Each axis gets a table of (input offset, weight) taps per output index, built once per run; an output element
// is the weighted sum over the cartesian product of its axes' taps, the last axis innermost so that rows read
// contiguous input. Axes whose table is a plain index map (nearest, or any identity axis) collapse to one tap.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/resize_plan.h"

namespace edgeai::cpu {
namespace {

// ------------------------------------------------------------------------------------------------ tap tables

// Per-axis taps of one run: for axis d and output index x, entries [begin[d] + x*n[d], ... + n[d]) of
// `offset` (element offset into the input, stride applied) and `weight`; outside[obegin[d] + x] marks
// tf_crop_and_resize positions that take the extrapolation value.
struct TapTables {
  std::vector<int64_t> offset;
  std::vector<double> weight;
  std::vector<float> weight_f;  // the same weights, for accumulating float data in float
  std::vector<uint8_t> outside;
  int64_t n[kMaxResizeRank] = {};
  size_t begin[kMaxResizeRank] = {};
  size_t obegin[kMaxResizeRank] = {};
  bool any_outside = false;
  bool gather_only = true;  // every axis has one tap of weight 1
};

// Taps per output index along an axis resized by `scale`.
int64_t TapCount(const ResizeAttrs& a, double scale) {
  bool aa = a.antialias && scale < 1.0;
  switch (a.interp) {
    case Interp::kNearest:
      return 1;
    case Interp::kLinear:
      return aa ? 2 - 2 * (static_cast<int64_t>(std::floor(-1.0 / scale)) + 1) : 2;
    case Interp::kCubic:
      return aa ? 2 - 2 * (static_cast<int64_t>(std::floor(-2.0 / scale)) + 1) : 4;
  }
  return 1;
}

double CubicKernel(double x, double A) {
  x = std::fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

// Weights of the n taps at offsets 1-n/2 .. n/2 from floor(x); ratio in (0, 1].
void Coefficients(const ResizeAttrs& a, double ratio, double scale, int64_t n, double* w) {
  bool aa = a.antialias && scale < 1.0;
  if (!aa && a.interp == Interp::kLinear) {
    w[0] = 1 - ratio;
    w[1] = ratio;
    return;
  }
  if (!aa) {
    double A = a.cubic_a, r = ratio, q = 1 - ratio;
    w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
    w[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
    return;
  }
  // Antialiasing stretches the filter by 1/scale and renormalises.
  int64_t start = 1 - n / 2;
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    double arg = (static_cast<double>(start + k) - ratio) * scale;
    w[k] = a.interp == Interp::kLinear ? std::clamp(1 - std::fabs(arg), 0.0, 1.0) : CubicKernel(arg, a.cubic_a);
    sum += w[k];
  }
  for (int64_t k = 0; k < n; ++k) w[k] /= sum;
}

// The source coordinate of output index x, as the reference computes it; sets *outside for
// tf_crop_and_resize positions outside the input.
double SourceCoord(const ResizeAttrs& a, double x, double scale, int64_t in_len, int64_t out_len, double roi_start,
                   double roi_end, bool* outside) {
  double out_width = scale * static_cast<double>(in_len);
  double last = static_cast<double>(in_len - 1);
  *outside = false;
  switch (a.coord) {
    case Coord::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case Coord::kHalfPixelSymmetric: {
      double offset = static_cast<double>(in_len) / 2 * (1 - static_cast<double>(out_len) / out_width);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case Coord::kPytorchHalfPixel:
      return out_width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case Coord::kAlignCorners:
      return out_width == 1 ? 0.0 : x * last / (out_width - 1);
    case Coord::kAsymmetric:
      return x / scale;
    case Coord::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
    case Coord::kTfCropAndResize: {
      double v = out_width == 1 ? (roi_end - roi_start) * last / 2 : x * (roi_end - roi_start) * last / (out_width - 1);
      v += roi_start * last;
      *outside = v < 0 || v > last;
      return v;
    }
  }
  return 0;
}

int64_t NearestIndex(const ResizeAttrs& a, double coord, double scale) {
  double base = std::floor(coord);
  double ratio = coord - base;
  double pick;
  if (a.nearest == Nearest::kLegacy) {
    pick = scale < 1 ? std::ceil(coord) : base;
  } else if (ratio == 0) {
    pick = coord;
  } else {
    bool up = false;
    switch (a.nearest) {
      case Nearest::kRoundPreferFloor:
        up = ratio > 0.5;
        break;
      case Nearest::kRoundPreferCeil:
        up = ratio >= 0.5;
        break;
      case Nearest::kFloor:
        up = false;
        break;
      case Nearest::kCeil:
        up = true;
        break;
      case Nearest::kLegacy:
        break;
    }
    pick = up ? base + 1 : base;
  }
  return static_cast<int64_t>(pick);
}

// Fills the n taps per output index of one axis (n from TapCount); returns the taps per index it kept (1 when
// every index reads a single input element with weight 1).
int64_t FillAxis(const ResizeAttrs& a, int64_t in_len, int64_t out_len, double scale, double roi_start, double roi_end,
                 int64_t stride, int64_t n, int64_t* offset, double* weight, uint8_t* outside) {
  bool single = true;
  double coeffs[64];
  std::vector<double> big;  // only for extreme antialiased downscales
  double* c = coeffs;
  if (n > 64) {
    big.resize(static_cast<size_t>(n));
    c = big.data();
  }
  const int64_t half = n / 2;
  for (int64_t x = 0; x < out_len; ++x) {
    bool out_of_range = false;
    double coord = SourceCoord(a, static_cast<double>(x), scale, in_len, out_len, roi_start, roi_end, &out_of_range);
    outside[x] = out_of_range ? 1 : 0;
    int64_t* off = offset + x * n;
    double* w = weight + x * n;
    if (a.interp == Interp::kNearest) {
      off[0] = std::clamp<int64_t>(NearestIndex(a, coord, scale), 0, in_len - 1) * stride;
      w[0] = 1;
      continue;
    }
    double base = std::floor(coord);
    double ratio = coord - base;
    if (ratio == 0) {  // an exact hit counts as ratio 1 from the element below, as in the reference
      ratio = 1;
      base -= 1;
    }
    Coefficients(a, ratio, scale, n, c);
    // The n nearest elements of the edge-padded axis: the window shifts inward near the borders while the
    // coefficients keep their positions (the reference does exactly this).
    int64_t lo = static_cast<int64_t>(base) - (half - 1);
    lo = std::clamp<int64_t>(lo, -half, in_len - half);
    double sum = 0;
    int nonzero = 0;
    for (int64_t k = 0; k < n; ++k) {
      int64_t idx = lo + k;
      w[k] = c[k];
      if (a.exclude_outside && (idx < 0 || idx >= in_len)) w[k] = 0;
      sum += w[k];
      off[k] = std::clamp<int64_t>(idx, 0, in_len - 1) * stride;
    }
    if (a.exclude_outside && sum != 0) {
      for (int64_t k = 0; k < n; ++k) w[k] /= sum;
    }
    for (int64_t k = 0; k < n; ++k) {
      if (w[k] != 0) {
        ++nonzero;
        if (w[k] != 1) single = false;
      }
    }
    if (nonzero != 1) single = false;
  }
  if (n == 1 || !single) return n;
  for (int64_t x = 0; x < out_len; ++x) {
    int64_t k = 0;
    while (weight[x * n + k] == 0) ++k;
    offset[x] = offset[x * n + k];
    weight[x] = 1;
  }
  return 1;
}

void BuildTables(const ResizeAttrs& a, const Shape& in, const ResizePlan& plan, TapTables* t) {
  size_t r = in.rank();
  const Shape& out = plan.out;
  Shape strides = ContiguousStrides(in);
  size_t entries = 0, flags = 0;
  for (size_t d = 0; d < r; ++d) {
    t->n[d] = TapCount(a, plan.scale[d]);
    t->begin[d] = entries;
    t->obegin[d] = flags;
    entries += static_cast<size_t>(out[d] * t->n[d]);
    flags += static_cast<size_t>(out[d]);
  }
  if (t->offset.size() < entries) {
    t->offset.resize(entries);
    t->weight.resize(entries);
  }
  if (t->outside.size() < flags) t->outside.resize(flags);
  t->any_outside = false;
  t->gather_only = true;
  for (size_t d = 0; d < r; ++d) {
    t->n[d] =
        FillAxis(a, in[d], out[d], plan.scale[d], plan.roi_start[d], plan.roi_end[d], strides[d], t->n[d],
                 t->offset.data() + t->begin[d], t->weight.data() + t->begin[d], t->outside.data() + t->obegin[d]);
    if (t->n[d] != 1) t->gather_only = false;
    for (int64_t x = 0; x < out[d]; ++x) t->any_outside |= t->outside[t->obegin[d] + x] != 0;
  }
  if (t->weight_f.size() < entries) t->weight_f.resize(entries);
  for (size_t i = 0; i < entries; ++i) t->weight_f[i] = static_cast<float>(t->weight[i]);
}

// ------------------------------------------------------------------------------------------------- kernels

// Walks output rows (all axes but the last) from `row`, yielding for each the combined taps of its outer axes.
class RowTaps {
 public:
  RowTaps(const TapTables& t, const Shape& out, int64_t row) : t_(t), out_(out), rank_(out.rank()) {
    for (size_t d = rank_ - 1; d-- > 0;) {
      index_[d] = row % out[d];
      row /= out[d];
    }
  }
  // Fills the outer combinations of the current row; returns false when the row is outside (extrapolated).
  bool Combine(std::vector<int64_t>* offs, std::vector<double>* ws) const {
    offs->assign(1, 0);
    ws->assign(1, 1.0);
    bool outside = false;
    for (size_t d = 0; d + 1 < rank_; ++d) {
      outside |= t_.outside[t_.obegin[d] + index_[d]] != 0;
      int64_t n = t_.n[d];
      const int64_t* o = t_.offset.data() + t_.begin[d] + index_[d] * n;
      const double* w = t_.weight.data() + t_.begin[d] + index_[d] * n;
      size_t count = offs->size();
      offs->resize(count * static_cast<size_t>(n));
      ws->resize(count * static_cast<size_t>(n));
      // Expand in place from the back so that unread entries are never overwritten.
      for (size_t i = count; i-- > 0;) {
        int64_t base_off = (*offs)[i];
        double base_w = (*ws)[i];
        for (int64_t k = n; k-- > 0;) {
          (*offs)[i * n + k] = base_off + o[k];
          (*ws)[i * n + k] = base_w * w[k];
        }
      }
    }
    return !outside;
  }
  void Next() {
    for (size_t d = rank_ - 1; d-- > 0;) {
      if (++index_[d] < out_[d]) return;
      index_[d] = 0;
    }
  }

 private:
  const TapTables& t_;
  const Shape& out_;
  size_t rank_;
  int64_t index_[kMaxResizeRank] = {};
};

// Float data accumulates in float (the weights are exact enough for it); the rest in double.
template <typename T>
using Acc = std::conditional_t<std::is_same_v<T, float> || sizeof(T) <= 2, float, double>;

template <typename T, typename A>
T FromAccumulator(A v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    // Integers truncate as the reference's astype does, saturating so that cubic overshoot cannot wrap.
    A lo = static_cast<A>(std::numeric_limits<T>::lowest());
    A hi = static_cast<A>(std::numeric_limits<T>::max());
    return static_cast<T>(std::trunc(std::clamp(v, lo, hi)));
  }
}

// The last axis of one output row: y[x] = sum_k w[k] * row[off[k]].
template <typename T, typename A, typename S>
void Horizontal(const S* row, const int64_t* off, const A* w, int64_t n, int64_t width, T* y) {
  if (n == 2) {
    for (int64_t x = 0; x < width; ++x) {
      y[x] = FromAccumulator<T, A>(w[2 * x] * static_cast<A>(row[off[2 * x]]) +
                                   w[2 * x + 1] * static_cast<A>(row[off[2 * x + 1]]));
    }
    return;
  }
  if (n == 4) {
    for (int64_t x = 0; x < width; ++x) {
      const int64_t* o = off + 4 * x;
      const A* v = w + 4 * x;
      y[x] = FromAccumulator<T, A>(v[0] * static_cast<A>(row[o[0]]) + v[1] * static_cast<A>(row[o[1]]) +
                                   v[2] * static_cast<A>(row[o[2]]) + v[3] * static_cast<A>(row[o[3]]));
    }
    return;
  }
  for (int64_t x = 0; x < width; ++x) {
    A acc = 0;
    for (int64_t k = 0; k < n; ++k) acc += w[x * n + k] * static_cast<A>(row[off[x * n + k]]);
    y[x] = FromAccumulator<T, A>(acc);
  }
}

// The outer axes of one output row: a weighted sum of whole input rows (contiguous, so it vectorises).
template <typename T, typename A>
void BlendRows(const T* src, const std::vector<int64_t>& offs, const std::vector<double>& ws, int64_t len, A* out) {
  const T* r0 = src + offs[0];
  A w0 = static_cast<A>(ws[0]);
  for (int64_t i = 0; i < len; ++i) out[i] = w0 * static_cast<A>(r0[i]);
  for (size_t c = 1; c < offs.size(); ++c) {
    const T* rc = src + offs[c];
    A wc = static_cast<A>(ws[c]);
    for (int64_t i = 0; i < len; ++i) out[i] += wc * static_cast<A>(rc[i]);
  }
}

template <typename T>
void Interpolate(const TapTables& t, const Shape& in, const Shape& out, const T* src, T* dst, T extrapolated,
                 const ThreadPool& pool) {
  using A = Acc<T>;
  size_t r = out.rank();
  int64_t width = out[r - 1], in_width = in[r - 1];
  int64_t rows = out.NumElements() / width;
  int64_t nl = t.n[r - 1];
  // The last axis has stride 1, so its offsets index a row directly.
  const int64_t* last_off = t.offset.data() + t.begin[r - 1];
  const A* last_w = nullptr;
  if constexpr (std::is_same_v<A, float>) {
    last_w = t.weight_f.data() + t.begin[r - 1];
  } else {
    last_w = t.weight.data() + t.begin[r - 1];
  }
  const uint8_t* last_out = t.outside.data() + t.obegin[r - 1];
  int64_t combos = 1;
  for (size_t d = 0; d + 1 < r; ++d) combos *= t.n[d];
  int64_t work = std::max<int64_t>(1, combos * in_width + width * nl);
  bool any_outside = t.any_outside;
  pool.ParallelFor(rows, std::max<int64_t>(1, 32768 / work), [&](int64_t begin, int64_t end) {
    thread_local std::vector<int64_t> offs;
    thread_local std::vector<double> ws;
    thread_local std::vector<A> blend;
    if (blend.size() < static_cast<size_t>(in_width)) blend.resize(static_cast<size_t>(in_width));
    RowTaps walker(t, out, begin);
    for (int64_t row = begin; row < end; ++row, walker.Next()) {
      T* y = dst + row * width;
      if (!walker.Combine(&offs, &ws)) {
        std::fill(y, y + width, extrapolated);
        continue;
      }
      if (offs.size() == 1 && ws[0] == 1.0) {
        Horizontal<T, A>(src + offs[0], last_off, last_w, nl, width, y);
      } else {
        BlendRows<T, A>(src, offs, ws, in_width, blend.data());
        Horizontal<T, A>(blend.data(), last_off, last_w, nl, width, y);
      }
      if (any_outside) {
        for (int64_t x = 0; x < width; ++x) {
          if (last_out[x]) y[x] = extrapolated;
        }
      }
    }
  });
}

// Every axis reads one element: a pure gather, done on raw element bits so that any dtype works.
template <typename T>
void Gather(const TapTables& t, const Shape& out, const T* src, T* dst, T extrapolated, const ThreadPool& pool) {
  size_t r = out.rank();
  int64_t width = out[r - 1];
  int64_t rows = out.NumElements() / width;
  const int64_t* last_off = t.offset.data() + t.begin[r - 1];
  const uint8_t* last_out = t.outside.data() + t.obegin[r - 1];
  bool any_outside = t.any_outside;
  pool.ParallelFor(rows, GrainFor(width * static_cast<int64_t>(sizeof(T))), [&](int64_t begin, int64_t end) {
    thread_local std::vector<int64_t> offs;
    thread_local std::vector<double> ws;
    RowTaps walker(t, out, begin);
    for (int64_t row = begin; row < end; ++row, walker.Next()) {
      T* y = dst + row * width;
      if (!walker.Combine(&offs, &ws)) {
        std::fill(y, y + width, extrapolated);
        continue;
      }
      const T* p = src + offs[0];
      if (any_outside) {
        for (int64_t x = 0; x < width; ++x) y[x] = last_out[x] ? extrapolated : p[last_off[x]];
      } else {
        for (int64_t x = 0; x < width; ++x) y[x] = p[last_off[x]];
      }
    }
  });
}

bool IsInterpolable(DataType t) {
  switch (t) {
    case DataType::kFloat32:
    case DataType::kFloat64:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64:
      return true;
    default:
      return false;
  }
}

class ResizeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseResizeAttrs(ctx, &attrs_));
    if (attrs_.axes != nullptr) {
      axes_ = *attrs_.axes;
      attrs_.axes = &axes_;
    }
    if (attrs_.interp != Interp::kNearest && ctx.has_input(0) && !IsInterpolable(ctx.input(0).dtype)) {
      return ctx.Error("linear and cubic modes need a numeric input, got " + ctx.input(0).ToString());
    }
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    ResizePlan plan;
    Status status = PlanFromInputs(attrs_, x.shape(), ctx.input(1), ctx.input(2), ctx.input(3), &plan);
    if (!status.ok()) return ctx.Error(status.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, plan.out));
    if (y->NumElements() == 0) return Status::Ok();
    if (x.rank() == 0) {
      std::memcpy(y->raw_data(), x.raw_data(), x.ByteSize());
      return Status::Ok();
    }
    // Tables only grow, so warm runs do not allocate; a nested run on this thread (work stealing inside
    // ParallelFor) gets its own.
    thread_local TapTables shared;
    thread_local bool busy = false;
    TapTables own;
    TapTables& tables = busy ? own : shared;
    bool was_busy = busy;
    busy = true;
    BuildTables(attrs_, x.shape(), plan, &tables);
    status = Run(tables, plan.out, x, y, ctx.pool());
    busy = was_busy;
    return status.ok() ? status : ctx.Error(status.message());
  }

 private:
  Status Run(const TapTables& t, const Shape& out, const Tensor& x, Tensor* y, const ThreadPool& pool) const {
    if (t.gather_only) {
      unsigned char extra[8] = {};
      if (t.any_outside) EDGEAI_RETURN_IF_ERROR(ConvertScalar(attrs_.extrapolation, x.dtype(), extra));
      return VisitBySize(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T e;
        std::memcpy(&e, extra, sizeof(T));
        Gather<T>(t, out, x.data<T>(), y->data<T>(), e, pool);
        return Status::Ok();
      });
    }
    return VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      Interpolate<T>(t, x.shape(), out, x.data<T>(), y->data<T>(), FromAccumulator<T, double>(attrs_.extrapolation),
                     pool);
      return Status::Ok();
    });
  }

  ResizeAttrs attrs_;
  std::vector<int64_t> axes_;
};

}  // namespace

Status RegisterResizeOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  const int resize_versions[][2] = {{10, 10}, {11, 12}, {13, 17}, {18, 18}, {19, kMaxOpset}};
  for (const auto& v : resize_versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Resize", v[0], v[1], all, InferResize, MakeKernel<ResizeKernel>));
  }
  // Upsample was deprecated at opset 10 in favour of Resize.
  const int upsample_versions[][2] = {{1, 6}, {7, 8}, {9, 9}};
  for (const auto& v : upsample_versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Upsample", v[0], v[1], all, InferResize, MakeKernel<ResizeKernel>));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
