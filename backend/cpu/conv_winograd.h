// Winograd convolution for 3x3, stride 1, dilation 1, single-group float32 2-D convolutions: F(m x m, 3x3)
// computes each m x m output tile from an (m + 2)^2 input tile with (m + 2)^2 multiplies per channel pair
// instead of 9 m^2, F(4x4, 3x3) with 36 instead of 144 (the im2col GEMM's).
//
// F(4x4) serves outputs larger than 10x10, F(2x2) smaller ones, where F(4x4) would have too few tiles.
//
// Tiles (of all images) are processed in blocks sized to stay in L2: the block's input tiles are transformed
// into V (per channel and transform point, a row of tiles), one GEMM per transform point multiplies the
// weights transformed and packed once at load time (U[point], M x C) by V's rows of that point into O, and the
// output transform turns O into Y, adding the bias and applying the activation while the tile rows are in
// registers. Blocks run in parallel; a call with too few of them runs each block's transforms and products
// across the pool instead.
//
// The transforms vectorise across the tiles of a block (conv_winograd_kernels.cc: AVX-512, AVX2 or portable,
// following the SGEMM's instruction-set choice). Warm runs allocate nothing: each thread's block buffer is
// reserved on every thread of the pool when a larger one is first needed.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/conv_geometry.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {

class WinogradConv3x3 {
 public:
  // Whether the call is one this class computes: 2-D, 3x3 kernel, stride 1, dilation 1, one group.
  static bool Suits(const ConvCallGeometry& p);
  // False when the environment variable EDGEAI_WINOGRAD is "0": the path is then neither packed nor taken
  // (A/B comparisons).
  static bool Enabled();
  // The output tile size for outputs of `out_pixels` positions per image (0: not known at load time).
  static int TileFor(int64_t out_pixels);

  // Transforms and packs W [M, C, 3, 3] once, for output tiles of `tile` x `tile` (2 or 4).
  void Pack(const float* w, int64_t out_channels, int64_t in_channels, int tile = 4);
  // Whether this (packed) convolution is expected to beat im2col + GEMM on the call p, which suits (a rule
  // from measurements on the shapes of ResNet and SqueezeNet; see the .cc). Reads p's batch, channels and
  // output size only.
  bool Pays(const ConvCallGeometry& p) const;
  bool packed() const { return tile_ != 0; }
  int tile() const { return tile_; }
  int64_t out_channels() const { return out_channels_; }
  int64_t in_channels() const { return in_channels_; }

  // y = conv(x, w) + bias (bias may be null), then `act`; p must suit (Suits) and match the packed channels.
  void Run(const ConvCallGeometry& p, const float* x, const float* bias, const Activation& act, float* y,
           const ThreadPool& pool) const;

 private:
  int tile_ = 0;
  int64_t out_channels_ = 0, in_channels_ = 0;
  std::vector<SgemmPacked> u_;  // one M x C matrix per transform point
};

}  // namespace edgeai::cpu
