// The channel-blocked 3x3 depthwise kernel of conv_depthwise.h, for AVX-512: 16 channels per vector, through a
// zero-bordered [row][column][channel] scratch that lives in L1.
#include <algorithm>
#include <cstdint>

#include "backend/cpu/avx512_util.h"
#include "backend/cpu/conv_depthwise.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps/_mm512_min_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace edgeai::cpu::conv_internal {
namespace {

}  // namespace

bool MakeDepthwiseBlockGeometry(const ConvCallGeometry& p, DepthwiseBlockGeometry* g) {
  if (p.n != 2 || p.kernel[0] != 3 || p.kernel[1] != 3 || p.dilation[0] != 1 || p.dilation[1] != 1) return false;
  if (p.stride[0] != p.stride[1] || p.stride[0] > 2 || p.mpg() != 1) return false;
  g->in_h = p.in[0];
  g->in_w = p.in[1];
  g->out_h = p.out[0];
  g->out_w = p.out[1];
  g->stride = p.stride[0];
  g->pad_top = p.pad[0];
  g->pad_left = p.pad[1];
  g->scratch_h = (g->out_h - 1) * g->stride + 3;
  g->scratch_w = (g->out_w - 1) * g->stride + 3;
  return g->out_h * g->out_w <= kMaxBlockOutputs && g->scratch_h * g->scratch_w <= kMaxBlockScratchPixels;
}

EDGEAI_TARGET_AVX512 void Depthwise3x3BlockAvx512(const DepthwiseBlockGeometry& g, const float* x, const float* w,
                                                  const float* bias, int n, bool clamp, float lo, float hi,
                                                  float* y) {
  alignas(64) float scratch[kMaxBlockScratchPixels * 16];
  alignas(64) float out[kMaxBlockOutputs * 16];
  const int64_t in_size = g.in_h * g.in_w, out_size = g.out_h * g.out_w, sw = g.scratch_w;
  const __mmask16 channels = FirstLanes16(n);
  // Scratch pixel (r, c) holds input (r - pad_top, c - pad_left), zero outside the input: the border first, then
  // the input plane, 16 pixels at a time in row-major order (rows narrower than 16 share a transpose), one vector
  // per channel transposed into one vector per pixel.
  const __m512 zero = _mm512_setzero_ps();
  const int64_t c_lo = std::min<int64_t>(sw, g.pad_left), c_hi = std::min<int64_t>(sw, g.pad_left + g.in_w);
  const int64_t r_lo = std::min<int64_t>(g.scratch_h, g.pad_top);
  const int64_t r_hi = std::min<int64_t>(g.scratch_h, g.pad_top + g.in_h);
  for (int64_t r = 0; r < g.scratch_h; ++r) {
    float* srow = scratch + r * sw * 16;
    const bool inside = r >= r_lo && r < r_hi;
    for (int64_t c = 0; c < sw; ++c) {
      if (!inside || c < c_lo || c >= c_hi) _mm512_store_ps(srow + c * 16, zero);
    }
  }
  // Only the input pixels the scratch covers (rows and columns past its reach are never read).
  const int64_t rows_used = r_hi - r_lo, cols_used = c_hi - c_lo;
  const int64_t flat = (rows_used - 1) * g.in_w + cols_used;  // pixels from (0, 0) to the last one used
  int64_t iy = 0, ix = 0;
  for (int64_t q0 = 0; q0 < flat; q0 += 16) {
    const __mmask16 m = FirstLanes16(flat - q0);
    __m512 v[16];
#pragma GCC unroll 16
    for (int ch = 0; ch < 16; ++ch) v[ch] = ch < n ? _mm512_maskz_loadu_ps(m, x + ch * in_size + q0) : zero;
    Transpose16x16(v);
    const int64_t count = std::min<int64_t>(16, flat - q0);
    for (int64_t j = 0; j < count; ++j) {
      if (ix < cols_used) _mm512_store_ps(scratch + ((r_lo + iy) * sw + c_lo + ix) * 16, v[j]);
      if (++ix == g.in_w) {
        ix = 0;
        ++iy;
      }
    }
  }
  // The nine taps' weights and the bias, one lane per channel.
  __m512 wt[9];
  for (int tap = 0; tap < 9; ++tap) {
    alignas(64) float lanes[16] = {};
    for (int ch = 0; ch < n; ++ch) lanes[ch] = w[ch * 9 + tap];
    wt[tap] = _mm512_load_ps(lanes);
  }
  const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(channels, bias) : zero;
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    const float* s0 = scratch + oy * g.stride * sw * 16;
    float* orow = out + oy * g.out_w * 16;
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      const float* s = s0 + ox * g.stride * 16;
      __m512 a0 = b, a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps();
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        a0 = _mm512_fmadd_ps(wt[kx], _mm512_load_ps(s + kx * 16), a0);
        a1 = _mm512_fmadd_ps(wt[3 + kx], _mm512_load_ps(s + (sw + kx) * 16), a1);
        a2 = _mm512_fmadd_ps(wt[6 + kx], _mm512_load_ps(s + (2 * sw + kx) * 16), a2);
      }
      __m512 r = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
      // max/min return their second operand when either is NaN: a NaN result stays NaN.
      if (clamp) r = _mm512_min_ps(vhi, _mm512_max_ps(vlo, r));
      _mm512_store_ps(orow + ox * 16, r);
    }
  }
  // Back to planes: 16 outputs of every channel per transpose.
  for (int64_t q0 = 0; q0 < out_size; q0 += 16) {
    const int64_t count = std::min<int64_t>(16, out_size - q0);
    __m512 v[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) v[j] = j < count ? _mm512_load_ps(out + (q0 + j) * 16) : zero;
    Transpose16x16(v);
    const __mmask16 m = FirstLanes16(count);
    for (int ch = 0; ch < n; ++ch) _mm512_mask_storeu_ps(y + ch * out_size + q0, m, v[ch]);
  }
}

}  // namespace edgeai::cpu::conv_internal

#else

namespace edgeai::cpu::conv_internal {
bool MakeDepthwiseBlockGeometry(const ConvCallGeometry&, DepthwiseBlockGeometry*) { return false; }
void Depthwise3x3BlockAvx512(const DepthwiseBlockGeometry&, const float*, const float*, const float*, int, bool,
                             float, float, float*) {}
}  // namespace edgeai::cpu::conv_internal

#endif  // defined(__x86_64__)
