// Internal to Conv: a direct convolution for inputs with few channels, the RGB stem of an image network
// (MobileNet's 3 -> 32 3x3 stride 2, SqueezeNet's 3 -> 64). With C = 3 the GEMM's K is only C * KH * KW (27),
// so the im2col rows it builds (a strided gather per tap) cost as much as the product; here each tap's input
// vector is gathered once in registers and multiplied into 16 output channels at once.
// The vectors run along the output row (16 columns); stride 1 and 2 load input rows directly (stride 2
// de-interleaves two vectors), other strides use a masked gather. Padding is the lanes not loaded.
#pragma once

#include <cstdint>

#include "backend/cpu/gemm.h"
#include "backend/cpu/conv_geometry.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu::conv_internal {

// The most input channels the direct kernel takes: beyond a handful the GEMM's K is long enough to repay it.
constexpr int64_t kDirectMaxInChannels = 4;
// The most weights (input channels x kernel taps x output channels rounded up to 16) it repacks per call.
constexpr int64_t kDirectMaxWeights = 1 << 14;

// Whether the direct kernel serves this call: float32 over two spatial axes, one group, at most
// kDirectMaxInChannels input channels, no dilation, a window larger than 1x1 and at most 16 rows, at most
// kDirectMaxWeights weights, and an AVX-512 CPU.
bool DirectSmallChannelsSuits(const ConvCallGeometry& p);

// Y = conv(X, W) + bias (bias may be null), clamped to [clamp->lo, clamp->hi] as it is stored when `clamp` is
// not null. Only for calls DirectSmallChannelsSuits accepts.
void DirectSmallChannelsConv(const ConvCallGeometry& p, const float* x, const float* w, const float* bias,
                             const OutputClamp* clamp, float* y, const ThreadPool& pool);

}  // namespace edgeai::cpu::conv_internal
