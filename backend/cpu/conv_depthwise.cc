// Conv's depthwise path (one input channel per group, 2-D; conv.cc stores 1-D problems as 2-D): a direct
// sliding window per plane, since im2col + GEMM would do a K x 1 product per channel and waste the copy.
//   - on AVX-512 CPUs, 3x3 planes with the same stride (1 or 2) on both axes run whole through a kernel whose
//     masked loads skip the padding, so no row needs border code (MobileNet's 7x7 and 14x14 planes spent more
//     in per-row set-up and scalar borders than in arithmetic); stride-1 planes go two output rows per pass,
//     and same-padded planes of at most 64 outputs as one flat run (conv_depthwise.h);
//   - other 3x3 windows sum their three rows in registers, with AVX2 (or AVX-512) rows from
//     conv_depthwise_avx.cc over the columns whose taps all lie inside the input and scalar border columns;
//   - other windows run tap by tap over each output row.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "backend/cpu/conv_depthwise.h"
#include "backend/cpu/gemm.h"

namespace edgeai::cpu {
namespace {

// Depthwise 2-D, output columns [o_begin, o_end) of row `oh`: bias plus every kernel tap, with bounds
// checks. Each tap runs over the row, which vectorises along it for stride 1.
template <typename T>
void DepthwiseRowChecked(const ConvCallGeometry& p, const T* xin, const T* wk, T bias, int64_t oh, int64_t o_begin,
                         int64_t o_end, T* orow) {
  const int64_t iw_size = p.in[1], kw_size = p.kernel[1], sw = p.stride[1];
  std::fill(orow + o_begin, orow + o_end, bias);
  for (int64_t kh = 0; kh < p.kernel[0]; ++kh) {
    const int64_t ih = oh * p.stride[0] + kh * p.dilation[0] - p.pad[0];
    if (ih < 0 || ih >= p.in[0]) continue;
    const T* xrow = xin + ih * iw_size;
    for (int64_t kw = 0; kw < kw_size; ++kw) {
      const T wv = wk[kh * kw_size + kw];
      const int64_t off = kw * p.dilation[1] - p.pad[1];
      int64_t lo, hi;
      TapRange(off, sw, iw_size, p.out[1], &lo, &hi);
      lo = std::max(lo, o_begin);
      hi = std::min(hi, o_end);
      if (sw == 1) {
        for (int64_t o = lo; o < hi; ++o) orow[o] += wv * xrow[o + off];
      } else {
        for (int64_t o = lo; o < hi; ++o) orow[o] += wv * xrow[o * sw + off];
      }
    }
  }
}

// The 3x3 kernel of MobileNet-style models, for output columns [lo, hi) where every tap is inside the input
// row: the present window rows summed in registers and one store per output, instead of nine passes over the
// row. Missing rows (in the padding) are null.
template <typename T>
void Depthwise3x3Rows(const ConvCallGeometry& p, const T* const* rows, const T* wk, T bias, int64_t lo, int64_t hi,
                      T* orow) {
  const int64_t dw = p.dilation[1], sw = p.stride[1], pad = p.pad[1];
  if (rows[0] != nullptr && rows[1] != nullptr && rows[2] != nullptr) {
    const T *x0 = rows[0], *x1 = rows[1], *x2 = rows[2];
    const T w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4], w5 = wk[5], w6 = wk[6], w7 = wk[7],
            w8 = wk[8];
    for (int64_t o = lo; o < hi; ++o) {
      const int64_t i = o * sw - pad;
      T acc = bias;
      acc += w0 * x0[i] + w1 * x0[i + dw] + w2 * x0[i + 2 * dw];
      acc += w3 * x1[i] + w4 * x1[i + dw] + w5 * x1[i + 2 * dw];
      acc += w6 * x2[i] + w7 * x2[i + dw] + w8 * x2[i + 2 * dw];
      orow[o] = acc;
    }
    return;
  }
  std::fill(orow + lo, orow + hi, bias);
  for (int64_t k = 0; k < 3; ++k) {
    const T* x = rows[k];
    if (x == nullptr) continue;
    const T w0 = wk[3 * k], w1 = wk[3 * k + 1], w2 = wk[3 * k + 2];
    for (int64_t o = lo; o < hi; ++o) {
      const int64_t i = o * sw - pad;
      orow[o] += w0 * x[i] + w1 * x[i + dw] + w2 * x[i + 2 * dw];
    }
  }
}

// One border output of the 3x3 window: only a few per row, where the checked row loops would cost more in
// range set-up than in arithmetic.
template <typename T>
T Depthwise3x3At(const ConvCallGeometry& p, const T* const* rows, const T* wk, T bias, int64_t o) {
  T acc = bias;
  const int64_t i0 = o * p.stride[1] - p.pad[1];
  for (int64_t k = 0; k < 3; ++k) {
    if (rows[k] == nullptr) continue;
    for (int64_t j = 0; j < 3; ++j) {
      const int64_t i = i0 + j * p.dilation[1];
      if (i >= 0 && i < p.in[1]) acc += wk[3 * k + j] * rows[k][i];
    }
  }
  return acc;
}

// A vectorised 3x3 row (conv_depthwise_avx.cc): rows[k] is window row k (null in the padding), output column
// o in [lo, hi) reads rows[k][o * stride + off + j], j < 3, all inside the row.
using Depthwise3x3RowFn = void (*)(const float* const* rows, const float* w, float bias, int64_t stride,
                                   int64_t off, int64_t lo, int64_t hi, float* orow);

// The vector row for this geometry and CPU, or null for the portable loops. It follows the SGEMM's ISA choice
// (from GetCpuInfo()), so forcing that one, as tests do, forces this one too.
Depthwise3x3RowFn PickDepthwise3x3Row(const ConvCallGeometry& p) {
#if defined(__x86_64__)
  if (p.kernel[0] != 3 || p.kernel[1] != 3 || p.dilation[1] != 1 || p.stride[1] > 2) return nullptr;
  switch (ActiveSgemmIsa()) {
    case SgemmIsa::kAvx512:
      return conv_internal::Depthwise3x3RowAvx512;
    case SgemmIsa::kAvx2:
      return conv_internal::Depthwise3x3RowAvx2;
    case SgemmIsa::kPortable:
      break;
  }
#endif
  (void)p;
  return nullptr;
}

// Columns [lo, hi) where every tap of a 3-wide window is inside the input row.
void Inner3x3Columns(const ConvCallGeometry& p, int64_t* lo, int64_t* hi) {
  int64_t lo_last, hi_first;
  TapRange(-p.pad[1], p.stride[1], p.in[1], p.out[1], lo, &hi_first);
  TapRange(2 * p.dilation[1] - p.pad[1], p.stride[1], p.in[1], p.out[1], &lo_last, hi);
  *hi = std::max(*lo, std::min(*hi, hi_first));
}

// A 3x3 plane: every row, the padded top and bottom ones too, sums its present window rows over the inner
// columns (through `row_fn` when there is one) and computes the few border columns one by one.
template <typename T>
void Depthwise3x3Plane(const ConvCallGeometry& p, const T* xin, const T* wk, T bias, T* out,
                       Depthwise3x3RowFn row_fn) {
  const int64_t ow_size = p.out[1];
  int64_t lo, hi;
  Inner3x3Columns(p, &lo, &hi);
  for (int64_t oh = 0; oh < p.out[0]; ++oh) {
    T* orow = out + oh * ow_size;
    const T* rows[3];
    for (int64_t k = 0; k < 3; ++k) {
      const int64_t ih = oh * p.stride[0] + k * p.dilation[0] - p.pad[0];
      rows[k] = ih >= 0 && ih < p.in[0] ? xin + ih * p.in[1] : nullptr;
    }
    for (int64_t o = 0; o < lo; ++o) orow[o] = Depthwise3x3At(p, rows, wk, bias, o);
    bool done = lo >= hi;
    if constexpr (std::is_same_v<T, float>) {
      if (!done && row_fn != nullptr) {
        row_fn(rows, wk, bias, p.stride[1], -p.pad[1], lo, hi, orow);
        done = true;
      }
    }
    if (!done) Depthwise3x3Rows(p, rows, wk, bias, lo, hi, orow);
    for (int64_t o = hi; o < ow_size; ++o) orow[o] = Depthwise3x3At(p, rows, wk, bias, o);
  }
}

template <typename T>
void DepthwisePlane(const ConvCallGeometry& p, const T* xin, const T* wk, T bias, T* out) {
  for (int64_t oh = 0; oh < p.out[0]; ++oh) {
    DepthwiseRowChecked(p, xin, wk, bias, oh, 0, p.out[1], out + oh * p.out[1]);
  }
}

// Whether whole planes of this problem run through the masked direct kernel (conv_depthwise.h): 3x3, no
// dilation, the same stride of 1 or 2 on both axes, rows of at most 1024 outputs, and an AVX-512 CPU.
bool UseDirectDepthwise(const ConvCallGeometry& p) {
#if defined(__x86_64__)
  if (ActiveSgemmIsa() != SgemmIsa::kAvx512 || p.kernel[0] != 3 || p.kernel[1] != 3) return false;
  if (p.dilation[0] != 1 || p.dilation[1] != 1 || p.stride[0] != p.stride[1] || p.stride[0] > 2) return false;
  return p.out[1] <= 16 * conv_internal::kMaxDirectChunks;
#else
  (void)p;
  return false;
#endif
}

// Output planes [begin, end) through the direct kernel, with a Relu/Clip activation in the stores (others
// follow each plane).
void DirectDepthwisePlanes(const ConvCallGeometry& p, const float* x, const float* w, const float* bias,
                           const Activation& act, float* y, int64_t begin, int64_t end) {
#if defined(__x86_64__)
  conv_internal::Depthwise3x3Plane plane;
  plane.in_h = p.in[0];
  plane.in_w = p.in[1];
  plane.stride = p.stride[0];
  plane.pad_top = p.pad[0];
  plane.pad_left = p.pad[1];
  plane.out_h = p.out[0];
  plane.out_w = p.out[1];
  plane.clamp = act.IsClamp();
  plane.lo = act.clamp_lo();
  plane.hi = act.clamp_hi();
  conv_internal::Depthwise3x3FlatMasks flat;
  const bool use_flat = conv_internal::MakeDepthwise3x3FlatMasks(plane, &flat);
  // Image and channel advance with the plane: three 64-bit divisions per plane cost as much as a 7x7 plane.
  const int64_t mpg = p.mpg();
  int64_t img = begin / p.out_channels, m = begin % p.out_channels;
  for (int64_t i = begin; i < end; ++i) {
    plane.x = x + (img * p.in_channels + (mpg == 1 ? m : m / mpg)) * p.in_size;
    plane.w = w + m * p.kernel_size;
    plane.bias = bias ? bias[m] : 0.0f;
    plane.y = y + i * p.out_size;
    if (use_flat) {
      conv_internal::Depthwise3x3FlatAvx512(plane, flat);
    } else {
      conv_internal::Depthwise3x3PlaneAvx512(plane);
    }
    if (!act.IsClamp()) ApplyActivation(plane.y, p.out_size, act);
    if (++m == p.out_channels) {
      m = 0;
      ++img;
    }
  }
#else
  (void)p, (void)x, (void)w, (void)bias, (void)act, (void)y, (void)begin, (void)end;
#endif
}

// Whether this call runs through the channel-blocked kernel (conv_depthwise.h): small planes, a depth
// multiplier of 1, an AVX-512 CPU. EDGEAI_DEPTHWISE_BLOCKED=0 turns it off for A/B runs.
bool UseBlockedDepthwise(const ConvCallGeometry& p, conv_internal::DepthwiseBlockGeometry* g) {
#if defined(__x86_64__)
  static const bool disabled = [] {
    const char* v = std::getenv("EDGEAI_DEPTHWISE_BLOCKED");
    return v != nullptr && std::string(v) == "0";
  }();
  return !disabled && ActiveSgemmIsa() == SgemmIsa::kAvx512 && conv_internal::MakeDepthwiseBlockGeometry(p, g);
#else
  (void)p, (void)g;
  return false;
#endif
}

// Blocks of 16 channels of every image through the channel-blocked kernel; activations other than a clamp
// follow each block's planes.
void BlockedDepthwise(const ConvCallGeometry& p, const conv_internal::DepthwiseBlockGeometry& g, const float* x,
                      const float* w, const float* bias, const Activation& act, float* y, const ThreadPool& pool) {
  const int64_t blocks = (p.out_channels + 15) / 16;
  pool.ParallelFor(p.batch * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t img = i / blocks, c0 = i % blocks * 16;
      const int n = static_cast<int>(std::min<int64_t>(16, p.out_channels - c0));
      float* yb = y + (img * p.out_channels + c0) * p.out_size;
      conv_internal::Depthwise3x3BlockAvx512(g, x + (img * p.in_channels + c0) * p.in_size, w + c0 * 9,
                                             bias != nullptr ? bias + c0 : nullptr, n, act.IsClamp(),
                                             act.clamp_lo(), act.clamp_hi(), yb);
      if (!act.IsClamp()) ApplyActivation(yb, n * p.out_size, act);
    }
  });
}

}  // namespace

template <typename T>
void DepthwiseConv(const ConvCallGeometry& p, const T* x, const T* w, const T* bias, T* y, const Activation& act,
                   const ThreadPool& pool) {
  if constexpr (std::is_same_v<T, float>) {
    conv_internal::DepthwiseBlockGeometry g;
    if (UseBlockedDepthwise(p, &g)) {
      BlockedDepthwise(p, g, x, w, bias, act, y, pool);
      return;
    }
  }
  const int64_t planes = p.batch * p.out_channels;
  const int64_t work = std::max<int64_t>(1, p.out_size * p.kernel_size);
  const int64_t grain = std::max<int64_t>(1, 32768 / work);
  const int64_t mpg = p.mpg();
  Depthwise3x3RowFn row_fn = nullptr;
  if constexpr (std::is_same_v<T, float>) row_fn = PickDepthwise3x3Row(p);
  const bool k3x3 = p.kernel[0] == 3 && p.kernel[1] == 3;
  const bool direct = std::is_same_v<T, float> && UseDirectDepthwise(p);
  pool.ParallelFor(planes, grain, [&](int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<T, float>) {
      if (direct) {
        DirectDepthwisePlanes(p, x, w, bias, act, y, begin, end);
        return;
      }
    }
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t img = plane / p.out_channels, m = plane % p.out_channels;
      const T* xin = x + (img * p.in_channels + m / mpg) * p.in_size;
      const T* wk = w + m * p.kernel_size;
      const T b = bias ? bias[m] : T(0);
      T* out = y + plane * p.out_size;
      if (k3x3) {
        Depthwise3x3Plane(p, xin, wk, b, out, row_fn);
      } else {
        DepthwisePlane(p, xin, wk, b, out);
      }
      ApplyActivation(out, p.out_size, act);
    }
  });
}

template void DepthwiseConv<float>(const ConvCallGeometry&, const float*, const float*, const float*, float*,
                                   const Activation&, const ThreadPool&);
template void DepthwiseConv<double>(const ConvCallGeometry&, const double*, const double*, const double*, double*,
                                    const Activation&, const ThreadPool&);

}  // namespace edgeai::cpu
