// AVX-512 kernels of the blocked layout (blocked_layout.h).
#include "backend/cpu/blocked_layout.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the undefined pass-through operand inside _mm512_max_ps/_mm512_min_ps itself (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <array>
#include <utility>

#include "backend/cpu/avx512_util.h"

#define EDGEAI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace edgeai::cpu::blocked {
namespace {

EDGEAI_TARGET_AVX512 inline __m512 Clamp(__m512 v, const OutputClamp* clamp) {
  // max/min return their second operand when either is NaN: a NaN result stays NaN.
  if (clamp == nullptr) return v;
  return _mm512_min_ps(_mm512_set1_ps(clamp->hi), _mm512_max_ps(_mm512_set1_ps(clamp->lo), v));
}

constexpr int kTileRows = 14;  // pixels per register tile (as the SGEMM's 14 x 32 tile)

// R pixels x V vectors of 16 output channels: acc[i][v] = sum over c of x(pixel i, c) * w(c, 16v + lane). The
// input is read in place: channel c of pixel i at x[(c / 16) * plane + i * 16 + c % 16].
template <int R, int V>
EDGEAI_TARGET_AVX512 void PointwiseTile(const float* x, int64_t plane, int64_t in_blocks, const float* w,
                                        const float* bias, const OutputClamp* clamp, float* y, int64_t out_plane) {
  __m512 acc[R][V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) acc[i][v] = b;
  }
  for (int64_t cb = 0; cb < in_blocks; ++cb, x += plane, w += 16 * 32) {
    for (int c = 0; c < 16; ++c) {
      __m512 wv[V];
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) wv[v] = _mm512_loadu_ps(w + c * 32 + 16 * v);
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        const __m512 a = _mm512_set1_ps(x[i * 16 + c]);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(a, wv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) _mm512_storeu_ps(y + v * out_plane + i * 16, Clamp(acc[i][v], clamp));
  }
}

using PointwiseTileFn = void (*)(const float*, int64_t, int64_t, const float*, const float*, const OutputClamp*,
                                 float*, int64_t);

template <size_t... I>
constexpr std::array<PointwiseTileFn, sizeof...(I)> MakePointwiseTiles(std::index_sequence<I...>) {
  return {&PointwiseTile<static_cast<int>(I / 2) + 1, static_cast<int>(I % 2) + 1>...};
}
// [rows - 1][vectors - 1]
constexpr auto kPointwiseTiles = MakePointwiseTiles(std::make_index_sequence<2 * kTileRows>());

}  // namespace

void PointwiseAvx512(const ConvGeometry& g, const float* x, const PointwiseWeights& w, const OutputClamp* clamp,
                     float* y, const ThreadPool& pool) {
  const int64_t pixels = g.out_h * g.out_w, plane = pixels * kBlock;
  const int64_t tiles = (pixels + kTileRows - 1) / kTileRows, panels = (w.out_channels + 31) / 32;
  // Panel-major, so that consecutive tasks share a panel of weights in the cache.
  const int64_t tasks = g.batch * panels * tiles;
  const int64_t work = kTileRows * 32 * w.in_channels;
  pool.ParallelFor(tasks, std::max<int64_t>(1, (1 << 15) / work), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t img = t / (panels * tiles), panel = t / tiles % panels, tile = t % tiles;
      const int64_t p0 = tile * kTileRows;
      const int rows = static_cast<int>(std::min<int64_t>(kTileRows, pixels - p0));
      const int vectors = static_cast<int>(std::min<int64_t>(2, (w.out_channels - panel * 32) / 16));
      const float* xt = x + img * g.in_blocks * plane + p0 * kBlock;
      float* yt = y + (img * g.out_blocks + panel * 2) * plane + p0 * kBlock;
      kPointwiseTiles[(rows - 1) * 2 + vectors - 1](xt, plane, g.in_blocks, w.packed + panel * w.in_channels * 32,
                                                    w.bias != nullptr ? w.bias + panel * 32 : nullptr, clamp, yt,
                                                    plane);
    }
  });
}

namespace {

// Output row oy of channel block cb of image img.
EDGEAI_TARGET_AVX512 void DepthwiseRow(const ConvGeometry& g, const float* x, const DepthwiseWeights& w,
                                       const OutputClamp* clamp, float* y, int64_t t) {
  const int64_t in_plane = g.in_h * g.in_w * kBlock, out_plane = g.out_h * g.out_w * kBlock;
  const int64_t blocks = g.in_blocks, rows = g.out_h;
  const int64_t img = t / (blocks * rows), cb = t / rows % blocks, oy = t % rows;
  const float* xb = x + (img * blocks + cb) * in_plane;
  float* yrow = y + (img * blocks + cb) * out_plane + oy * g.out_w * kBlock;
  __m512 wt[9];
  for (int k = 0; k < 9; ++k) wt[k] = _mm512_loadu_ps(w.packed + (cb * 9 + k) * kBlock);
  const __m512 bias = w.bias != nullptr ? _mm512_loadu_ps(w.bias + cb * kBlock) : _mm512_setzero_ps();
  const int64_t iy0 = oy * g.stride_h - g.pad_top;
  const int64_t ky_lo = std::max<int64_t>(0, -iy0), ky_hi = std::min<int64_t>(3, g.in_h - iy0);
  // Output columns whose three taps all lie inside the row: no bounds checks.
  const int64_t ox_lo = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  const int64_t reach = g.in_w - 3 + g.pad_left;  // the last column where a window starts whole
  const int64_t ox_hi = reach < 0 ? ox_lo : std::max(ox_lo, std::min(g.out_w, reach / g.stride_w + 1));
  for (int64_t ox = 0; ox < g.out_w; ++ox) {
    const int64_t ix0 = ox * g.stride_w - g.pad_left;
    __m512 a0 = bias, a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps();
    if (ky_lo == 0 && ky_hi == 3 && ox >= ox_lo && ox < ox_hi) {
      const float* s = xb + (iy0 * g.in_w + ix0) * kBlock;
      const int64_t row = g.in_w * kBlock;
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        a0 = _mm512_fmadd_ps(wt[kx], _mm512_loadu_ps(s + kx * kBlock), a0);
        a1 = _mm512_fmadd_ps(wt[3 + kx], _mm512_loadu_ps(s + row + kx * kBlock), a1);
        a2 = _mm512_fmadd_ps(wt[6 + kx], _mm512_loadu_ps(s + 2 * row + kx * kBlock), a2);
      }
    } else {
      const int64_t kx_lo = std::max<int64_t>(0, -ix0), kx_hi = std::min<int64_t>(3, g.in_w - ix0);
      for (int64_t ky = ky_lo; ky < ky_hi; ++ky) {
        const float* s = xb + ((iy0 + ky) * g.in_w + ix0) * kBlock;
        for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
          a0 = _mm512_fmadd_ps(wt[ky * 3 + kx], _mm512_loadu_ps(s + kx * kBlock), a0);
        }
      }
    }
    _mm512_storeu_ps(yrow + ox * kBlock, Clamp(_mm512_add_ps(_mm512_add_ps(a0, a1), a2), clamp));
  }
}

// Channel block i (16 planes of `pixels`) to blocked, or back.
EDGEAI_TARGET_AVX512 void ToBlockedBlock(const float* src, int64_t pixels, float* dst) {
  for (int64_t p0 = 0; p0 < pixels; p0 += kBlock) {
    const __mmask16 m = FirstLanes16(pixels - p0);
    __m512 v[16];
#pragma GCC unroll 16
    for (int c = 0; c < 16; ++c) v[c] = _mm512_maskz_loadu_ps(m, src + c * pixels + p0);
    Transpose16x16(v);
    const int64_t count = std::min<int64_t>(kBlock, pixels - p0);
    for (int64_t j = 0; j < count; ++j) _mm512_storeu_ps(dst + (p0 + j) * kBlock, v[j]);
  }
}

EDGEAI_TARGET_AVX512 void FromBlockedBlock(const float* src, int64_t pixels, float* dst) {
  for (int64_t p0 = 0; p0 < pixels; p0 += kBlock) {
    const int64_t count = std::min<int64_t>(kBlock, pixels - p0);
    __m512 v[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) v[j] = j < count ? _mm512_loadu_ps(src + (p0 + j) * kBlock) : _mm512_setzero_ps();
    Transpose16x16(v);
    const __mmask16 m = FirstLanes16(count);
#pragma GCC unroll 16
    for (int c = 0; c < 16; ++c) _mm512_mask_storeu_ps(dst + c * pixels + p0, m, v[c]);
  }
}

}  // namespace

void DepthwiseAvx512(const ConvGeometry& g, const float* x, const DepthwiseWeights& w, const OutputClamp* clamp,
                     float* y, const ThreadPool& pool) {
  const int64_t tasks = g.batch * g.in_blocks * g.out_h;
  pool.ParallelFor(tasks, std::max<int64_t>(1, 2048 / std::max<int64_t>(1, g.out_w)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t t = begin; t < end; ++t) DepthwiseRow(g, x, w, clamp, y, t);
                   });
}

void ToBlockedAvx512(const float* x, int64_t n, int64_t blocks, int64_t pixels, float* y, const ThreadPool& pool) {
  pool.ParallelFor(n * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) ToBlockedBlock(x + i * kBlock * pixels, pixels, y + i * kBlock * pixels);
  });
}

void FromBlockedAvx512(const float* x, int64_t n, int64_t blocks, int64_t pixels, float* y,
                       const ThreadPool& pool) {
  pool.ParallelFor(n * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) FromBlockedBlock(x + i * kBlock * pixels, pixels, y + i * kBlock * pixels);
  });
}

}  // namespace edgeai::cpu::blocked

#else

namespace edgeai::cpu::blocked {
void PointwiseAvx512(const ConvGeometry&, const float*, const PointwiseWeights&, const OutputClamp*, float*,
                     const ThreadPool&) {}
void DepthwiseAvx512(const ConvGeometry&, const float*, const DepthwiseWeights&, const OutputClamp*, float*,
                     const ThreadPool&) {}
void ToBlockedAvx512(const float*, int64_t, int64_t, int64_t, float*, const ThreadPool&) {}
void FromBlockedAvx512(const float*, int64_t, int64_t, int64_t, float*, const ThreadPool&) {}
}  // namespace edgeai::cpu::blocked

#endif  // defined(__x86_64__)
