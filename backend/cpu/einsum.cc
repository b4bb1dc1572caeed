// Einsum (opset 12..): explicit ("ij,jk->ik") and implicit ("ij,jk") outputs, ellipsis broadcasting, repeated
// labels within a term (diagonals) and summation, for every numeric dtype. Size-1 dims broadcast against the
// other operands' dims of the same label, as in numpy.einsum.
//
// Each operand becomes a set of labels with one element stride per label (a repeated label sums its dims'
// strides, which walks the diagonal; a broadcast size-1 dim gets stride 0). Operands are then contracted left
// to right, two at a time, as a batched matrix product:
//   batch labels (in both, still needed later), M (only in the left, needed), N (only in the right, needed),
//   K (in both, not needed); labels found in one operand only and needed nowhere else are summed while packing.
// Operands already laid out as [batch, M, K] / [batch, K, M] (and [batch, K, N] / [batch, N, K]) feed the
// product directly; others are packed by a strided loop nest. One operand alone is a strided sum / transpose.
#include <algorithm>
#include <array>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/einsum_plan.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

using einsum::kMaxDims;
using einsum::Labels;
using einsum::Operand;

// --------------------------------------------------------------------------------------------- loop nests

struct LoopNest {
  int rank = 0;
  int64_t size[kMaxDims];
  int64_t stride[kMaxDims];
};

int64_t NestCount(const LoopNest& n) {
  int64_t c = 1;
  for (int i = 0; i < n.rank; ++i) c *= n.size[i];
  return c;
}

template <typename T>
T SumNest(const T* p, const LoopNest& n) {
  if (n.rank == 0) return *p;
  const int last = n.rank - 1;
  const int64_t len = n.size[last], st = n.stride[last];
  int64_t rows = 1;
  for (int i = 0; i < last; ++i) rows *= n.size[i];
  int64_t idx[kMaxDims] = {};
  int64_t off = 0;
  T acc = T(0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* q = p + off;
    for (int64_t j = 0; j < len; ++j) acc += q[j * st];
    for (int d = last - 1; d >= 0; --d) {
      off += n.stride[d];
      if (++idx[d] < n.size[d]) break;
      off -= n.stride[d] * n.size[d];
      idx[d] = 0;
    }
  }
  return acc;
}

// dst (contiguous, in `outer` order) = sum over `inner` of src.
template <typename T>
void PackSum(const T* src, const LoopNest& outer, const LoopNest& inner, T* dst, const ThreadPool& pool) {
  const int64_t total = NestCount(outer);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, NestCount(inner)));
  pool.ParallelFor(total, grain, [&](int64_t begin, int64_t end) {
    int64_t idx[kMaxDims];
    int64_t off = 0, rest = begin;
    for (int d = outer.rank - 1; d >= 0; --d) {
      idx[d] = rest % outer.size[d];
      rest /= outer.size[d];
      off += idx[d] * outer.stride[d];
    }
    for (int64_t i = begin; i < end; ++i) {
      dst[i] = SumNest(src + off, inner);
      for (int d = outer.rank - 1; d >= 0; --d) {
        off += outer.stride[d];
        if (++idx[d] < outer.size[d]) break;
        off -= outer.stride[d] * outer.size[d];
        idx[d] = 0;
      }
    }
  });
}

// Packs `op` into the label order `order` (contiguous), summing its labels that `order` lacks.
template <typename T>
void PackOperand(const Operand& op, const Labels& order, const int64_t* sizes, T* dst, const ThreadPool& pool) {
  LoopNest outer, inner;
  for (int i = 0; i < order.count; ++i) {
    outer.size[outer.rank] = sizes[order.id[i]];
    outer.stride[outer.rank++] = op.StrideOf(order.id[i]);
  }
  for (int i = 0; i < op.labels.count; ++i) {
    if (order.Contains(op.labels.id[i])) continue;
    inner.size[inner.rank] = sizes[op.labels.id[i]];
    inner.stride[inner.rank++] = op.stride[i];
  }
  PackSum(static_cast<const T*>(op.data), outer, inner, dst, pool);
}

// --------------------------------------------------------------------------------------------- products

template <typename T>
void NaiveGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * n;
    std::fill(row, row + n, T(0));
    for (int64_t kk = 0; kk < k; ++kk) {
      const T av = ta ? a[kk * m + i] : a[i * k + kk];
      if (tb) {
        for (int64_t j = 0; j < n; ++j) row[j] += av * b[j * k + kk];
      } else {
        const T* brow = b + kk * n;
        for (int64_t j = 0; j < n; ++j) row[j] += av * brow[j];
      }
    }
  }
}

template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c, const ThreadPool& pool) {
  if (k == 0) {
    std::fill(c, c + m * n, T(0));
    return;
  }
  GemmShape s;
  s.trans_a = ta;
  s.trans_b = tb;
  s.m = m;
  s.n = n;
  s.k = k;
  s.lda = ta ? m : k;
  s.ldb = tb ? k : n;
  s.ldc = n;
  if constexpr (std::is_same_v<T, float>) {
    Sgemm(s, 1.0f, a, b, 0.0f, c, pool);
  } else if constexpr (std::is_same_v<T, double>) {
    Dgemm(s, 1.0, a, b, 0.0, c, pool);
  } else {
    NaiveGemm(ta, tb, m, n, k, a, b, c);
  }
}

template <typename T>
void BatchedGemm(int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c,
                 const ThreadPool& pool) {
  ForEachProduct(batch, pool, [&](int64_t i, const ThreadPool& item_pool) {
    Gemm(ta, tb, m, n, k, a + i * m * k, b + i * k * n, c + i * m * n, item_pool);
  });
}

// Scratch of the calling thread; grown, never shrunk. Nothing here is touched by other threads' work items.
template <typename T>
struct Scratch {
  std::vector<T> pack_a, pack_b, result[2];
  static T* Get(std::vector<T>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
    return v.data();
  }
};

// A x B for one step; the result (labels batch ++ M ++ N, contiguous) goes to `out`.
template <typename T>
void ContractPair(const Operand& a, const Operand& b, const einsum::PairSplit& sp, const int64_t* sizes, T* out,
                  Scratch<T>& scratch, const ThreadPool& pool) {
  const int64_t batch = sp.batch.Count(sizes), m = sp.m.Count(sizes), n = sp.n.Count(sizes), k = sp.k.Count(sizes);
  bool ta = false, tb = false;
  const T* pa = static_cast<const T*>(a.data);
  const T* pb = static_cast<const T*>(b.data);
  if (a.IsContiguousAs(sp.batch, sp.m, sp.k, sizes)) {
  } else if (a.IsContiguousAs(sp.batch, sp.k, sp.m, sizes)) {
    ta = true;
  } else {
    T* dst = Scratch<T>::Get(scratch.pack_a, batch * m * k);
    PackOperand(a, Labels::Concat(sp.batch, sp.m, sp.k), sizes, dst, pool);
    pa = dst;
  }
  if (b.IsContiguousAs(sp.batch, sp.k, sp.n, sizes)) {
  } else if (b.IsContiguousAs(sp.batch, sp.n, sp.k, sizes)) {
    tb = true;
  } else {
    T* dst = Scratch<T>::Get(scratch.pack_b, batch * k * n);
    PackOperand(b, Labels::Concat(sp.batch, sp.k, sp.n), sizes, dst, pool);
    pb = dst;
  }
  BatchedGemm(batch, ta, tb, m, n, k, pa, pb, out, pool);
}

template <typename T>
void RunEinsum(const einsum::Plan& plan, const std::vector<const void*>& inputs, T* y, const ThreadPool& pool) {
  thread_local Scratch<T> scratch;
  const int64_t* sizes = plan.sizes.data();
  Operand cur = plan.operands[0];
  cur.data = inputs[0];
  if (plan.operands.size() == 1) {
    PackOperand<T>(cur, plan.output, sizes, y, pool);
    return;
  }
  int ping = 0;
  for (size_t i = 1; i < plan.operands.size(); ++i) {
    Operand next = plan.operands[i];
    next.data = inputs[i];
    const einsum::PairSplit& sp = plan.splits[i - 1];
    const Labels result = Labels::Concat(sp.batch, sp.m, sp.n);
    const bool last = i + 1 == plan.operands.size();
    const bool direct = last && result == plan.output;
    T* out = direct ? y : Scratch<T>::Get(scratch.result[ping], result.Count(sizes));
    ContractPair(cur, next, sp, sizes, out, scratch, pool);
    cur = Operand::Contiguous(out, result, sizes);
    ping ^= 1;
    if (last && !direct) PackOperand<T>(cur, plan.output, sizes, y, pool);
  }
}

// --------------------------------------------------------------------------------------------- op

Status InferEinsum(InferenceContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.Error("needs at least one input");
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
    if (ctx.input(i).dtype != ctx.input(0).dtype) return ctx.Error("all inputs must have the same dtype");
  }
  einsum::Equation eq;
  Status s = einsum::ParseEquation(ctx.attrs().GetString("equation", ""), ctx.num_inputs(), &eq);
  if (!s.ok()) return ctx.Error(s.message());
  std::vector<const ValueType*> types;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) types.push_back(&ctx.input(i));
  bool rank_known = true;
  Shape out;
  s = einsum::InferOutput(eq, types, &rank_known, &out);
  if (!s.ok()) return ctx.Error(s.message());
  ctx.output(0) = rank_known ? ValueType::Of(ctx.input(0).dtype, out) : ValueType::UnknownRank(ctx.input(0).dtype);
  return Status::Ok();
}

class EinsumKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    if (!ctx.attrs().Has("equation")) return ctx.Error("attribute 'equation' is required");
    Status s = einsum::ParseEquation(ctx.attrs().GetString("equation", ""), ctx.num_inputs(), &eq_);
    return s.ok() ? s : ctx.Error(s.message());
  }

  Status Compute(KernelContext& ctx) const override {
    thread_local einsum::Plan plan;
    thread_local std::vector<const void*> data;
    thread_local std::vector<const Shape*> shapes;
    data.clear();
    shapes.clear();
    const DataType dtype = ctx.input(0)->dtype();
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (t == nullptr || t->dtype() != dtype) return ctx.Error("every input must be present with one dtype");
      data.push_back(t->raw_data());
      shapes.push_back(&t->shape());
    }
    Status s = einsum::BuildPlan(eq_, shapes, &plan);
    if (!s.ok()) return ctx.Error(s.message());
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, plan.output_shape));
    if (y->NumElements() == 0) return Status::Ok();
    return VisitNumeric(dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      RunEinsum<T>(plan, data, y->data<T>(), ctx.pool());
      return Status::Ok();
    });
  }

 private:
  einsum::Equation eq_;
};

}  // namespace

Status RegisterEinsumOps(OpRegistry& registry) {
  return registry.Register(OpDef{"Einsum",
                                 "",
                                 12,
                                 kMaxOpset,
                                 {DataType::kFloat32, DataType::kFloat64, DataType::kInt8, DataType::kUint8,
                                  DataType::kInt16, DataType::kUint16, DataType::kInt32, DataType::kUint32,
                                  DataType::kInt64, DataType::kUint64},
                                 0,
                                 InferEinsum,
                                 MakeKernel<EinsumKernel>});
}

}  // namespace edgeai::cpu
