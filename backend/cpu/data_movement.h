// Helpers shared by the CPU data-movement kernels (shape_ops.cc, tensor_ops.cc, gather_ops.cc, pad_ops.cc):
// reading small integer inputs without touching the heap, parallel byte copies and one general strided copy
// that turns Transpose, Slice, Expand and Tile into contiguous memcpy runs or cache-blocked transposes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/kernel.h"
#include "backend/op_registry.h"
#include "backend/shape_util.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {

// Every dtype with a fixed element size; data-movement ops accept all of them.
const std::vector<DataType>& AllFixedSizeTypes();

// Registers one OpDef.
Status AddOp(OpRegistry& registry, const char* op_type, int since, int until, std::vector<DataType> types,
             InferFn infer, KernelFactory create, int type_input = 0);

// The ints attribute `name`, or nullptr when absent (no copy: infer also runs on the inference path).
const std::vector<int64_t>* FindInts(const AttributeMap& attrs, const char* name);

// Reads a scalar or 1-D int32/int64 tensor into `out`. Shape doubles as a small vector here: it keeps up to
// Shape::kInlineRank values without allocating. `what` names the input in the error.
Status ReadInts(const Tensor& t, std::string_view what, Shape* out);
// ReadInts of the known value of input i (precondition: ctx.input_value(i)); errors name the node.
Status ReadInputInts(const InferenceContext& ctx, size_t i, std::string_view what, Shape* out);
// For a 1-D shape-like input i whose value is unknown: rank = its length when known, dims unknown.
ValueType RankFromLength(const InferenceContext& ctx, size_t i, DataType dtype);
// The same from an ints attribute.
void IntsToShape(const std::vector<int64_t>& ints, Shape* out);

// "[2,-1,0]": the raw values, unlike Shape::ToString which prints negatives as "?".
std::string IntsToString(const Shape& values);

// Row-major strides (in elements) of `dims`.
Shape ContiguousStrides(const Shape& dims);

// True when `dims` holds an unknown (negative) dim.
bool HasUnknownDim(const Shape& dims);

// memcpy, split over the pool when large.
void CopyBytes(const ThreadPool& pool, void* dst, const void* src, size_t bytes);

// dst, contiguous with shape `dims`, receives dst[i0,..,in] = src[i0*strides[0] + ... + in*strides[n]]
// (strides in elements, any sign, 0 to broadcast). Adjacent dims are merged first; then each row is one
// memcpy (unit inner stride), a fill (zero inner stride), a cache-blocked transpose (another dim has unit
// stride) or a strided gather.
void StridedCopy(const ThreadPool& pool, size_t elem_size, const Shape& dims, const Shape& strides, const void* src,
                 void* dst);

// Walks the row-major positions of `dims` from a start index, tracking two linear offsets with their own
// strides. Holds Shapes, so it does not allocate for ranks up to Shape::kInlineRank.
class IndexWalker {
 public:
  IndexWalker(const Shape& dims, const Shape& strides_a, const Shape& strides_b, int64_t start);
  int64_t a() const { return a_; }
  int64_t b() const { return b_; }
  const Shape& index() const { return index_; }
  void Next();

 private:
  Shape dims_, sa_, sb_, index_;
  int64_t a_ = 0;
  int64_t b_ = 0;
};

// Bytes each parallel task should move, so that tiny tensors stay on the calling thread.
constexpr int64_t kBytesPerTask = 64 * 1024;
inline int64_t GrainFor(int64_t bytes_per_item) {
  return bytes_per_item <= 0 ? kBytesPerTask : std::max<int64_t>(1, kBytesPerTask / bytes_per_item);
}

// Writes `value` converted to `dtype` into `out` (DataTypeSize(dtype) bytes). Error for non-numeric dtypes.
Status ConvertScalar(double value, DataType dtype, void* out);

}  // namespace edgeai::cpu
