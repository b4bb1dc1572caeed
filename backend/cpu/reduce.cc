// Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare and ArgMax/ArgMin.
//
// The input is viewed with size-1 axes dropped and neighbouring axes of the same kind (reduced or kept)
// merged, so any reduction becomes one of two loops over contiguous memory:
//   - the innermost merged axis is reduced: every output reduces contiguous runs (e.g. the last axis of
//     [1,128,256]), with several independent accumulators;
//   - the innermost merged axis is kept: every output row accumulates whole contiguous rows elementwise.
// Index arithmetic happens once per run or row, never per element.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/shape_util.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr size_t kMaxDims = 32;
constexpr int64_t kWorkPerChunk = 1 << 14;  // elements read per parallel chunk, at least
constexpr int64_t kColumnChunk = 256;       // kept-innermost case: output columns per task (stack accumulators)

enum class ReduceKind { kSum, kMean, kSumSquare, kL1, kL2, kLogSum, kLogSumExp, kMax, kMin, kProd };

// By value, in the forms compilers turn into vector min/max instructions.
template <typename T>
inline T Max(T a, T b) {
  return a < b ? b : a;
}
template <typename T>
inline T Min(T a, T b) {
  return b < a ? b : a;
}

template <typename T>
constexpr T Lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}
template <typename T>
constexpr T Highest() {
  return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::max();
}

// Accumulator policy of one reduction on element type T: Init, Step (one element; `shift` is the
// LogSumExp maximum), Merge (two partial accumulators), Final (to T, given the element count).
template <ReduceKind K, typename T>
struct Policy {
  static constexpr bool kReal = K == ReduceKind::kL2 || K == ReduceKind::kLogSum || K == ReduceKind::kLogSumExp;
  // Integer inputs of the transcendental reductions accumulate in double; everything else in T.
  using Acc = std::conditional_t<kReal && !std::is_floating_point_v<T>, double, T>;
  static constexpr bool kShift = K == ReduceKind::kLogSumExp;

  static Acc Init() {
    if constexpr (K == ReduceKind::kMax) return Lowest<Acc>();
    if constexpr (K == ReduceKind::kMin) return Highest<Acc>();
    if constexpr (K == ReduceKind::kProd) return Acc(1);
    return Acc(0);
  }
  static Acc Step(Acc a, T x, Acc shift) {
    const Acc v = static_cast<Acc>(x);
    if constexpr (K == ReduceKind::kMax) return Max(a, v);
    if constexpr (K == ReduceKind::kMin) return Min(a, v);
    if constexpr (K == ReduceKind::kProd) return a * v;
    if constexpr (K == ReduceKind::kSumSquare || K == ReduceKind::kL2) return a + v * v;
    if constexpr (K == ReduceKind::kL1) {
      if constexpr (std::is_signed_v<Acc>) return a + (v < 0 ? -v : v);
      return a + v;
    }
    if constexpr (K == ReduceKind::kLogSumExp) return a + std::exp(v - shift);
    return a + v;
  }
  static Acc Merge(Acc a, Acc b) {
    if constexpr (K == ReduceKind::kMax) return Max(a, b);
    if constexpr (K == ReduceKind::kMin) return Min(a, b);
    if constexpr (K == ReduceKind::kProd) return a * b;
    return a + b;
  }
  static T Final(Acc a, int64_t count, Acc shift) {
    if constexpr (K == ReduceKind::kMean) {
      if (!std::is_floating_point_v<Acc> && count == 0) return T(0);
      return static_cast<T>(a / static_cast<Acc>(count));
    }
    if constexpr (K == ReduceKind::kL2) return static_cast<T>(std::sqrt(a));
    if constexpr (K == ReduceKind::kLogSum) return static_cast<T>(std::log(a));
    if constexpr (K == ReduceKind::kLogSumExp) {
      if (!std::isfinite(shift)) return static_cast<T>(shift);  // all -inf (or empty), or some +inf
      return static_cast<T>(std::log(a) + shift);
    }
    return static_cast<T>(a);
  }
};

// The maximum that LogSumExp subtracts before exponentiating, in its accumulator type.
template <typename T, typename Acc>
struct ShiftPolicy {
  static Acc Init() { return Lowest<Acc>(); }
  static Acc Step(Acc a, T x, Acc) { return Max(a, static_cast<Acc>(x)); }
  static Acc Merge(Acc a, Acc b) { return Max(a, b); }
};

// Reduces p[0..n) into `acc` with independent lanes, so the compiler can vectorise without reassociating.
template <typename P, typename T, typename Acc>
Acc ReduceRun(const T* p, int64_t n, Acc acc, Acc shift) {
  constexpr int kLanes = 8;
  Acc lanes[kLanes];
  for (Acc& l : lanes) l = P::Init();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] = P::Step(lanes[l], p[i + l], shift);
  }
  for (; i < n; ++i) lanes[0] = P::Step(lanes[0], p[i], shift);
  for (int l = 0; l < kLanes; ++l) acc = P::Merge(acc, lanes[l]);
  return acc;
}

// A set of merged axes with their element strides; linear index -> element offset.
struct Space {
  size_t n = 0;
  int64_t dims[kMaxDims];
  int64_t strides[kMaxDims];
  int64_t size = 1;
  void Add(int64_t dim, int64_t stride) {
    dims[n] = dim;
    strides[n] = stride;
    ++n;
    size *= dim;
  }
  int64_t Offset(int64_t i) const {
    int64_t off = 0;
    for (size_t a = n; a-- > 0;) {
      off += (i % dims[a]) * strides[a];
      i /= dims[a];
    }
    return off;
  }
};

struct ReduceLayout {
  Space kept;   // kept axes, except the innermost one when it is kept
  Space red;    // reduced axes, except the innermost one when it is reduced
  int64_t inner = 1;
  bool inner_reduced = true;
  int64_t count = 1;     // elements reduced into each output
  int64_t out_size = 1;  // number of outputs
};

void BuildLayout(const Shape& x, const bool* reduced, ReduceLayout* L) {
  // Merge from the innermost axis outwards; size-1 axes do not affect the memory walk.
  int64_t dims[kMaxDims], strides[kMaxDims];
  bool flags[kMaxDims];
  size_t m = 0;
  int64_t stride = 1;
  for (size_t a = x.rank(); a-- > 0;) {
    const int64_t d = x[a];
    if (d != 1) {
      if (m > 0 && flags[m - 1] == reduced[a]) {
        dims[m - 1] *= d;
      } else {
        dims[m] = d;
        strides[m] = stride;
        flags[m] = reduced[a];
        ++m;
      }
    }
    stride *= d;
  }
  *L = ReduceLayout{};
  if (m == 0) return;  // every axis has size 1: one output from one element
  L->inner = dims[0];
  L->inner_reduced = flags[0];
  for (size_t i = m; i-- > 1;) (flags[i] ? L->red : L->kept).Add(dims[i], strides[i]);
  L->count = L->red.size * (L->inner_reduced ? L->inner : 1);
  L->out_size = L->kept.size * (L->inner_reduced ? 1 : L->inner);
}

template <typename P, typename T>
void ReduceInnerRuns(const ReduceLayout& L, const T* x, T* y, int64_t begin, int64_t end) {
  using Acc = typename P::Acc;
  for (int64_t o = begin; o < end; ++o) {
    const T* base = x + L.kept.Offset(o);
    Acc shift = Acc(0);
    if constexpr (P::kShift) {
      using S = ShiftPolicy<T, Acc>;
      shift = S::Init();
      for (int64_t j = 0; j < L.red.size; ++j) shift = ReduceRun<S>(base + L.red.Offset(j), L.inner, shift, shift);
    }
    Acc acc = P::Init();
    for (int64_t j = 0; j < L.red.size; ++j) acc = ReduceRun<P>(base + L.red.Offset(j), L.inner, acc, shift);
    y[o] = P::Final(acc, L.count, shift);
  }
}

// Tasks are (kept row, column chunk) pairs; each accumulates whole reduced rows into stack accumulators.
template <typename P, typename T>
void ReduceOuterRuns(const ReduceLayout& L, const T* x, T* y, int64_t begin, int64_t end) {
  using Acc = typename P::Acc;
  const int64_t chunks = (L.inner + kColumnChunk - 1) / kColumnChunk;
  Acc acc[kColumnChunk];
  Acc shift[kColumnChunk];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t row = task / chunks;
    const int64_t c0 = (task % chunks) * kColumnChunk;
    const int64_t len = std::min(kColumnChunk, L.inner - c0);
    const T* base = x + L.kept.Offset(row) + c0;
    for (int64_t t = 0; t < len; ++t) shift[t] = Acc(0);
    if constexpr (P::kShift) {
      for (int64_t t = 0; t < len; ++t) shift[t] = Lowest<Acc>();
      for (int64_t j = 0; j < L.red.size; ++j) {
        const T* p = base + L.red.Offset(j);
        for (int64_t t = 0; t < len; ++t) shift[t] = Max(shift[t], static_cast<Acc>(p[t]));
      }
    }
    for (int64_t t = 0; t < len; ++t) acc[t] = P::Init();
    for (int64_t j = 0; j < L.red.size; ++j) {
      const T* p = base + L.red.Offset(j);
      for (int64_t t = 0; t < len; ++t) acc[t] = P::Step(acc[t], p[t], shift[t]);
    }
    T* out = y + row * L.inner + c0;
    for (int64_t t = 0; t < len; ++t) out[t] = P::Final(acc[t], L.count, shift[t]);
  }
}

template <ReduceKind K, typename T>
void RunReduce(const Tensor& x, const bool* reduced, Tensor* y, const ThreadPool& pool) {
  using P = Policy<K, T>;
  const T* xp = x.data<T>();
  T* yp = y->data<T>();
  if (x.NumElements() == 0) {
    // Reducing over an empty axis gives the identity of the reduction (0, 1, -inf, ...).
    const int64_t n = y->NumElements();
    for (int64_t i = 0; i < n; ++i) yp[i] = P::Final(P::Init(), 0, P::kShift ? Lowest<typename P::Acc>() : 0);
    return;
  }
  ReduceLayout L;
  BuildLayout(x.shape(), reduced, &L);
  if (L.inner_reduced) {
    const int64_t grain = std::max<int64_t>(1, kWorkPerChunk / L.count);
    pool.ParallelFor(L.out_size, grain,
                     [&](int64_t b, int64_t e) { ReduceInnerRuns<P, T>(L, xp, yp, b, e); });
  } else {
    const int64_t chunks = (L.inner + kColumnChunk - 1) / kColumnChunk;
    const int64_t grain = std::max<int64_t>(1, kWorkPerChunk / (L.count * std::min(kColumnChunk, L.inner)));
    pool.ParallelFor(L.kept.size * chunks, grain,
                     [&](int64_t b, int64_t e) { ReduceOuterRuns<P, T>(L, xp, yp, b, e); });
  }
}

template <typename T>
void DispatchReduce(ReduceKind kind, const Tensor& x, const bool* reduced, Tensor* y, const ThreadPool& pool) {
  switch (kind) {
    case ReduceKind::kSum: return RunReduce<ReduceKind::kSum, T>(x, reduced, y, pool);
    case ReduceKind::kMean: return RunReduce<ReduceKind::kMean, T>(x, reduced, y, pool);
    case ReduceKind::kSumSquare: return RunReduce<ReduceKind::kSumSquare, T>(x, reduced, y, pool);
    case ReduceKind::kL1: return RunReduce<ReduceKind::kL1, T>(x, reduced, y, pool);
    case ReduceKind::kL2: return RunReduce<ReduceKind::kL2, T>(x, reduced, y, pool);
    case ReduceKind::kLogSum: return RunReduce<ReduceKind::kLogSum, T>(x, reduced, y, pool);
    case ReduceKind::kLogSumExp: return RunReduce<ReduceKind::kLogSumExp, T>(x, reduced, y, pool);
    case ReduceKind::kMax: return RunReduce<ReduceKind::kMax, T>(x, reduced, y, pool);
    case ReduceKind::kMin: return RunReduce<ReduceKind::kMin, T>(x, reduced, y, pool);
    case ReduceKind::kProd: return RunReduce<ReduceKind::kProd, T>(x, reduced, y, pool);
  }
}

// ---- Attributes, axes and shape inference -------------------------------------------------------------------

bool AxesFromInput(std::string_view op_type, int opset) { return opset >= (op_type == "ReduceSum" ? 13 : 18); }

// Which axes a node reduces: flags[rank]. *noop when empty axes with noop_with_empty_axes (identity).
Status ResolveAxes(const int64_t* axes, int64_t n_axes, size_t rank, bool noop_with_empty_axes, bool* flags,
                   bool* noop) {
  if (rank > kMaxDims) return Unimplemented("inputs of rank above " + std::to_string(kMaxDims));
  *noop = n_axes == 0 && noop_with_empty_axes;
  std::fill(flags, flags + rank, n_axes == 0 && !*noop);
  for (int64_t i = 0; i < n_axes; ++i) {
    const int64_t r = static_cast<int64_t>(rank);
    if (axes[i] < -r || axes[i] >= r) {
      return InvalidArgument("axis " + std::to_string(axes[i]) + " is out of range for rank " + std::to_string(r));
    }
    flags[axes[i] < 0 ? axes[i] + r : axes[i]] = true;
  }
  return Status::Ok();
}

Shape ReducedShape(const Shape& x, const bool* flags, bool noop, bool keepdims) {
  if (noop) return x;
  Shape out;
  for (size_t a = 0; a < x.rank(); ++a) {
    if (!flags[a]) out.push_back(x[a]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

Status AxesTensorCheck(const Tensor& axes) {
  if (axes.dtype() != DataType::kInt64 || axes.rank() > 1) {
    return InvalidArgument("the axes input must be a 1-D int64 tensor, got " + axes.Describe());
  }
  return Status::Ok();
}

Status InferReduce(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  const bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  const bool from_input = AxesFromInput(ctx.op_type(), ctx.opset());
  const bool noop_empty = from_input && ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
  std::vector<int64_t> axes = ctx.attrs().GetInts("axes");
  if (from_input) {
    axes.clear();
    if (ctx.has_input(1)) {
      const Tensor* value = ctx.input_value(1);
      if (value == nullptr) {
        // Axes known only at run time: with keepdims the rank survives, and size-1 dims stay 1.
        ctx.output(0) = ValueType::UnknownRank(x.dtype);
        if (keepdims && x.rank_known) {
          ctx.output(0) = ValueType::Of(x.dtype, x.dims);
          for (size_t a = 0; a < x.dims.rank(); ++a) {
            if (x.dims[a] != 1) ctx.output(0).dims[a] = -1;
          }
        }
        return Status::Ok();
      }
      Status s = AxesTensorCheck(*value);
      if (!s.ok()) return ctx.Error(s.message());
      axes.assign(value->data<int64_t>(), value->data<int64_t>() + value->NumElements());
    }
  }
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(x.dtype);
    return Status::Ok();
  }
  bool flags[kMaxDims];
  bool noop = false;
  Status s = ResolveAxes(axes.data(), static_cast<int64_t>(axes.size()), x.dims.rank(), noop_empty, flags, &noop);
  if (!s.ok()) return ctx.Error(s.message());
  ctx.output(0) = ValueType::Of(x.dtype, ReducedShape(x.dims, flags, noop, keepdims));
  return Status::Ok();
}

class ReduceKernel : public Kernel {
 public:
  explicit ReduceKernel(ReduceKind kind) : kind_(kind) {}

  Status Init(const InferenceContext& ctx) {
    keepdims_ = ctx.attrs().GetInt("keepdims", 1) != 0;
    from_input_ = AxesFromInput(ctx.op_type(), ctx.opset());
    noop_empty_ = from_input_ && ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
    if (!from_input_) axes_ = ctx.attrs().GetInts("axes");
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const int64_t* axes = axes_.data();
    int64_t n_axes = static_cast<int64_t>(axes_.size());
    if (from_input_ && ctx.num_inputs() > 1 && ctx.input(1) != nullptr) {
      const Tensor& t = *ctx.input(1);
      Status s = AxesTensorCheck(t);
      if (!s.ok()) return ctx.Error(s.message());
      axes = t.data<int64_t>();
      n_axes = t.NumElements();
    }
    bool flags[kMaxDims];
    bool noop = false;
    Status s = ResolveAxes(axes, n_axes, x.rank(), noop_empty_, flags, &noop);
    if (!s.ok()) return ctx.Error(s.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, ReducedShape(x.shape(), flags, noop, keepdims_)));
    if (noop) {
      std::memcpy(y->raw_data(), x.raw_data(), x.ByteSize());
      return Status::Ok();
    }
    return VisitNumeric(x.dtype(), [&](auto tag) {
      DispatchReduce<typename decltype(tag)::type>(kind_, x, flags, y, ctx.pool());
      return Status::Ok();
    });
  }

 private:
  ReduceKind kind_;
  bool keepdims_ = true;
  bool from_input_ = false;
  bool noop_empty_ = false;
  std::vector<int64_t> axes_;
};

template <ReduceKind K>
Result<std::unique_ptr<Kernel>> CreateReduce(const InferenceContext& ctx) {
  auto kernel = std::make_unique<ReduceKernel>(K);
  EDGEAI_RETURN_IF_ERROR(kernel->Init(ctx));
  return std::unique_ptr<Kernel>(std::move(kernel));
}

// ---- ArgMax / ArgMin --------------------------------------------------------------------------------------------

Status InferArg(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  ctx.output(0) = ValueType::UnknownRank(DataType::kInt64);
  if (!x.rank_known) return Status::Ok();
  EDGEAI_ASSIGN_OR_RETURN(int64_t axis,
                          NormalizeAxis(ctx, ctx.attrs().GetInt("axis", 0), static_cast<int64_t>(x.dims.rank())));
  if (x.dims[axis] == 0) return ctx.Error("cannot take the arg of an empty axis in " + x.ToString());
  Shape out = x.dims;
  if (ctx.attrs().GetInt("keepdims", 1) != 0) out[axis] = 1;
  else out.erase(static_cast<size_t>(axis));
  ctx.output(0) = ValueType::Of(DataType::kInt64, out);
  return Status::Ok();
}

// Better(v, best): strictly better for the first index, better-or-equal for the last.
template <bool kMax, bool kLast, typename T>
inline bool Better(T v, T best) {
  if constexpr (kMax) return kLast ? v >= best : v > best;
  return kLast ? v <= best : v < best;
}

// x viewed as [outer, n, inner]; tasks are (outer, column chunk) pairs.
template <bool kMax, bool kLast, typename T>
void ArgRange(const T* x, int64_t* y, int64_t n, int64_t inner, int64_t begin, int64_t end) {
  const int64_t chunks = (inner + kColumnChunk - 1) / kColumnChunk;
  T best[kColumnChunk];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t o = task / chunks;
    const int64_t c0 = (task % chunks) * kColumnChunk;
    const int64_t len = std::min(kColumnChunk, inner - c0);
    const T* base = x + o * n * inner + c0;
    int64_t* out = y + o * inner + c0;
    for (int64_t t = 0; t < len; ++t) {
      best[t] = base[t];
      out[t] = 0;
    }
    for (int64_t j = 1; j < n; ++j) {
      const T* row = base + j * inner;
      for (int64_t t = 0; t < len; ++t) {
        if (Better<kMax, kLast>(row[t], best[t])) {
          best[t] = row[t];
          out[t] = j;
        }
      }
    }
  }
}

template <bool kMax>
class ArgKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    axis_ = ctx.attrs().GetInt("axis", 0);
    keepdims_ = ctx.attrs().GetInt("keepdims", 1) != 0;
    last_ = ctx.attrs().GetInt("select_last_index", 0) != 0;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (axis_ < -rank || axis_ >= rank) return ctx.Error("axis " + std::to_string(axis_) + " is out of range");
    const size_t axis = static_cast<size_t>(axis_ < 0 ? axis_ + rank : axis_);
    const int64_t n = x.shape()[axis];
    if (n == 0) return ctx.Error("cannot take the arg of an empty axis in " + x.Describe());
    Shape out = x.shape();
    if (keepdims_) out[axis] = 1;
    else out.erase(axis);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, out));
    const int64_t outer = x.shape().SizeFromTo(0, axis);
    const int64_t inner = x.shape().SizeFromTo(axis + 1, x.rank());
    const int64_t tasks = outer * ((inner + kColumnChunk - 1) / kColumnChunk);
    const int64_t columns = std::min(kColumnChunk, std::max<int64_t>(inner, 1));
    const int64_t grain = std::max<int64_t>(1, kWorkPerChunk / (n * columns));
    return VisitNumeric(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x.data<T>();
      int64_t* yp = y->data<int64_t>();
      ctx.pool().ParallelFor(tasks, grain, [&](int64_t b, int64_t e) {
        if (last_) ArgRange<kMax, true, T>(xp, yp, n, inner, b, e);
        else ArgRange<kMax, false, T>(xp, yp, n, inner, b, e);
      });
      return Status::Ok();
    });
  }

 private:
  int64_t axis_ = 0;
  bool keepdims_ = true;
  bool last_ = false;
};

template <ReduceKind K>
Status RegisterReduce(OpRegistry& registry, const char* op, const std::vector<DataType>& types) {
  // axes moved from attribute to input at opset 13 for ReduceSum and 18 for the others.
  const int split = std::string_view(op) == "ReduceSum" ? 13 : 18;
  EDGEAI_RETURN_IF_ERROR(registry.Register(MakeOpDef(op, 1, split - 1, types, InferReduce, CreateReduce<K>)));
  return registry.Register(MakeOpDef(op, split, kMaxOpset, types, InferReduce, CreateReduce<K>));
}

}  // namespace

Status RegisterReduceOps(OpRegistry& registry) {
  using DT = DataType;
  const std::vector<DT> numeric = {DT::kFloat32, DT::kFloat64, DT::kInt32, DT::kInt64, DT::kUint32, DT::kUint64};
  std::vector<DT> minmax = numeric;
  minmax.insert(minmax.end(), {DT::kInt8, DT::kUint8});
  using K = ReduceKind;
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kSum>(registry, "ReduceSum", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kMean>(registry, "ReduceMean", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kSumSquare>(registry, "ReduceSumSquare", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kL1>(registry, "ReduceL1", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kL2>(registry, "ReduceL2", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kLogSum>(registry, "ReduceLogSum", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kLogSumExp>(registry, "ReduceLogSumExp", numeric));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kMax>(registry, "ReduceMax", minmax));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kMin>(registry, "ReduceMin", minmax));
  EDGEAI_RETURN_IF_ERROR(RegisterReduce<K::kProd>(registry, "ReduceProd", numeric));
  // ArgMax/ArgMin: select_last_index (12) defaults to the earlier behaviour; one definition covers 1..max.
  std::vector<DT> all = minmax;
  all.insert(all.end(), {DT::kInt16, DT::kUint16});
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(MakeOpDef("ArgMax", 1, kMaxOpset, all, InferArg, MakeKernel<ArgKernel<true>>)));
  EDGEAI_RETURN_IF_ERROR(
      registry.Register(MakeOpDef("ArgMin", 1, kMaxOpset, all, InferArg, MakeKernel<ArgKernel<false>>)));
  return Status::Ok();
}

}  // namespace edgeai::cpu
