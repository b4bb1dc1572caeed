// Internal to the CPU backend: the channel-blocked layout of the com.edgeai blocked ops (blocked_layout_ops.cc)
// and their AVX-512 kernels (blocked_layout_avx512.cc).
//
// A blocked tensor [N, C/16, H, W, 16] holds the NCHW tensor [N, C, H, W] (C a multiple of 16) with 16
// consecutive channels innermost: one vector is one pixel of 16 channels. 1x1 convolutions then read their input
// in place as the A operand of a register-tiled product (pixels x output channels, no packing and no padded
// columns on 14x14 or 7x7 planes) and depthwise convolutions use all 16 lanes at every tap, whatever the plane
// size or stride. ONNX Runtime runs MobileNet-style networks in the same layout (NCHWc).
#pragma once

#include <cstdint>

#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu::blocked {

constexpr int64_t kBlock = 16;

// The geometry of one blocked convolution call: pointwise (1x1, stride 1, no padding, one group) or depthwise
// 3x3 (one channel per group).
struct ConvGeometry {
  int64_t batch = 0, in_blocks = 0, out_blocks = 0;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
};

// Pointwise weights W [M, C] packed for the kernel: panels of 32 output channels (the last one may hold 16),
// each [C][32] (channel-major), panel after panel. Bias and activation as the kernel applies them.
struct PointwiseWeights {
  const float* packed = nullptr;  // [ceil(M / 32)][C][32], zero-padded
  const float* bias = nullptr;    // [M] or null
  int64_t in_channels = 0, out_channels = 0;
};

// Depthwise weights [C/16][9][16] (tap-major within each block of 16 channels).
struct DepthwiseWeights {
  const float* packed = nullptr;
  const float* bias = nullptr;  // [C] or null
};

// Y = act(conv(X) + bias) over blocked X and Y; `clamp` applies a Relu/Clip in the stores (other activations
// are the caller's, afterwards).
void PointwiseAvx512(const ConvGeometry& g, const float* x, const PointwiseWeights& w, const OutputClamp* clamp,
                     float* y, const ThreadPool& pool);
void DepthwiseAvx512(const ConvGeometry& g, const float* x, const DepthwiseWeights& w, const OutputClamp* clamp,
                     float* y, const ThreadPool& pool);
// NCHW [n, blocks * 16, pixels] -> blocked [n, blocks, pixels, 16], and back.
void ToBlockedAvx512(const float* x, int64_t n, int64_t blocks, int64_t pixels, float* y, const ThreadPool& pool);
void FromBlockedAvx512(const float* x, int64_t n, int64_t blocks, int64_t pixels, float* y, const ThreadPool& pool);

}  // namespace edgeai::cpu::blocked
