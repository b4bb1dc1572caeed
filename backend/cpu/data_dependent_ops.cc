// Ops whose output shapes depend on input values: Unique, NonZero and Compress. Load-time inference leaves the
// data-dependent dim unknown (-1); the kernel finds the size first and then asks for the output with
// ctx.Output(i, shape).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

std::vector<DataType> NumericBoolTypes() {
  return {DataType::kFloat32, DataType::kFloat64, DataType::kInt8,  DataType::kUint8,
          DataType::kInt16,   DataType::kUint16,  DataType::kInt32, DataType::kUint32,
          DataType::kInt64,   DataType::kUint64,  DataType::kBool};
}

template <typename F>
Status VisitNumericBool(DataType dtype, F&& f) {
  if (dtype == DataType::kBool) return f(TypeTag<bool>{});
  return VisitNumeric(dtype, f);
}

// -1, 0 or 1; NaN compares above every number and equal to itself, so sorting stays well defined.
template <typename T>
int CompareValues(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool na = std::isnan(a);
    const bool nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}

// ----------------------------------------------------------------------------------------------------- Unique

Status InferUnique(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  const bool has_axis = ctx.attrs().Has("axis");
  ValueType y = ValueType::Of(x.dtype, Shape{-1});
  ValueType inverse = ValueType::Of(DataType::kInt64, Shape{-1});
  if (has_axis && !x.rank_known) {
    y = ValueType::UnknownRank(x.dtype);
  } else if (has_axis) {
    const int64_t rank = static_cast<int64_t>(x.dims.rank());
    if (rank == 0) return ctx.Error("input must have rank 1 or more when axis is given");
    EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), rank));
    y = x;
    y.dims[axis] = -1;
    inverse.dims[0] = x.dims[axis];
  } else if (x.rank_known && !HasUnknownDim(x.dims)) {
    inverse.dims[0] = x.dims.NumElements();
  }
  const size_t n = ctx.num_outputs();
  ctx.output(0) = y;
  if (n > 1) ctx.output(1) = ValueType::Of(DataType::kInt64, Shape{-1});
  if (n > 2) ctx.output(2) = inverse;
  if (n > 3) ctx.output(3) = ValueType::Of(DataType::kInt64, Shape{-1});
  return Status::Ok();
}

// Scratch of one Unique run; thread_local so that warm runs reuse it.
struct UniqueScratch {
  std::vector<int64_t> order;        // slice ids, sorted
  std::vector<int64_t> slice_group;  // group of each slice
  std::vector<int64_t> first;        // first slice of each group
  std::vector<int64_t> count;        // slices in each group
  std::vector<int64_t> position;     // output position of each group
  std::vector<int64_t> by_first;     // groups ordered by first occurrence
};

// dims as [outer, n, inner] around `axis` (negative counts from the end; already validated by infer).
void SplitAtAxis(const Shape& dims, int64_t axis_attr, size_t* axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + static_cast<int64_t>(dims.rank()) : axis_attr);
  *outer = dims.SizeFromTo(0, *axis);
  *n = dims[*axis];
  *inner = dims.SizeFromTo(*axis + 1, dims.rank());
}

class UniqueKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    has_axis_ = ctx.attrs().Has("axis");
    axis_ = ctx.attrs().GetInt("axis", 0);
    sorted_ = ctx.attrs().GetInt("sorted", 1) != 0;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    size_t axis = 0;
    int64_t outer = 1, n = x.NumElements(), inner = 1;
    if (has_axis_) SplitAtAxis(dims, axis_, &axis, &outer, &n, &inner);
    thread_local UniqueScratch s;
    EDGEAI_RETURN_IF_ERROR(VisitNumericBool(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      Group(x.data<T>(), outer, n, inner, &s);
      return Status::Ok();
    }));
    const int64_t unique = static_cast<int64_t>(s.first.size());
    Shape y_dims = has_axis_ ? dims : Shape{unique};
    if (has_axis_) y_dims[axis] = unique;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, y_dims));
    const size_t slice_bytes = static_cast<size_t>(inner) * DataTypeSize(x.dtype());
    const char* src = static_cast<const char*>(x.raw_data());
    char* dst = static_cast<char*>(y->raw_data());
    for (int64_t g = 0; g < unique; ++g) {
      for (int64_t o = 0; o < outer; ++o) {
        std::memcpy(dst + (o * unique + s.position[g]) * slice_bytes, src + (o * n + s.first[g]) * slice_bytes,
                    slice_bytes);
      }
    }
    int64_t* indices = nullptr;
    int64_t* counts = nullptr;
    if (ctx.num_outputs() > 1) {
      EDGEAI_ASSIGN_OR_RETURN(Tensor * t, ctx.Output(1, Shape{unique}));
      indices = t->data<int64_t>();
    }
    if (ctx.num_outputs() > 2) {
      EDGEAI_ASSIGN_OR_RETURN(Tensor * t, ctx.Output(2, Shape{n}));
      for (int64_t i = 0; i < n; ++i) t->data<int64_t>()[i] = s.position[s.slice_group[i]];
    }
    if (ctx.num_outputs() > 3) {
      EDGEAI_ASSIGN_OR_RETURN(Tensor * t, ctx.Output(3, Shape{unique}));
      counts = t->data<int64_t>();
    }
    for (int64_t g = 0; g < unique; ++g) {
      if (indices != nullptr) indices[s.position[g]] = s.first[g];
      if (counts != nullptr) counts[s.position[g]] = s.count[g];
    }
    return Status::Ok();
  }

 private:
  // Sorts the n slices x[o, i, j] (i the slice, compared lexicographically over (o, j)) and groups equal ones.
  // A stable sort keeps equal slices in input order, so a group's first member is its first occurrence.
  template <typename T>
  void Group(const T* x, int64_t outer, int64_t n, int64_t inner, UniqueScratch* s) const {
    auto compare = [&](int64_t a, int64_t b) {
      for (int64_t o = 0; o < outer; ++o) {
        const T* pa = x + (o * n + a) * inner;
        const T* pb = x + (o * n + b) * inner;
        for (int64_t j = 0; j < inner; ++j) {
          if (int c = CompareValues(pa[j], pb[j])) return c;
        }
      }
      return 0;
    };
    s->order.resize(static_cast<size_t>(n));
    s->slice_group.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) s->order[i] = i;
    std::stable_sort(s->order.begin(), s->order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
    s->first.clear();
    s->count.clear();
    for (int64_t p = 0; p < n; ++p) {
      const int64_t i = s->order[p];
      if (p == 0 || compare(s->order[p - 1], i) != 0) {
        s->first.push_back(i);
        s->count.push_back(0);
      }
      s->slice_group[i] = static_cast<int64_t>(s->first.size()) - 1;
      ++s->count.back();
    }
    const size_t groups = s->first.size();
    s->position.resize(groups);
    if (sorted_) {
      for (size_t g = 0; g < groups; ++g) s->position[g] = static_cast<int64_t>(g);
      return;
    }
    s->by_first.resize(groups);
    for (size_t g = 0; g < groups; ++g) s->by_first[g] = static_cast<int64_t>(g);
    std::sort(s->by_first.begin(), s->by_first.end(), [&](int64_t a, int64_t b) { return s->first[a] < s->first[b]; });
    for (size_t p = 0; p < groups; ++p) s->position[s->by_first[p]] = static_cast<int64_t>(p);
  }

  bool has_axis_ = false;
  int64_t axis_ = 0;
  bool sorted_ = true;
};

// ---------------------------------------------------------------------------------------------------- NonZero

Status InferNonZero(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  // A scalar is treated as a one-element vector, as numpy.nonzero does.
  const int64_t rows = x.rank_known ? std::max<int64_t>(1, static_cast<int64_t>(x.dims.rank())) : -1;
  ctx.output(0) = ValueType::Of(DataType::kInt64, Shape{rows, -1});
  return Status::Ok();
}

class NonZeroKernel : public Kernel {
 public:
  Status Init(const InferenceContext&) { return Status::Ok(); }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Shape& dims = x.shape();
    const size_t rank = dims.rank();
    const int64_t total = x.NumElements();
    return VisitNumericBool(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* v = x.data<T>();
      int64_t count = 0;
      for (int64_t i = 0; i < total; ++i) count += v[i] != T(0) ? 1 : 0;
      EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, Shape{std::max<int64_t>(1, rank), count}));
      int64_t* dst = out->data<int64_t>();
      if (rank == 0) {
        if (count == 1) dst[0] = 0;
        return Status::Ok();
      }
      // Walks the multi-index alongside the flat one instead of dividing per element.
      Shape index;
      index.resize(rank, 0);
      int64_t column = 0;
      for (int64_t i = 0; i < total; ++i) {
        if (v[i] != T(0)) {
          for (size_t d = 0; d < rank; ++d) dst[d * count + column] = index[d];
          ++column;
        }
        for (size_t d = rank; d-- > 0;) {
          if (++index[d] < dims[d]) break;
          index[d] = 0;
        }
      }
      return Status::Ok();
    });
  }
};

// --------------------------------------------------------------------------------------------------- Compress

Status InferCompress(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& x = ctx.input(0);
  const ValueType& cond = ctx.input(1);
  if (cond.dtype != DataType::kBool) return ctx.Error("condition must be bool, got " + cond.ToString());
  if (cond.rank_known && cond.dims.rank() != 1) return ctx.Error("condition must be 1-D, got " + cond.ToString());
  if (!ctx.attrs().Has("axis")) {
    ctx.output(0) = ValueType::Of(x.dtype, Shape{-1});
    return Status::Ok();
  }
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(x.dims.rank());
  const int64_t attr = ctx.attrs().GetInt("axis", 0);
  if (ctx.opset() < 11 && attr < 0) return ctx.Error("axis must be non-negative before opset 11");
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx, attr, rank));
  ValueType y = x;
  y.dims[axis] = -1;
  ctx.output(0) = y;
  return Status::Ok();
}

class CompressKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    has_axis_ = ctx.attrs().Has("axis");
    axis_ = ctx.attrs().GetInt("axis", 0);
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& cond = *ctx.input(1);
    const Shape& dims = x.shape();
    size_t axis = 0;
    int64_t outer = 1, n = x.NumElements(), inner = 1;
    if (has_axis_) SplitAtAxis(dims, axis_, &axis, &outer, &n, &inner);
    // A shorter condition selects among the leading entries only; a longer one may not select past the end.
    const bool* c = cond.data<bool>();
    const int64_t len = cond.NumElements();
    int64_t kept = 0;
    for (int64_t i = 0; i < len; ++i) {
      if (!c[i]) continue;
      if (i >= n) {
        return ctx.Error("condition selects index " + std::to_string(i) + " past the end of an axis of size " +
                         std::to_string(n));
      }
      ++kept;
    }
    Shape y_dims = has_axis_ ? dims : Shape{kept};
    if (has_axis_) y_dims[axis] = kept;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, y_dims));
    const size_t slice = static_cast<size_t>(inner) * DataTypeSize(x.dtype());
    const char* src = static_cast<const char*>(x.raw_data());
    char* dst = static_cast<char*>(y->raw_data());
    const int64_t limit = std::min(len, n);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < limit; ++i) {
        if (!c[i]) continue;
        std::memcpy(dst, src + (o * n + i) * slice, slice);
        dst += slice;
      }
    }
    return Status::Ok();
  }

 private:
  bool has_axis_ = false;
  int64_t axis_ = 0;
};

}  // namespace

Status RegisterDataDependentOps(OpRegistry& registry) {
  const std::vector<DataType> numeric_bool = NumericBoolTypes();
  const std::vector<DataType>& all = AllFixedSizeTypes();
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Unique", 11, kMaxOpset, numeric_bool, InferUnique, MakeKernel<UniqueKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "NonZero", 9, 12, numeric_bool, InferNonZero, MakeKernel<NonZeroKernel>));
  EDGEAI_RETURN_IF_ERROR(
      AddOp(registry, "NonZero", 13, kMaxOpset, numeric_bool, InferNonZero, MakeKernel<NonZeroKernel>));
  EDGEAI_RETURN_IF_ERROR(AddOp(registry, "Compress", 9, 10, all, InferCompress, MakeKernel<CompressKernel>));
  return AddOp(registry, "Compress", 11, kMaxOpset, all, InferCompress, MakeKernel<CompressKernel>);
}

}  // namespace edgeai::cpu
