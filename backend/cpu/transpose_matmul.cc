// com.edgeai.TransposeMatMul: Y = Transpose(alpha * MatMul(Transpose(A, perm_a), Transpose(B, perm_b)), perm_y),
// float32, without the transposes. Each perm is optional (identity when absent); MatMul's broadcasting of the
// batch dimensions applies to the transposed operands.
//
// The transposes become strides: the matrices of a transposed operand are read in place, row-major or
// transposed, with the leading dimension the strides give, so each perm must keep the source's last axis among
// its own last two (perm[r-1] or perm[r-2] is r-1), and perm_y must keep the last axis last. The
// transpose_matmul_fusion pass makes this op from an attention block's Transpose -> (Div by a scalar) ->
// MatMul -> Transpose chains, so the heads' Q, K and V are read where the projection wrote them and the
// product is written where the next projection reads it.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

constexpr char kDomain[] = "com.edgeai";
constexpr size_t kMaxRank = Shape::kInlineRank;

// perm, or the identity of `rank` when absent; checked to be a permutation.
Status ReadPerm(const InferenceContext& ctx, const char* name, size_t rank, std::vector<int64_t>* perm) {
  *perm = ctx.attrs().GetInts(name);
  if (perm->empty()) {
    for (size_t i = 0; i < rank; ++i) perm->push_back(static_cast<int64_t>(i));
    return Status::Ok();
  }
  std::vector<char> seen(rank, 0);
  bool valid = perm->size() == rank;
  for (int64_t p : *perm) {
    valid = valid && p >= 0 && p < static_cast<int64_t>(rank) && !seen[static_cast<size_t>(p)];
    if (valid) seen[static_cast<size_t>(p)] = 1;
  }
  if (!valid) {
    return ctx.Error(std::string(name) + " is not a permutation of the input's " + std::to_string(rank) + " axes");
  }
  return Status::Ok();
}

// The operand as the product sees it: dims after the perm, and each dim's stride in the source.
struct Operand {
  size_t rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
};

Operand Permuted(const Shape& source, const std::vector<int64_t>& perm) {
  const Shape source_strides = ContiguousStrides(source);
  Operand op;
  op.rank = source.rank();
  for (size_t d = 0; d < op.rank; ++d) {
    op.dims[d] = source[static_cast<size_t>(perm[d])];
    op.strides[d] = source_strides[static_cast<size_t>(perm[d])];
  }
  return op;
}

// Shapes of the product: the operands' logical dims, the broadcast batch and Y (after perm_y).
struct Plan {
  Operand a, b;
  int64_t m = 0, n = 0, k = 0;
  Shape batch;   // broadcast batch dims of the product
  Shape y;       // the output, after perm_y
};

Status MakePlan(const InferenceContext* infer, const KernelContext* run, const Shape& a_shape, const Shape& b_shape,
                const std::vector<int64_t>& perm_a, const std::vector<int64_t>& perm_b,
                const std::vector<int64_t>& perm_y, Plan* plan) {
  auto error = [&](const std::string& message) { return infer ? infer->Error(message) : run->Error(message); };
  if (a_shape.rank() < 2 || b_shape.rank() < 2 || a_shape.rank() > kMaxRank || b_shape.rank() > kMaxRank) {
    return error("A and B must have rank 2 to " + std::to_string(kMaxRank));
  }
  plan->a = Permuted(a_shape, perm_a);
  plan->b = Permuted(b_shape, perm_b);
  const Operand &a = plan->a, &b = plan->b;
  plan->m = a.dims[a.rank - 2];
  plan->k = a.dims[a.rank - 1];
  plan->n = b.dims[b.rank - 1];
  if (b.dims[b.rank - 2] != plan->k && plan->k >= 0 && b.dims[b.rank - 2] >= 0) {
    return error("inner dimensions differ: A has " + std::to_string(plan->k) + ", B has " +
                 std::to_string(b.dims[b.rank - 2]));
  }
  const size_t batch_rank = std::max(a.rank, b.rank) - 2;
  plan->batch = Shape();
  for (size_t d = 0; d < batch_rank; ++d) {
    const int64_t da = d + a.rank >= batch_rank + 2 ? a.dims[d + a.rank - batch_rank - 2] : 1;
    const int64_t db = d + b.rank >= batch_rank + 2 ? b.dims[d + b.rank - batch_rank - 2] : 1;
    if (da != db && da != 1 && db != 1 && da >= 0 && db >= 0) {
      return error("batch dimensions " + std::to_string(da) + " and " + std::to_string(db) + " do not broadcast");
    }
    plan->batch.push_back(da == 1 ? db : (db == 1 ? da : (da < 0 ? db : da)));
  }
  Shape product = plan->batch;
  product.push_back(plan->m);
  product.push_back(plan->n);
  if (perm_y.size() != product.rank()) {
    return error("perm_y has " + std::to_string(perm_y.size()) + " axes, the product " +
                 std::to_string(product.rank()));
  }
  plan->y = Shape();
  for (int64_t p : perm_y) plan->y.push_back(product[static_cast<size_t>(p)]);
  return Status::Ok();
}

Status InferTransposeMatMul(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  const ValueType& a = ctx.input(0);
  const ValueType& b = ctx.input(1);
  if (!a.rank_known || !b.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(a.dtype);
    return Status::Ok();
  }
  std::vector<int64_t> perm_a, perm_b, perm_y;
  EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_a", a.dims.rank(), &perm_a));
  EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_b", b.dims.rank(), &perm_b));
  EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_y", std::max(a.dims.rank(), b.dims.rank()), &perm_y));
  Plan plan;
  EDGEAI_RETURN_IF_ERROR(MakePlan(&ctx, nullptr, a.dims, b.dims, perm_a, perm_b, perm_y, &plan));
  ctx.output(0) = ValueType::Of(a.dtype, plan.y);
  return Status::Ok();
}

// The GEMM view of an operand's matrices: row-major with leading dimension `ld`, or transposed.
bool MatrixLayout(const Operand& op, bool* trans, int64_t* ld) {
  const int64_t rows = op.dims[op.rank - 2], cols = op.dims[op.rank - 1];
  const int64_t row_stride = op.strides[op.rank - 2], col_stride = op.strides[op.rank - 1];
  if (col_stride == 1) {
    *trans = false;
    *ld = rows == 1 ? std::max<int64_t>(cols, 1) : row_stride;
  } else if (row_stride == 1 || rows == 1) {
    *trans = true;  // stored K x M (for A) or N x K (for B): element (i, j) at j * ld + i
    *ld = col_stride;
  } else if (cols == 1) {
    *trans = false;
    *ld = row_stride;
  } else {
    return false;
  }
  return true;
}

class TransposeMatMulKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    const size_t ra = ctx.input(0).rank_known ? ctx.input(0).dims.rank() : 0;
    const size_t rb = ctx.input(1).rank_known ? ctx.input(1).dims.rank() : 0;
    if (ra == 0 || rb == 0) return ctx.Error("needs inputs of known rank");
    EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_a", ra, &perm_a_));
    EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_b", rb, &perm_b_));
    EDGEAI_RETURN_IF_ERROR(ReadPerm(ctx, "perm_y", std::max(ra, rb), &perm_y_));
    if (perm_y_.back() != static_cast<int64_t>(perm_y_.size()) - 1) {
      return ctx.Error("perm_y must keep the last axis last");
    }
    alpha_ = ctx.attrs().GetFloat("alpha", 1.0f);
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.rank() != perm_a_.size() || b.rank() != perm_b_.size()) {
      return ctx.Error("inputs " + a.Describe() + " and " + b.Describe() + " do not match the perms' ranks");
    }
    Plan plan;
    EDGEAI_RETURN_IF_ERROR(MakePlan(nullptr, &ctx, a.shape(), b.shape(), perm_a_, perm_b_, perm_y_, &plan));
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, plan.y));
    GemmShape s;
    s.m = plan.m;
    s.n = plan.n;
    s.k = plan.k;
    if (!MatrixLayout(plan.a, &s.trans_a, &s.lda) || !MatrixLayout(plan.b, &s.trans_b, &s.ldb)) {
      return ctx.Error("a perm moves the source's last axis out of the matrix dimensions");
    }
    // Y's strides in the product's axis order: axis perm_y[d] of the product is axis d of Y.
    const size_t ry = plan.y.rank();
    const Shape y_strides = ContiguousStrides(plan.y);
    int64_t product_strides[kMaxRank];
    for (size_t d = 0; d < ry; ++d) product_strides[perm_y_[d]] = y_strides[d];
    s.ldc = plan.m == 1 ? std::max<int64_t>(plan.n, 1) : product_strides[ry - 2];
    if (y->NumElements() == 0) return Status::Ok();

    const size_t batch_rank = plan.batch.rank();
    const int64_t batches = plan.batch.NumElements();
    // Per batch axis: the operands' strides (0 where broadcast) and the output's.
    int64_t sa[kMaxRank] = {}, sb[kMaxRank] = {}, sy[kMaxRank] = {};
    for (size_t d = 0; d < batch_rank; ++d) {
      const size_t da = d + plan.a.rank - batch_rank - 2, db = d + plan.b.rank - batch_rank - 2;
      if (d + plan.a.rank >= batch_rank + 2 && plan.a.dims[da] != 1) sa[d] = plan.a.strides[da];
      if (d + plan.b.rank >= batch_rank + 2 && plan.b.dims[db] != 1) sb[d] = plan.b.strides[db];
      sy[d] = product_strides[d];
    }
    const float* ap = a.data<float>();
    const float* bp = b.data<float>();
    float* yp = y->data<float>();
    auto one = [&](int64_t index, const ThreadPool& pool) {
      int64_t oa = 0, ob = 0, oy = 0;
      for (size_t d = batch_rank; d-- > 0;) {
        const int64_t i = index % plan.batch[d];
        index /= plan.batch[d];
        oa += i * sa[d];
        ob += i * sb[d];
        oy += i * sy[d];
      }
      Sgemm(s, alpha_, ap + oa, bp + ob, 0.0f, yp + oy, pool);
    };
    ForEachProduct(batches, ctx.pool(), one);
    return Status::Ok();
  }

 private:
  std::vector<int64_t> perm_a_, perm_b_, perm_y_;
  float alpha_ = 1.0f;
};

}  // namespace

Status RegisterTransposeMatMulOps(OpRegistry& registry) {
  OpDef def;
  def.op_type = "TransposeMatMul";
  def.domain = kDomain;
  def.types = {DataType::kFloat32};
  def.infer = InferTransposeMatMul;
  def.create = MakeKernel<TransposeMatMulKernel>;
  return registry.Register(std::move(def));
}

}  // namespace edgeai::cpu
