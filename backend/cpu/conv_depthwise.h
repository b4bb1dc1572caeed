// Internal to Conv: the depthwise path (conv_depthwise.cc) and its vectorised pieces (conv_depthwise_avx.cc),
// compiled for AVX-512 / AVX2 through function target attributes and called only where the CPU runs them.
#pragma once

#include <cstdint>

#include "backend/cpu/activation.h"
#include "backend/cpu/conv_geometry.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {

// Y = depthwise conv(X, W) + bias, then `act`, for a call with p.IsDepthwise(); float and double.
template <typename T>
void DepthwiseConv(const ConvCallGeometry& p, const T* x, const T* w, const T* bias, T* y, const Activation& act,
                   const ThreadPool& pool);

}  // namespace edgeai::cpu

namespace edgeai::cpu::conv_internal {

// One output row of the 3x3 window, for output columns [lo, hi) whose taps all lie inside the input row:
// rows[k] is window row k (null in the padding), output column o reads rows[k][o * stride + off + j], j < 3.
void Depthwise3x3RowAvx512(const float* const* rows, const float* w, float bias, int64_t stride, int64_t off,
                           int64_t lo, int64_t hi, float* orow);
void Depthwise3x3RowAvx2(const float* const* rows, const float* w, float bias, int64_t stride, int64_t off,
                         int64_t lo, int64_t hi, float* orow);

// One whole plane of a 3x3 depthwise convolution with the same stride (1 or 2) on both axes and no dilation,
// read straight from the input with masked loads (any padding), with the fused clamp (Relu/Clip) in the store.
struct Depthwise3x3Plane {
  const float* x = nullptr;  // the input plane [in_h, in_w]
  int64_t in_h = 0, in_w = 0;
  const float* w = nullptr;  // the nine weights, row-major
  float bias = 0.0f;
  int64_t stride = 1;
  int64_t pad_top = 0, pad_left = 0;
  float* y = nullptr;  // the output plane [out_h, out_w]
  int64_t out_h = 0, out_w = 0;
  bool clamp = false;
  float lo = 0.0f, hi = 0.0f;
};

// Output rows up to 16 * kMaxDirectChunks wide (the column masks are kept on the stack).
constexpr int64_t kMaxDirectChunks = 64;
void Depthwise3x3PlaneAvx512(const Depthwise3x3Plane& p);

// Stride 1 with the output the size of the input (MobileNet's "same" padding) on planes of at most 64 outputs
// (7x7): the plane is one flat run of outputs, 16 per vector across row ends, and each tap a flat offset with a
// lane mask for the windows it misses. A 7x7 plane then takes 4 vectors per tap instead of 7 (one per row, 7 of
// 16 lanes used): 38 against 52 us on 960 planes; from 14x14 on the row kernel is faster (38 against 49 us on
// 384 planes). The masks depend only on the geometry: made once, for every plane of the call.
struct Depthwise3x3FlatMasks {
  static constexpr int kMaxChunks = 4;
  int chunks = 0;
  int64_t offset[9];
  uint16_t lanes[kMaxChunks][9];
  uint16_t store[kMaxChunks];
};
// False (and `m` unset) where the geometry does not suit.
bool MakeDepthwise3x3FlatMasks(const Depthwise3x3Plane& p, Depthwise3x3FlatMasks* m);
void Depthwise3x3FlatAvx512(const Depthwise3x3Plane& p, const Depthwise3x3FlatMasks& m);

// Small output planes (MobileNet's 7x7, from 7x7 at stride 1 or 14x14 at stride 2) with a depth multiplier of
// 1: 16 channels at a time, with the vectors across channels instead of along a row. Each block's input planes
// are transposed (16x16 in registers) into a zero-bordered [row][column][16 channels] scratch, where every tap
// of every output is one plain aligned load and all 16 lanes do work; the outputs are transposed back as they
// are stored. Per plane, the row kernels use 7 of 16 lanes at stride 2 and masked loads at every border.
// Measured at 1 thread on mobilenet_v2: 576 x 14x14 -> 7x7 stride 2 0.060 -> 0.041 ms, 960 x 7x7 0.037 ->
// 0.034 ms; from 14x14 outputs on the transposes cost more than they save (384 x 14x14: 0.040 -> 0.043 ms).
struct DepthwiseBlockGeometry {
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t stride = 1, pad_top = 0, pad_left = 0;
  int64_t scratch_h = 0, scratch_w = 0;  // the window's reach: (out - 1) * stride + 3 on each axis
};
// The largest scratch (pixels) and output plane the blocked kernel takes.
constexpr int64_t kMaxBlockScratchPixels = 1024;
constexpr int64_t kMaxBlockOutputs = 64;
// False where the geometry does not suit (3x3, no dilation, the same stride 1 or 2 on both axes assumed).
bool MakeDepthwiseBlockGeometry(const ConvCallGeometry& p, DepthwiseBlockGeometry* g);
// Channels [c0, c0 + n) (n <= 16) of one image: x and y point at channel c0's planes, w at its nine weights,
// bias at its bias (or null); clamp to [lo, hi] when `clamp`.
void Depthwise3x3BlockAvx512(const DepthwiseBlockGeometry& g, const float* x, const float* w, const float* bias,
                             int n, bool clamp, float lo, float hi, float* y);

}  // namespace edgeai::cpu::conv_internal
