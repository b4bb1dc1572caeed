// Internal to the Winograd convolution (conv_winograd.cc): the input and output tile transforms, one set per
// output tile size (F(2x2, 3x3) and F(4x4, 3x3)) and instruction-set level. They work on one block of tiles
// laid out for the transform-point GEMMs:
//   V: the transformed input tiles, tile t of channel c at transform point pt at c * ld + pt * point_stride + t;
//   O: the GEMM products (same layout, output channels), which the output transform turns into Y.
// A segment is a run of tiles along one tile row of one image; the transforms vectorise across its tiles.
#pragma once

#include <cstdint>

#include "backend/cpu/activation.h"

namespace edgeai::cpu::winograd_internal {

// Tiles per vector of the widest level (AVX-512); the block layouts leave this many columns of slack after
// the last tile, since a partial vector of tiles is written whole.
constexpr int64_t kMaxLanes = 16;

struct InputSegment {
  const float* x;          // the image's first channel plane
  int64_t in_h, in_w;      // plane size
  int64_t row0, col0;      // input row and column of the first tile's top-left corner (may be in the padding)
  int64_t tiles;           // along the tile row
  float* v;                // channel 0, point 0, the segment's first tile
  int64_t ld, point_stride;
};

struct OutputSegment {
  const float* o;          // channel 0, point 0, the segment's first tile
  int64_t ld, point_stride;
  float* y;                // the image's first output channel plane
  int64_t out_h, out_w;
  int64_t row0, col0;      // output row and column of the first tile's top-left corner
  int64_t tiles;
  const float* bias;       // per output channel, or null
  bool clamp;              // clamp to [lo, hi] in registers (Relu, Clip)
  float lo, hi;
  const Activation* act;   // any other activation, applied to each stored row; null for none
};

// Channels [c0, c1) of a segment.
using InputTransformFn = void (*)(const InputSegment& s, int64_t c0, int64_t c1);
// Output channels [m0, m1) of a segment.
using OutputTransformFn = void (*)(const OutputSegment& s, int64_t m0, int64_t m1);

struct TransformSet {
  InputTransformFn input;
  OutputTransformFn output;
};

enum class TransformIsa { kPortable, kAvx2, kAvx512 };

// The transforms of F(m x m, 3x3), m = 2 or 4, for `isa` (which the caller has checked the CPU runs); null when
// the build lacks the level.
const TransformSet* WinogradTransforms(int m, TransformIsa isa);

}  // namespace edgeai::cpu::winograd_internal
