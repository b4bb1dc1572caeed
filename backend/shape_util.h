// Shape helpers shared by the inference functions of several op families. All accept unknown dims (-1), as
// load-time inference sees them, and produce -1 where the answer depends on an unknown.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/kernel.h"

namespace edgeai {

// Numpy-style (multidirectional) broadcast of two shapes. Error when two known dims differ and neither is 1.
Result<Shape> BroadcastShapes(const Shape& a, const Shape& b);

// Broadcast of every present input of `ctx` from `first` on; the result has unknown rank when any input does.
// Errors name the node.
Result<ValueType> BroadcastInputs(const InferenceContext& ctx, size_t first, DataType dtype);

// Reads a 1-D (or scalar) int32/int64 tensor into `out`. Error when the dtype is neither.
Status ReadInt64s(const Tensor& t, std::vector<int64_t>* out);

// Normalises `axis` against `rank` (negative counts from the end). Error naming the node when out of range.
Result<int64_t> NormalizeAxis(const InferenceContext& ctx, int64_t axis, int64_t rank);

}  // namespace edgeai
