#include "backend/shape_util.h"

#include <algorithm>

namespace edgeai {

Result<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.rank(), b.rank());
  Shape out;
  out.resize(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.rank() ? 1 : a[i - (rank - a.rank())];
    int64_t db = i < rank - b.rank() ? 1 : b[i - (rank - b.rank())];
    int64_t d;
    if (da == 1) {
      d = db;
    } else if (db == 1) {
      d = da;
    } else if (da < 0 || db < 0) {
      d = da < 0 ? db : da;  // the known one, if any: the other must equal it or the model is invalid
      if (da < 0 && db < 0) d = -1;
    } else if (da == db) {
      d = da;
    } else {
      return InvalidArgument("shapes " + a.ToString() + " and " + b.ToString() + " cannot be broadcast");
    }
    out[i] = d;
  }
  return out;
}

Result<ValueType> BroadcastInputs(const InferenceContext& ctx, size_t first, DataType dtype) {
  Shape shape;
  for (size_t i = first; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const ValueType& in = ctx.input(i);
    if (!in.rank_known) return ValueType::UnknownRank(dtype);
    Result<Shape> merged = BroadcastShapes(shape, in.dims);
    if (!merged.ok()) return ctx.Error(merged.status().message());
    shape = std::move(merged).value();
  }
  return ValueType::Of(dtype, shape);
}

Status ReadInt64s(const Tensor& t, std::vector<int64_t>* out) {
  out->clear();
  int64_t n = t.NumElements();
  if (t.dtype() == DataType::kInt64) {
    out->assign(t.data<int64_t>(), t.data<int64_t>() + n);
  } else if (t.dtype() == DataType::kInt32) {
    out->assign(t.data<int32_t>(), t.data<int32_t>() + n);
  } else {
    return InvalidArgument("expected an int64 or int32 tensor, got " + t.Describe());
  }
  return Status::Ok();
}

Result<int64_t> NormalizeAxis(const InferenceContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    return ctx.Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace edgeai
