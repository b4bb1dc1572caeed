// Internal to the pooling ops: the vectorised float32 max pool (pool_avx.cc), compiled for AVX-512 / AVX2
// through function target attributes; pool.cc calls them only where the CPU runs them (after the SGEMM ISA
// choice). All of them skip NaN inputs, as the checked loops of pool.cc do: a window of NaNs gives -inf.
#pragma once

#include <cstdint>

namespace edgeai::cpu::pool_internal {

// One 2-D plane of a max pool without dilation. Output (oh, ow) is the max over input rows
// [oh * stride_h - pad_top, + kernel_h) and columns [ow * stride_w - pad_left, + kernel_w), clipped to the input.
struct MaxPlane2d {
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
};

// Whole planes in registers: stride_w 1 or 2, kernel_w up to kMaxPlaneKernelW, no negative padding, and
// column indices that fit in int32 (the AVX2 masks compare them as such).
constexpr int64_t kMaxPlaneKernelW = 17;
inline bool MaxPlaneSupports(const MaxPlane2d& p) {
  return (p.stride_w == 1 || p.stride_w == 2) && p.kernel_w >= 1 && p.kernel_w <= kMaxPlaneKernelW &&
         p.kernel_h >= 1 && p.stride_h >= 1 && p.pad_left >= 0 && p.pad_top >= 0 && p.in_w < (int64_t{1} << 30) &&
         p.pad_left < (int64_t{1} << 30);
}
void MaxPlaneAvx512(const MaxPlane2d& p, const float* x, float* y);
void MaxPlaneAvx2(const MaxPlane2d& p, const float* x, float* y);

}  // namespace edgeai::cpu::pool_internal
