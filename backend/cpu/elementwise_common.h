// Shared machinery of the elementwise CPU kernels (elementwise*.cc, cast.cc): dtype sets, safe integer
// arithmetic, float-to-integer conversion and the broadcast walk.
//
// Broadcasting: BroadcastPlan describes how up to three inputs map onto an output shape. Dims of size 1 are
// dropped and neighbouring dims that every input walks the same way are merged, so the common cases collapse
// to a single contiguous run (same shapes, a scalar operand) and the rest to a short odometer whose innermost
// dim is contiguous or constant in every input. ForEachRun hands out those runs for any slice [begin, end) of
// the output, which is what ParallelFor chunks need; the multi-index is computed once per chunk, never per
// element.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu/dispatch.h"
#include "backend/thread_pool.h"
#include "edgeai/shape.h"

namespace edgeai::cpu {

// Elements per ParallelFor chunk: cheap ops (a few cycles an element) and transcendental ones.
constexpr int64_t kCheapGrain = 32768;
constexpr int64_t kCostlyGrain = 4096;

// The dtypes an elementwise op computes on.
enum class TypeSet {
  kFloat,        // float32, float64
  kSigned,       // floats and signed integers
  kNumeric,      // floats and every integer type
  kNumericBool,  // numeric and bool
  kBool,
};

inline std::vector<DataType> TypesOf(TypeSet set) {
  std::vector<DataType> types;
  if (set == TypeSet::kBool) return {DataType::kBool};
  types = {DataType::kFloat32, DataType::kFloat64};
  if (set == TypeSet::kFloat) return types;
  types.insert(types.end(), {DataType::kInt8, DataType::kInt16, DataType::kInt32, DataType::kInt64});
  if (set == TypeSet::kSigned) return types;
  types.insert(types.end(), {DataType::kUint8, DataType::kUint16, DataType::kUint32, DataType::kUint64});
  if (set == TypeSet::kNumericBool) types.push_back(DataType::kBool);
  return types;
}

template <TypeSet kSet, typename F>
Status VisitTypes(DataType dtype, F&& f) {
  if constexpr (kSet == TypeSet::kFloat) {
    return VisitFloat(dtype, f);
  } else if constexpr (kSet == TypeSet::kSigned) {
    switch (dtype) {
      case DataType::kFloat32: return f(TypeTag<float>{});
      case DataType::kFloat64: return f(TypeTag<double>{});
      case DataType::kInt8: return f(TypeTag<int8_t>{});
      case DataType::kInt16: return f(TypeTag<int16_t>{});
      case DataType::kInt32: return f(TypeTag<int32_t>{});
      case DataType::kInt64: return f(TypeTag<int64_t>{});
      default: return UnsupportedDtype(dtype);
    }
  } else if constexpr (kSet == TypeSet::kNumeric) {
    return VisitNumeric(dtype, f);
  } else if constexpr (kSet == TypeSet::kNumericBool) {
    if (dtype == DataType::kBool) return f(TypeTag<bool>{});
    return VisitNumeric(dtype, f);
  } else {
    if (dtype == DataType::kBool) return f(TypeTag<bool>{});
    return UnsupportedDtype(dtype);
  }
}

// Integer arithmetic that wraps instead of overflowing (signed overflow is undefined behaviour in C++, and
// small types promote to int, whose products can overflow too).
template <typename T>
using WrapType = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
inline T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapType<T>>(a) + static_cast<WrapType<T>>(b));
  } else {
    return a + b;
  }
}
template <typename T>
inline T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapType<T>>(a) - static_cast<WrapType<T>>(b));
  } else {
    return a - b;
  }
}
template <typename T>
inline T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapType<T>>(a) * static_cast<WrapType<T>>(b));
  } else {
    return a * b;
  }
}
template <typename T>
inline T WrapNeg(T a) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(WrapType<T>(0) - static_cast<WrapType<T>>(a));
  } else {
    return -a;
  }
}

// Float to integer as numpy's astype does on x86: truncation toward zero, wrapping to the target width.
// NaN and values outside the int64 range (undefined in C++ and in ONNX) give the x86 "integer indefinite".
template <typename I, typename F>
inline I FloatToInt(F v) {
  constexpr F kTwo63 = static_cast<F>(9223372036854775808.0);
  if (v > -kTwo63 && v < kTwo63) return static_cast<I>(static_cast<int64_t>(v));
  if constexpr (std::is_same_v<I, uint64_t>) {
    if (v >= kTwo63 && v < 2 * kTwo63) return static_cast<uint64_t>(v);
  }
  return static_cast<I>(std::numeric_limits<int64_t>::min());
}

class BroadcastPlan {
 public:
  static constexpr int kMaxInputs = 3;

  // Describes how `inputs` (at most kMaxInputs) broadcast to `out`. False when one of them cannot.
  bool Init(const Shape& out, std::initializer_list<const Shape*> inputs);

  int64_t total() const { return total_; }
  // True when every input is either the full output or a single element: one flat run, no odometer.
  bool flat() const { return dims_.rank() == 1; }

  // Calls fn(out_offset, n, offsets, strides) for each run of output elements [out_offset, out_offset + n)
  // within [begin, end): input k's elements for that run start at offsets[k] and step by strides[k] (0 or 1).
  template <typename Fn>
  void ForEachRun(int64_t begin, int64_t end, Fn&& fn) const;

 private:
  int num_inputs_ = 0;
  int64_t total_ = 0;
  Shape dims_;                    // collapsed output dims, outermost first; never empty
  Shape strides_[kMaxInputs];     // per input, element stride of each collapsed dim (0 = broadcast)
  int64_t inner_[kMaxInputs] = {};  // strides of the innermost collapsed dim
};

inline bool BroadcastPlan::Init(const Shape& out, std::initializer_list<const Shape*> inputs) {
  num_inputs_ = static_cast<int>(inputs.size());
  if (num_inputs_ > kMaxInputs) return false;
  const Shape* in[kMaxInputs] = {};
  std::copy(inputs.begin(), inputs.end(), in);
  const size_t rank = out.rank();
  int64_t running[kMaxInputs] = {1, 1, 1};  // contiguous stride of the current dim in each input
  dims_.resize(0);
  for (int k = 0; k < num_inputs_; ++k) {
    strides_[k].resize(0);
    if (in[k]->rank() > rank) return false;
  }
  total_ = 1;
  // Walk from the innermost dim outwards, collapsing as we go; reversed at the end.
  for (size_t i = rank; i-- > 0;) {
    const int64_t d = out[i];
    total_ *= d;
    int64_t s[kMaxInputs] = {};
    for (int k = 0; k < num_inputs_; ++k) {
      const size_t lead = rank - in[k]->rank();
      const int64_t dk = i >= lead ? (*in[k])[i - lead] : 1;
      if (dk == d) {
        s[k] = d == 1 ? 0 : running[k];
        running[k] *= d;
      } else if (dk != 1) {
        return false;
      }
    }
    if (d == 1) continue;
    bool merge = dims_.rank() > 0;
    const size_t q = dims_.rank() - 1;
    for (int k = 0; merge && k < num_inputs_; ++k) merge = s[k] == strides_[k][q] * dims_[q];
    if (merge) {
      dims_[q] *= d;
      continue;
    }
    dims_.push_back(d);
    for (int k = 0; k < num_inputs_; ++k) strides_[k].push_back(s[k]);
  }
  if (dims_.rank() == 0) {  // a single element
    dims_.push_back(1);
    for (int k = 0; k < num_inputs_; ++k) strides_[k].push_back(1);
  }
  std::reverse(dims_.data(), dims_.data() + dims_.rank());
  for (int k = 0; k < num_inputs_; ++k) {
    std::reverse(strides_[k].data(), strides_[k].data() + strides_[k].rank());
    inner_[k] = strides_[k].back();
  }
  return true;
}

template <typename Fn>
void BroadcastPlan::ForEachRun(int64_t begin, int64_t end, Fn&& fn) const {
  if (begin >= end) return;
  const size_t outer = dims_.rank() - 1;
  const int64_t inner = dims_[outer];
  if (outer == 0) {  // the flat case: one run, offsets scale with the position
    int64_t offsets[kMaxInputs];
    for (int k = 0; k < num_inputs_; ++k) offsets[k] = begin * inner_[k];
    fn(begin, end - begin, offsets, inner_);
    return;
  }
  int64_t row = begin / inner;
  int64_t col = begin % inner;
  Shape index;  // odometer over the outer collapsed dims (inline storage for realistic ranks)
  index.resize(outer);
  int64_t base[kMaxInputs] = {};
  for (size_t d = outer; d-- > 0;) {
    index[d] = row % dims_[d];
    row /= dims_[d];
    for (int k = 0; k < num_inputs_; ++k) base[k] += index[d] * strides_[k][d];
  }
  int64_t offsets[kMaxInputs];
  for (int64_t pos = begin; pos < end;) {
    const int64_t n = std::min(inner - col, end - pos);
    for (int k = 0; k < num_inputs_; ++k) offsets[k] = base[k] + col * inner_[k];
    fn(pos, n, offsets, inner_);
    pos += n;
    col = 0;
    for (size_t d = outer; pos < end && d-- > 0;) {
      for (int k = 0; k < num_inputs_; ++k) base[k] += strides_[k][d];
      if (++index[d] < dims_[d]) break;
      for (int k = 0; k < num_inputs_; ++k) base[k] -= strides_[k][d] * dims_[d];
      index[d] = 0;
    }
  }
}

// out = f(a, b) elementwise over `plan` (two inputs). The three loops let the compiler vectorise each case.
template <typename A, typename B, typename O, typename F>
void BinaryRun(const A* a, int64_t sa, const B* b, int64_t sb, O* o, int64_t n, const F& f) {
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa != 0) {
    const B bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (sb != 0) {
    const A av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    const O v = f(*a, *b);
    std::fill(o, o + n, v);
  }
}

template <typename A, typename B, typename O, typename F>
void RunBinary(const ThreadPool& pool, const BroadcastPlan& plan, const A* a, const B* b, O* o, const F& f,
               int64_t grain = kCheapGrain) {
  pool.ParallelFor(plan.total(), grain, [&](int64_t begin, int64_t end) {
    plan.ForEachRun(begin, end, [&](int64_t pos, int64_t n, const int64_t* off, const int64_t* stride) {
      BinaryRun(a + off[0], stride[0], b + off[1], stride[1], o + pos, n, f);
    });
  });
}

}  // namespace edgeai::cpu
