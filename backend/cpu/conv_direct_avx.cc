// The AVX-512 direct convolution of conv_direct.h. One task is one output row of one block of up to 16 output
// channels: for each 16-column piece of the row, every tap (input channel, kernel row, kernel column) gathers
// one input vector and adds it, scaled by each channel's weight, into 16 accumulators.
#include "backend/cpu/conv_direct.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>

#include "backend/cpu/avx512_util.h"

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps/_mm512_min_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

namespace edgeai::cpu::conv_internal {

namespace {
int64_t RoundUpTo16(int64_t n) { return (n + 15) / 16 * 16; }
}  // namespace

bool DirectSmallChannelsSuits(const ConvCallGeometry& p) {
#if defined(__x86_64__)
  if (ActiveSgemmIsa() != SgemmIsa::kAvx512) return false;
  if (p.n != 2 || p.group != 1 || p.in_channels > kDirectMaxInChannels || p.IsPointwise()) return false;
  return p.dilation[0] == 1 && p.dilation[1] == 1 && p.kernel_size > 1 && p.kernel[0] <= 16 &&
         p.in_channels * p.kernel_size * RoundUpTo16(p.out_channels) <= kDirectMaxWeights;
#else
  (void)p;
  return false;
#endif
}

#if defined(__x86_64__)
namespace {

// The input vector of one tap: columns ix0 + l * stride of `row` for lanes l = 0..15, zero where a column falls
// outside [0, w). The masks depend only on the column range, so the caller makes them once per kernel column.
struct TapColumns {
  int64_t stride;
  bool inside;       // every column read lies in the row: plain loads (masked ones cost twice as much)
  __mmask16 lo, hi;  // stride 1 and 2: the lanes of the first (and second) 16 consecutive columns
  __m512i index;     // other strides: the gather's column offsets
};

EDGEAI_TARGET_AVX512 inline TapColumns MakeTapColumns(int64_t ix0, int64_t stride, int64_t w) {
  TapColumns t;
  t.stride = stride;
  t.index = _mm512_setzero_si512();
  if (stride <= 2) {
    t.lo = LaneRange16(-ix0, w - ix0);
    t.hi = LaneRange16(-ix0 - 16, w - ix0 - 16);
    t.inside = ix0 >= 0 && ix0 + 16 * stride <= w;
    return t;
  }
  t.inside = false;
  // Lane l reads column ix0 + l * stride: inside for l in [ceil(-ix0 / stride), ceil((w - ix0) / stride)).
  const int64_t first = ix0 >= 0 ? 0 : (-ix0 + stride - 1) / stride;
  const int64_t end = w - ix0 <= 0 ? 0 : (w - ix0 + stride - 1) / stride;
  t.lo = LaneRange16(first, end);
  t.hi = 0;
  t.index = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                               _mm512_set1_epi32(static_cast<int>(stride)));
  return t;
}

EDGEAI_TARGET_AVX512 inline __m512 LoadTap(const float* at, const TapColumns& t) {
  if (t.stride == 1) return t.inside ? _mm512_loadu_ps(at) : _mm512_maskz_loadu_ps(t.lo, at);
  if (t.stride == 2) {
    // 32 consecutive columns, then the even ones.
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    if (t.inside) return _mm512_permutex2var_ps(_mm512_loadu_ps(at), even, _mm512_loadu_ps(at + 16));
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(t.lo, at), even, _mm512_maskz_loadu_ps(t.hi, at + 16));
  }
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t.lo, t.index, at, 4);
}

// Input rows of one output row: at most kDirectMaxInChannels * kDirectMaxKernelRows.
constexpr int64_t kDirectMaxKernelRows = 16;

struct DirectRow {
  const ConvCallGeometry* p;
  const float* x;   // this image's input [C, H, W]
  const float* wp;  // the block's weights, tap-major: wp[tap * 16 + o], tap = (c * KH + ky) * KW + kx
  const float* bias;
  const OutputClamp* clamp;
  float* y;  // the block's first output channel's row [OW]
  int64_t oy;
};

// One output row of N output channels.
template <int N>
EDGEAI_TARGET_AVX512 void DirectRowOf(const DirectRow& r) {
  const ConvCallGeometry& p = *r.p;
  const int64_t ih = p.in[0], iw = p.in[1], kh = p.kernel[0], kw = p.kernel[1], ow = p.out[1];
  const int64_t sw = p.stride[1];
  // The input rows this output row reads (kernel rows over the padding contribute nothing) and the weight
  // offset of each one's first tap.
  const int64_t iy0 = r.oy * p.stride[0] - p.pad[0];
  const int64_t ky_lo = std::max<int64_t>(0, -iy0), ky_hi = std::min<int64_t>(kh, ih - iy0);
  const float* rows[kDirectMaxInChannels * kDirectMaxKernelRows];
  const float* weights[kDirectMaxInChannels * kDirectMaxKernelRows];
  int nrows = 0;
  for (int64_t c = 0; c < p.in_channels; ++c) {
    for (int64_t ky = ky_lo; ky < ky_hi; ++ky, ++nrows) {
      rows[nrows] = r.x + (c * ih + iy0 + ky) * iw;
      weights[nrows] = r.wp + (c * kh + ky) * kw * 16;
    }
  }
  for (int64_t ox0 = 0; ox0 < ow; ox0 += 16) {
    __m512 acc[N];
#pragma GCC unroll 16
    for (int o = 0; o < N; ++o) acc[o] = _mm512_set1_ps(r.bias != nullptr ? r.bias[o] : 0.0f);
    for (int64_t kx = 0; kx < kw; ++kx) {
      const int64_t ix0 = ox0 * sw - p.pad[1] + kx;
      const TapColumns cols = MakeTapColumns(ix0, sw, iw);
      for (int i = 0; i < nrows; ++i) {
        const __m512 v = LoadTap(rows[i] + ix0, cols);
        const float* wt = weights[i] + kx * 16;
        // Keeps wt in one register: GCC otherwise rebuilds each weight's address from several (spilled) ones.
        asm("" : "+r"(wt));
#pragma GCC unroll 16
        for (int o = 0; o < N; ++o) acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wt[o]), v, acc[o]);
      }
    }
    const __mmask16 store = LaneRange16(0, ow - ox0);
#pragma GCC unroll 16
    for (int o = 0; o < N; ++o) {
      __m512 v = acc[o];
      if (r.clamp != nullptr) {
        v = _mm512_min_ps(_mm512_set1_ps(r.clamp->hi), _mm512_max_ps(_mm512_set1_ps(r.clamp->lo), v));
      }
      _mm512_mask_storeu_ps(r.y + o * p.out_size + ox0, store, v);
    }
  }
}

using DirectRowFn = void (*)(const DirectRow&);
constexpr DirectRowFn kDirectRows[16] = {DirectRowOf<1>,  DirectRowOf<2>,  DirectRowOf<3>,  DirectRowOf<4>,
                                         DirectRowOf<5>,  DirectRowOf<6>,  DirectRowOf<7>,  DirectRowOf<8>,
                                         DirectRowOf<9>,  DirectRowOf<10>, DirectRowOf<11>, DirectRowOf<12>,
                                         DirectRowOf<13>, DirectRowOf<14>, DirectRowOf<15>, DirectRowOf<16>};

}  // namespace
#endif

void DirectSmallChannelsConv(const ConvCallGeometry& p, const float* x, const float* w, const float* bias,
                             const OutputClamp* clamp, float* y, const ThreadPool& pool) {
#if defined(__x86_64__)
  const int64_t blocks = (p.out_channels + 15) / 16, rows = p.out[0];
  // The weights tap-major within each block of 16 output channels, so that a tap's 16 weights are one run:
  // packed per call (a few thousand floats) into a buffer that grows once.
  const int64_t taps = p.in_channels * p.kernel_size;
  thread_local std::vector<float> packed;
  if (packed.size() < static_cast<size_t>(kDirectMaxWeights)) packed.resize(kDirectMaxWeights);
  for (int64_t oc = 0; oc < p.out_channels; ++oc) {
    float* dst = packed.data() + oc / 16 * taps * 16 + oc % 16;
    for (int64_t t = 0; t < taps; ++t) dst[t * 16] = w[oc * taps + t];
  }
  const float* wp = packed.data();
  const int64_t tasks = p.batch * blocks * rows;
  const int64_t work = std::max<int64_t>(1, 16 * p.out[1] * taps);
  pool.ParallelFor(tasks, std::max<int64_t>(1, (1 << 16) / work), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t img = t / (blocks * rows), block = t / rows % blocks, oy = t % rows;
      const int64_t oc0 = block * 16, n = std::min<int64_t>(16, p.out_channels - oc0);
      DirectRow r;
      r.p = &p;
      r.x = x + img * p.in_channels * p.in_size;
      r.wp = wp + block * taps * 16;
      r.bias = bias != nullptr ? bias + oc0 : nullptr;
      r.clamp = clamp;
      r.y = y + (img * p.out_channels + oc0) * p.out_size + oy * p.out[1];
      r.oy = oy;
      kDirectRows[n - 1](r);
    }
  });
#else
  (void)p, (void)x, (void)w, (void)bias, (void)clamp, (void)y, (void)pool;
#endif
}

}  // namespace edgeai::cpu::conv_internal
