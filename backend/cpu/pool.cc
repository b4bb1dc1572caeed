// Pooling: MaxPool (with optional Indices), AveragePool, GlobalMaxPool, GlobalAveragePool over 1 to 3 spatial
// axes. Work is split over the N*C planes; every plane is pooled independently with the shared geometry of
// conv_geometry.h, so window placement agrees exactly with Conv.
#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/pool_avx.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr size_t kMaxSpatial = 3;
// Planes per parallel chunk are sized so that a chunk does at least this many window reads.
constexpr int64_t kWorkPerChunk = 1 << 15;

// One plane's geometry, padded at the front to three axes (size 1, kernel 1, no padding) so that 1-D and 2-D
// pooling run through the 3-D loops.
struct Plane3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  int64_t in_size, out_size;
};

// Valid kernel taps [*k0, *k1) of output position o along one axis; *kc1 bounds taps inside input + padding.
inline void Taps(const Plane3& g, int a, int64_t o, int64_t* start, int64_t* k0, int64_t* k1, int64_t* kc1) {
  const int64_t st = o * g.s[a] - g.pb[a];
  const int64_t d = g.d[a];
  *start = st;
  if (d == 1) {  // the common case, without the divisions (they dominate small windows)
    *k0 = std::max<int64_t>(0, -st);
    *k1 = std::max<int64_t>(0, std::min(g.k[a], g.in[a] - st));
    *kc1 = std::max<int64_t>(0, std::min(g.k[a], g.in[a] + g.pe[a] - st));
    return;
  }
  *k0 = st < 0 ? (-st + d - 1) / d : 0;
  const int64_t room = g.in[a] - st;
  *k1 = std::min(g.k[a], room > 0 ? (room + d - 1) / d : 0);
  const int64_t padded_room = g.in[a] + g.pe[a] - st;
  *kc1 = std::min(g.k[a], padded_room > 0 ? (padded_room + d - 1) / d : 0);
}

Status MakePlane3(const Shape& x, const WindowAttrs& w, Plane3* g, Shape* y_dims) {
  const size_t n = x.rank() - 2;
  SpatialGeometry geo;
  EDGEAI_RETURN_IF_ERROR(ComputePoolGeometry(x.data() + 2, w.kernel_shape.data(), n, w, &geo));
  const size_t lead = kMaxSpatial - n;
  for (size_t a = 0; a < kMaxSpatial; ++a) {
    const bool pad_axis = a < lead;
    const size_t i = a - lead;
    g->in[a] = pad_axis ? 1 : x[2 + i];
    g->out[a] = pad_axis ? 1 : geo.output[i];
    g->k[a] = pad_axis ? 1 : w.kernel_shape[i];
    g->s[a] = pad_axis || w.strides.empty() ? 1 : w.strides[i];
    g->d[a] = pad_axis || w.dilations.empty() ? 1 : w.dilations[i];
    g->pb[a] = pad_axis ? 0 : geo.pad_begin[i];
    g->pe[a] = pad_axis ? 0 : geo.pad_end[i];
  }
  g->in_size = g->in[0] * g->in[1] * g->in[2];
  g->out_size = g->out[0] * g->out[1] * g->out[2];
  *y_dims = x;
  for (size_t i = 0; i < n; ++i) (*y_dims)[2 + i] = geo.output[i];
  return Status::Ok();
}

// By value, in the a < b ? b : a form that compilers turn into vector max instructions.
template <typename T>
inline T Max(T a, T b) {
  return a < b ? b : a;
}

template <typename T>
constexpr T Lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}

// Max over the window of every output of one plane. `idx` (may be null) gets the flat index of the maximum
// within the whole tensor, offset by `idx_base`; column-major order when `col_major`.
template <typename T>
void MaxPoolPlane(const Plane3& g, const T* x, T* y, int64_t* idx, int64_t idx_base, bool col_major) {
  int64_t sd, d0, d1, sh, h0, h1, sw, w0, w1, unused;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    Taps(g, 0, od, &sd, &d0, &d1, &unused);
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      Taps(g, 1, oh, &sh, &h0, &h1, &unused);
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++y) {
        Taps(g, 2, ow, &sw, &w0, &w1, &unused);
        T best = Lowest<T>();
        int64_t best_at = -1;
        for (int64_t kd = d0; kd < d1; ++kd) {
          const int64_t id = sd + kd * g.d[0];
          for (int64_t kh = h0; kh < h1; ++kh) {
            const int64_t ih = sh + kh * g.d[1];
            const T* row = x + (id * g.in[1] + ih) * g.in[2];
            if (idx == nullptr) {
              for (int64_t kw = w0; kw < w1; ++kw) best = Max(best, row[sw + kw * g.d[2]]);
              continue;
            }
            for (int64_t kw = w0; kw < w1; ++kw) {
              const int64_t iw = sw + kw * g.d[2];
              if (row[iw] > best || best_at < 0) {
                best = row[iw];
                best_at = col_major ? ih + iw * g.in[1] + id * g.in[1] * g.in[2]
                                    : (id * g.in[1] + ih) * g.in[2] + iw;
              }
            }
          }
        }
        *y = best;
        if (idx != nullptr) *idx++ = best_at < 0 ? -1 : idx_base + best_at;
      }
    }
  }
}

template <typename T>
void AveragePoolPlane(const Plane3& g, const T* x, T* y, bool count_include_pad) {
  int64_t sd, d0, d1, dc, sh, h0, h1, hc, sw, w0, w1, wc;
  for (int64_t od = 0; od < g.out[0]; ++od) {
    Taps(g, 0, od, &sd, &d0, &d1, &dc);
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      Taps(g, 1, oh, &sh, &h0, &h1, &hc);
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++y) {
        Taps(g, 2, ow, &sw, &w0, &w1, &wc);
        T sum = T(0);
        for (int64_t kd = d0; kd < d1; ++kd) {
          const int64_t id = sd + kd * g.d[0];
          for (int64_t kh = h0; kh < h1; ++kh) {
            const T* row = x + (id * g.in[1] + sh + kh * g.d[1]) * g.in[2];
            for (int64_t kw = w0; kw < w1; ++kw) sum += row[sw + kw * g.d[2]];
          }
        }
        // Taps before the first valid one are begin padding, always inside the padded extent.
        const int64_t count = count_include_pad ? dc * hc * wc : (d1 - d0) * (h1 - h0) * (w1 - w0);
        *y = count > 0 ? sum / static_cast<T>(count) : T(0);
      }
    }
  }
}

// Row-separable average pooling for the common 1-D/2-D case without dilation: each output row first sums its
// input rows into `buf` (contiguous, vectorisable), then slides the window along that single row.
constexpr int64_t kMaxSeparableWidth = 2048;

bool SeparableOk(const Plane3& g) {
  return g.out[0] == 1 && g.k[0] == 1 && g.d[1] == 1 && g.d[2] == 1 && g.in[2] <= kMaxSeparableWidth;
}

template <typename T>
void SeparableAveragePlane(const Plane3& g, const T* x, T* y, bool count_include_pad) {
  T buf[kMaxSeparableWidth];
  const int64_t w = g.in[2];
  int64_t sh, h0, h1, hc, sw, w0, w1, wc;
  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
    Taps(g, 1, oh, &sh, &h0, &h1, &hc);
    for (int64_t i = 0; i < w; ++i) buf[i] = T(0);
    for (int64_t kh = h0; kh < h1; ++kh) {
      const T* row = x + (sh + kh) * w;
      for (int64_t i = 0; i < w; ++i) buf[i] += row[i];
    }
    for (int64_t ow = 0; ow < g.out[2]; ++ow, ++y) {
      Taps(g, 2, ow, &sw, &w0, &w1, &wc);
      T acc = T(0);
      for (int64_t kw = w0; kw < w1; ++kw) acc += buf[sw + kw];
      const int64_t count = count_include_pad ? hc * wc : (h1 - h0) * (w1 - w0);
      *y = count > 0 ? acc / static_cast<T>(count) : T(0);
    }
  }
}

// Row-buffered max pooling for 1-D/2-D windows without dilation. Per output row, the column pass reduces the
// window's input rows into a row buffer that holds the begin padding, the input row and the end padding
// (ceil_mode included) with the padding at Lowest(), the identity of max; the window pass then takes every
// output column as the max over k adjacent buffer entries, the same code for border and inner columns.
// Both passes skip NaN inputs, like MaxPoolPlane.
constexpr int64_t kMaxRowBuffer = 4096 + 64;
constexpr int64_t kRowsPerPass = 16;

int64_t RowBufferSize(const Plane3& g) {
  return std::max(g.pb[2] + g.in[2], (g.out[2] - 1) * g.s[2] + g.k[2]);
}

bool RowBufferedOk(const Plane3& g) {
  return g.out[0] == 1 && g.k[0] == 1 && g.d[1] == 1 && g.d[2] == 1 && g.pb[2] >= 0 &&
         RowBufferSize(g) <= kMaxRowBuffer;
}

template <typename T>
void MaxColumns(const T* const* rows, int64_t n, int64_t w, bool accumulate, T* dst) {
  int64_t r = 0;
  if (!accumulate) {
    for (int64_t i = 0; i < w; ++i) dst[i] = Max(Lowest<T>(), rows[0][i]);
    r = 1;
  }
  for (; r < n; ++r) {
    const T* row = rows[r];
    for (int64_t i = 0; i < w; ++i) dst[i] = Max(dst[i], row[i]);
  }
}

template <typename T>
void MaxWindows(const T* buf, int64_t k, int64_t stride, int64_t n, T* out) {
  if (stride == 1) {  // tap-major, so that every pass is a contiguous, vectorisable loop
    for (int64_t o = 0; o < n; ++o) out[o] = buf[o];
    for (int64_t j = 1; j < k; ++j) {
      for (int64_t o = 0; o < n; ++o) out[o] = Max(out[o], buf[o + j]);
    }
    return;
  }
  for (int64_t o = 0; o < n; ++o) {
    const T* p = buf + o * stride;
    T acc = p[0];
    for (int64_t j = 1; j < k; ++j) acc = Max(acc, p[j]);
    out[o] = acc;
  }
}

using MaxPlaneFn = void (*)(const pool_internal::MaxPlane2d& p, const float* x, float* y);

// The whole-plane vector kernel for this CPU and geometry (1-D/2-D without dilation), or null. It follows the
// SGEMM's ISA choice (from GetCpuInfo()), so forcing that one, as tests do, forces this one too.
MaxPlaneFn PickMaxPlane(const Plane3& g, pool_internal::MaxPlane2d* p) {
#if defined(__x86_64__)
  const SgemmIsa isa = ActiveSgemmIsa();
  if (isa == SgemmIsa::kPortable) return nullptr;
  if (g.out[0] != 1 || g.k[0] != 1 || g.d[1] != 1 || g.d[2] != 1) return nullptr;
  p->in_h = g.in[1];
  p->in_w = g.in[2];
  p->out_h = g.out[1];
  p->out_w = g.out[2];
  p->kernel_h = g.k[1];
  p->kernel_w = g.k[2];
  p->stride_h = g.s[1];
  p->stride_w = g.s[2];
  p->pad_top = g.pb[1];
  p->pad_left = g.pb[2];
  if (!pool_internal::MaxPlaneSupports(*p)) return nullptr;
  return isa == SgemmIsa::kAvx512 ? pool_internal::MaxPlaneAvx512 : pool_internal::MaxPlaneAvx2;
#else
  (void)g;
  (void)p;
  return nullptr;
#endif
}

// Column passes for a block of output rows come before their window passes: a window pass that read the
// row just stored could wait on store forwarding (its loads straddle the column pass's stores).
constexpr int64_t kRowBlockElements = 8192;
static_assert(kMaxRowBuffer % 16 == 0 && kMaxRowBuffer <= kRowBlockElements, "a row must fit a block");

template <typename T>
void MaxColumnsInto(const Plane3& g, int64_t oh, const T* x, T* cols) {
  const int64_t w = g.in[2];
  const T* rows[kRowsPerPass];
  int64_t sh, h0, h1, unused;
  Taps(g, 1, oh, &sh, &h0, &h1, &unused);
  if (h1 <= h0) std::fill(cols, cols + w, Lowest<T>());
  for (int64_t kh = h0; kh < h1; kh += kRowsPerPass) {
    const int64_t count = std::min(kRowsPerPass, h1 - kh);
    for (int64_t r = 0; r < count; ++r) rows[r] = x + (sh + kh + r) * w;
    MaxColumns<T>(rows, count, w, kh > h0, cols);
  }
}

template <typename T>
void RowBufferedMaxPlane(const Plane3& g, const T* x, T* y) {
  const int64_t w = g.in[2], n = g.out[2], k = g.k[2], s = g.s[2];
  const int64_t stride = (RowBufferSize(g) + 15) / 16 * 16;
  const int64_t block = std::max<int64_t>(1, std::min(g.out[1], kRowBlockElements / stride));
  // Sized once per thread for any block (block * stride <= kRowBlockElements, as stride <= kMaxRowBuffer), so
  // that no later geometry allocates. Column passes write only [pb, pb + w) of each row, so the padding stays
  // filled from one plane (and run) to the next while the layout stays the same.
  thread_local std::vector<T> scratch;
  thread_local int64_t filled[3] = {-1, -1, -1};  // pb, w and stride of the filled layout
  if (scratch.empty()) scratch.resize(kRowBlockElements + 16);  // + 16: room to align to 64 bytes
  T* buf = scratch.data() + (16 - reinterpret_cast<uintptr_t>(scratch.data()) / sizeof(T) % 16) % 16;
  if (filled[0] != g.pb[2] || filled[1] != w || filled[2] != stride) {
    std::fill(scratch.begin(), scratch.end(), Lowest<T>());
    filled[0] = g.pb[2];
    filled[1] = w;
    filled[2] = stride;
  }
  for (int64_t oh0 = 0; oh0 < g.out[1]; oh0 += block) {
    const int64_t rows = std::min(block, g.out[1] - oh0);
    for (int64_t r = 0; r < rows; ++r) MaxColumnsInto<T>(g, oh0 + r, x, buf + r * stride + g.pb[2]);
    for (int64_t r = 0; r < rows; ++r, y += n) MaxWindows<T>(buf + r * stride, k, s, n, y);
  }
}

int64_t PlaneGrain(int64_t work_per_plane) {
  return std::max<int64_t>(1, kWorkPerChunk / std::max<int64_t>(1, work_per_plane));
}

Status InferPool(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  WindowAttrs w;
  Status s = ParseWindowAttrs(ctx.attrs(), &w);
  if (!s.ok()) return ctx.Error(s.message());
  if (w.kernel_shape.empty()) return ctx.Error("the kernel_shape attribute is required");
  const size_t n = w.kernel_shape.size();
  if (n > kMaxSpatial) return ctx.Error("only 1 to 3 spatial axes are supported, got " + std::to_string(n));
  const int64_t order = ctx.attrs().GetInt("storage_order", 0);
  if (order != 0 && order != 1) return ctx.Error("storage_order must be 0 or 1, got " + std::to_string(order));
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    ctx.output(i) = ValueType::UnknownRank(i == 0 ? x.dtype : DataType::kInt64);
  }
  if (!x.rank_known) return Status::Ok();
  if (x.dims.rank() != n + 2) {
    return ctx.Error("input " + x.ToString() + " must have rank " + std::to_string(n + 2) + " (N, C and " +
                     std::to_string(n) + " spatial axes, as kernel_shape has)");
  }
  SpatialGeometry geo;
  s = ComputePoolGeometry(x.dims.data() + 2, w.kernel_shape.data(), n, w, &geo);
  if (!s.ok()) return ctx.Error(s.message());
  Shape y = x.dims;
  for (size_t i = 0; i < n; ++i) y[2 + i] = geo.output[i];
  for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.output(i) = ValueType::Of(ctx.output(i).dtype, y);
  return Status::Ok();
}

class PoolKernel : public Kernel {
 public:
  explicit PoolKernel(bool is_max) : is_max_(is_max) {}

  Status Init(const InferenceContext& ctx) {
    EDGEAI_RETURN_IF_ERROR(ParseWindowAttrs(ctx.attrs(), &window_));
    count_include_pad_ = ctx.attrs().GetInt("count_include_pad", 0) != 0;
    col_major_ = ctx.attrs().GetInt("storage_order", 0) == 1;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != window_.kernel_shape.size() + 2) return ctx.Error("input " + x.Describe() + " has the wrong rank");
    Plane3 g;
    Shape y_dims;
    Status s = MakePlane3(x.shape(), window_, &g, &y_dims);
    if (!s.ok()) return ctx.Error(s.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, y_dims));
    int64_t* idx = nullptr;
    if (is_max_ && ctx.num_outputs() > 1) {
      EDGEAI_ASSIGN_OR_RETURN(Tensor * indices, ctx.Output(1, y_dims));
      idx = indices->data<int64_t>();
    }
    const int64_t planes = x.shape()[0] * x.shape()[1];
    const int64_t window = window_.kernel_shape.empty() ? 1 : g.k[0] * g.k[1] * g.k[2];
    const int64_t grain = PlaneGrain(g.out_size * window);
    pool_internal::MaxPlane2d plane;
    const MaxPlaneFn vector_plane =
        is_max_ && idx == nullptr && x.dtype() == DataType::kFloat32 ? PickMaxPlane(g, &plane) : nullptr;
    const bool row_buffered = is_max_ && idx == nullptr && vector_plane == nullptr && RowBufferedOk(g);
    const bool separable = !is_max_ && SeparableOk(g);
    auto run = [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xp = x.data<T>();
      T* yp = y->data<T>();
      ctx.pool().ParallelFor(planes, grain, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const T* xplane = xp + p * g.in_size;
          T* yplane = yp + p * g.out_size;
          if constexpr (std::is_same_v<T, float>) {
            if (vector_plane != nullptr) {
              vector_plane(plane, xplane, yplane);
              continue;
            }
          }
          if (row_buffered) {
            RowBufferedMaxPlane<T>(g, xplane, yplane);
          } else if (is_max_) {
            MaxPoolPlane<T>(g, xplane, yplane, idx ? idx + p * g.out_size : nullptr, p * g.in_size, col_major_);
          } else if constexpr (std::is_floating_point_v<T>) {
            if (separable) {
              SeparableAveragePlane<T>(g, xplane, yplane, count_include_pad_);
            } else {
              AveragePoolPlane<T>(g, xplane, yplane, count_include_pad_);
            }
          }
        }
      });
      return Status::Ok();
    };
    if (is_max_) return VisitNumeric(x.dtype(), run);
    return VisitFloat(x.dtype(), run);
  }

 private:
  bool is_max_;
  WindowAttrs window_;
  bool count_include_pad_ = false;
  bool col_major_ = false;
};

template <bool kMax>
Result<std::unique_ptr<Kernel>> CreatePool(const InferenceContext& ctx) {
  auto kernel = std::make_unique<PoolKernel>(kMax);
  Status s = kernel->Init(ctx);
  if (!s.ok()) return ctx.Error(s.message());
  return std::unique_ptr<Kernel>(std::move(kernel));
}

Status InferGlobalPool(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  ctx.output(0) = x;
  if (!x.rank_known) return Status::Ok();
  if (x.dims.rank() < 2) return ctx.Error("input " + x.ToString() + " must have rank >= 2 (N, C, spatial...)");
  for (size_t i = 2; i < x.dims.rank(); ++i) ctx.output(0).dims[i] = 1;
  return Status::Ok();
}

template <typename T, bool kMax>
T ReducePlane(const T* p, int64_t n) {
  // Independent lanes let the compiler vectorise without reassociating a single accumulator.
  constexpr int kLanes = 8;
  T acc[kLanes];
  for (T& a : acc) a = kMax ? Lowest<T>() : T(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] = kMax ? Max(acc[l], p[i + l]) : acc[l] + p[i + l];
  }
  for (; i < n; ++i) acc[0] = kMax ? Max(acc[0], p[i]) : acc[0] + p[i];
  T r = acc[0];
  for (int l = 1; l < kLanes; ++l) r = kMax ? Max(r, acc[l]) : r + acc[l];
  return kMax ? r : r / static_cast<T>(n);
}

template <bool kMax>
class GlobalPoolKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 2) return ctx.Error("input " + x.Describe() + " must have rank >= 2");
    Shape y_dims = x.shape();
    for (size_t i = 2; i < y_dims.rank(); ++i) y_dims[i] = 1;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, y_dims));
    const int64_t planes = x.shape()[0] * x.shape()[1];
    const int64_t size = x.shape().SizeFromTo(2, x.rank());
    return VisitFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x.data<T>();
      T* yp = y->data<T>();
      ctx.pool().ParallelFor(planes, PlaneGrain(size), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) yp[p] = ReducePlane<T, kMax>(xp + p * size, size);
      });
      return Status::Ok();
    });
  }
};

OpDef Def(const char* op, int since, std::vector<DataType> types, InferFn infer, KernelFactory create) {
  return MakeOpDef(op, since, kMaxOpset, std::move(types), infer, create);
}

}  // namespace

Status RegisterPoolOps(OpRegistry& registry) {
  using DT = DataType;
  const std::vector<DT> floats = {DT::kFloat32, DT::kFloat64};
  // Attributes added by later versions (storage_order 8, ceil_mode/dilations 10, count_include_pad 7) default
  // to the behaviour of the earlier versions, so one definition covers every version of each op.
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      Def("MaxPool", 1, {DT::kFloat32, DT::kFloat64, DT::kInt8, DT::kUint8}, InferPool, CreatePool<true>)));
  EDGEAI_RETURN_IF_ERROR(registry.Register(Def("AveragePool", 1, floats, InferPool, CreatePool<false>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(Def("GlobalMaxPool", 1, floats, InferGlobalPool, MakeKernel<GlobalPoolKernel<true>>)));
  EDGEAI_RETURN_IF_ERROR(registry.Register(
      Def("GlobalAveragePool", 1, floats, InferGlobalPool, MakeKernel<GlobalPoolKernel<false>>)));
  return Status::Ok();
}

}  // namespace edgeai::cpu
