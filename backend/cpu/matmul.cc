// Gemm (opsets 1..) and MatMul (opsets 1..): matrix products on the shared Sgemm/Dgemm helper for floats and
// plain loops for integers (which appear in shape arithmetic, not in heavy compute).
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/activation.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/dispatch.h"
#include "backend/cpu/gemm.h"
#include "backend/shape_util.h"
#include "backend/thread_pool.h"

namespace edgeai::cpu {
namespace {

std::string DimStr(int64_t d) { return d < 0 ? "?" : std::to_string(d); }

void GemmT(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c,
           const ThreadPool& pool) {
  Sgemm(s, alpha, a, b, beta, c, pool);
}
void GemmT(const GemmShape& s, double alpha, const double* a, const double* b, double beta, double* c,
           const ThreadPool& pool) {
  Dgemm(s, alpha, a, b, beta, c, pool);
}

// Integer C = alpha * op(A) * op(B) + beta * C, wrapping modulo 2^bits like ONNX Runtime's integer kernels.
// The arithmetic runs on unsigned types, where wrapping is defined, and at least 32 bits wide so that small
// types do not promote to a signed int that could overflow.
template <typename T>
void IntegerGemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, const ThreadPool& pool) {
  using U = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
  const int64_t a_row = s.trans_a ? 1 : s.lda, a_col = s.trans_a ? s.lda : 1;
  const int64_t b_row = s.trans_b ? 1 : s.ldb, b_col = s.trans_b ? s.ldb : 1;
  const U ua = static_cast<U>(alpha), ub = static_cast<U>(beta);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, s.n * s.k));
  pool.ParallelFor(s.m, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T* crow = c + i * s.ldc;
      for (int64_t j = 0; j < s.n; ++j) crow[j] = beta == T(0) ? T(0) : static_cast<T>(ub * static_cast<U>(crow[j]));
      for (int64_t k = 0; k < s.k; ++k) {
        const U av = ua * static_cast<U>(a[i * a_row + k * a_col]);
        const T* brow = b + k * b_row;
        for (int64_t j = 0; j < s.n; ++j) {
          crow[j] = static_cast<T>(static_cast<U>(crow[j]) + av * static_cast<U>(brow[j * b_col]));
        }
      }
    }
  });
}

// Every GEMM of this file goes through here: the float helpers, or the integer loop.
template <typename T>
void GemmAny(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c, const ThreadPool& pool) {
  if constexpr (std::is_floating_point_v<T>) {
    GemmT(s, alpha, a, b, beta, c, pool);
  } else {
    IntegerGemm(s, alpha, a, b, beta, c, pool);
  }
}

template <typename T>
void Product(const GemmShape& s, const T* a, const T* b, T* c, const ThreadPool& pool) {
  GemmAny(s, T(1), a, b, T(0), c, pool);
}

const std::vector<DataType> kFloatTypes = {DataType::kFloat32, DataType::kFloat64};
const std::vector<DataType> kNumericTypes = {DataType::kFloat32, DataType::kFloat64, DataType::kInt32,
                                             DataType::kInt64,   DataType::kUint32,  DataType::kUint64};

Status CheckSameDtype(const InferenceContext& ctx, size_t i) {
  if (ctx.input(i).dtype == ctx.input(0).dtype) return Status::Ok();
  return ctx.Error("input #" + std::to_string(i) + " has dtype " + std::string(DataTypeName(ctx.input(i).dtype)) +
                   " but input #0 has " + std::string(DataTypeName(ctx.input(0).dtype)));
}

// ---------------------------------------------------------------------------------------------------------
// MatMul: numpy.matmul. A 1-D A is a row [1, K], a 1-D B a column [K, 1]; the added dim is dropped from Y.

Status InferMatMul(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  EDGEAI_RETURN_IF_ERROR(CheckSameDtype(ctx, 1));
  const ValueType& a = ctx.input(0);
  const ValueType& b = ctx.input(1);
  const DataType dtype = a.dtype;
  if ((a.rank_known && a.dims.rank() == 0) || (b.rank_known && b.dims.rank() == 0)) {
    return ctx.Error("operands must have rank >= 1, got A " + a.ToString() + " and B " + b.ToString());
  }
  if (!a.rank_known || !b.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(dtype);
    return Status::Ok();
  }
  const Shape& ad = a.dims;
  const Shape& bd = b.dims;
  const size_t ra = ad.rank(), rb = bd.rank();
  const int64_t ka = ad[ra - 1];
  const int64_t kb = rb == 1 ? bd[0] : bd[rb - 2];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return ctx.Error("inner dimensions differ: A " + ad.ToString() + " has K = " + DimStr(ka) + " but B " +
                     bd.ToString() + " has K = " + DimStr(kb));
  }
  Shape a_batch = ra > 2 ? Shape(ad.data(), ra - 2) : Shape();
  Shape b_batch = rb > 2 ? Shape(bd.data(), rb - 2) : Shape();
  Result<Shape> batch = BroadcastShapes(a_batch, b_batch);
  if (!batch.ok()) {
    return ctx.Error("batch dims of A " + ad.ToString() + " and B " + bd.ToString() + " cannot be broadcast");
  }
  Shape out = std::move(batch).value();
  if (ra >= 2) out.push_back(ad[ra - 2]);
  if (rb >= 2) out.push_back(bd[rb - 1]);
  ctx.output(0) = ValueType::Of(dtype, out);
  return Status::Ok();
}

// Element offsets of A and B for each batch of Y, with stride 0 along broadcast dims.
struct BatchIndexer {
  Shape dims, a_strides, b_strides;  // over Y's batch dims

  void Init(const Shape& a_batch, const Shape& b_batch, int64_t a_matrix, int64_t b_matrix) {
    const size_t rank = std::max(a_batch.rank(), b_batch.rank());
    dims.resize(rank, 1);
    a_strides.resize(rank, 0);
    b_strides.resize(rank, 0);
    int64_t sa = a_matrix, sb = b_matrix;
    for (size_t i = rank; i-- > 0;) {
      const size_t back = rank - 1 - i;
      const int64_t da = back < a_batch.rank() ? a_batch[a_batch.rank() - 1 - back] : 1;
      const int64_t db = back < b_batch.rank() ? b_batch[b_batch.rank() - 1 - back] : 1;
      dims[i] = std::max(da, db);
      a_strides[i] = da == 1 ? 0 : sa;
      b_strides[i] = db == 1 ? 0 : sb;
      sa *= da;
      sb *= db;
    }
  }
  void Offsets(int64_t index, int64_t* a_off, int64_t* b_off) const {
    *a_off = *b_off = 0;
    for (size_t i = dims.rank(); i-- > 0;) {
      const int64_t d = index % dims[i];
      index /= dims[i];
      *a_off += d * a_strides[i];
      *b_off += d * b_strides[i];
    }
  }
};

// The float32 weights of a MatMul or Gemm, packed once at load time when input B is a constant matrix.
struct PackedWeights {
  SgemmPacked packed;
  const float* from = nullptr;  // the data it was packed from: only that tensor may use it

  void Pack(const Tensor* b, bool trans) {
    if (b == nullptr || b->dtype() != DataType::kFloat32 || b->rank() < 2) return;
    const Shape& d = b->shape();
    const int64_t rows = d[d.rank() - 2], cols = d[d.rank() - 1];
    if (rows * cols != b->NumElements() || rows <= 0 || cols <= 0) return;  // batched B: no single matrix
    packed = trans ? PackSgemmB(true, cols, rows, b->data<float>(), cols)
                   : PackSgemmB(false, rows, cols, b->data<float>(), cols);
    from = b->data<float>();
  }
  const SgemmPacked* For(const Tensor& b) const {
    return from != nullptr && b.dtype() == DataType::kFloat32 && b.data<float>() == from ? &packed : nullptr;
  }
};

// What a fused node adds to Y as it is stored: a bias (N elements or one) on every row, then an activation.
template <typename T>
struct MatMulEpilogue {
  const T* bias = nullptr;
  int64_t bias_size = 0;
  Activation act;

  bool empty() const { return bias == nullptr && act.none(); }
  // Whatever the product did not apply itself, over Y [rows, n].
  void Finish(T* y, int64_t rows, int64_t n, bool bias_done, bool act_done, const ThreadPool& pool) const {
    if constexpr (std::is_floating_point_v<T>) {
      const T* b = bias_done ? nullptr : bias;
      AddBiasAndActivate(y, rows * n, b, bias_size, n, act_done ? Activation{} : act, pool);
    }
  }
};

template <typename T>
void RunMatMul(const Tensor& at, const Tensor& bt, const SgemmPacked* packed_b, const MatMulEpilogue<T>& epi,
               Tensor* yt, const ThreadPool& pool) {
  const Shape& ad = at.shape();
  const Shape& bd = bt.shape();
  const size_t ra = ad.rank(), rb = bd.rank();
  const int64_t m = ra == 1 ? 1 : ad[ra - 2], k = ad[ra - 1], n = rb == 1 ? 1 : bd[rb - 1];
  const Shape a_batch = ra > 2 ? Shape(ad.data(), ra - 2) : Shape();
  const Shape b_batch = rb > 2 ? Shape(bd.data(), rb - 2) : Shape();
  const T* a = at.data<T>();
  const T* b = bt.data<T>();
  T* y = yt->data<T>();
  GemmShape s;
  s.n = n;
  s.k = k;
  s.lda = k;
  s.ldb = n;
  s.ldc = n;
  if (b_batch.NumElements() == 1) {
    // B is one matrix: A's batches stack into the rows of a single product.
    s.m = a_batch.NumElements() * m;
    if constexpr (std::is_same_v<T, float>) {
      if (packed_b != nullptr && packed_b->rows() == k && packed_b->cols() == n) {
        // A bias of N elements and then a Relu/Clip go into the GEMM's stores (a one-element bias, added
        // afterwards, must come before the clamp, so then both wait).
        const bool col_bias = epi.bias != nullptr && epi.bias_size == n;
        const bool clamp_in_gemm = epi.act.IsClamp() && (epi.bias == nullptr || col_bias);
        const OutputClamp clamp{epi.act.clamp_lo(), epi.act.clamp_hi()};
        SgemmPackedB(false, s.m, a, s.lda, *packed_b, 1.0f, 0.0f, y, s.ldc, pool, clamp_in_gemm ? &clamp : nullptr,
                     col_bias ? epi.bias : nullptr);
        if (!epi.empty()) epi.Finish(y, s.m, n, col_bias, clamp_in_gemm, pool);
        return;
      }
    }
    Product(s, a, b, y, pool);
    if (!epi.empty()) epi.Finish(y, s.m, n, false, false, pool);
    return;
  }
  s.m = m;
  BatchIndexer idx;
  idx.Init(a_batch, b_batch, m * k, k * n);
  const int64_t batches = idx.dims.NumElements();
  auto one = [&](int64_t i, const ThreadPool& p) {
    int64_t a_off, b_off;
    idx.Offsets(i, &a_off, &b_off);
    Product(s, a + a_off, b + b_off, y + i * m * n, p);
  };
  ForEachProduct(batches, pool, one);
  if (!epi.empty()) epi.Finish(y, batches * m, n, false, false, pool);
}

// MatMul, and the base of FusedMatMul, whose bias (input 2) and Relu/Clip it can add as the product is stored.
class MatMulKernel : public Kernel, public ActivationFusable, public BiasFusable {
 public:
  Status Init(const InferenceContext& ctx) {
    weights_.Pack(ctx.input_value(1), false);
    return Status::Ok();
  }

  bool FuseActivation(const Activation& act) override {
    act_ = act;
    return true;
  }
  bool FuseBiasInput() override {
    bias_input_ = true;
    return true;
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    const int64_t kb = b.rank() == 0 ? -1 : b.rank() == 1 ? b.shape()[0] : b.shape()[b.rank() - 2];
    if (a.rank() == 0 || a.shape().back() != kb) {
      return ctx.Error("A " + a.Describe() + " and B " + b.Describe() + " cannot be multiplied");
    }
    const Tensor* bias = bias_input_ && ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const int64_t n = y->rank() > 0 ? y->shape()[y->rank() - 1] : 1;
    if (bias != nullptr && (bias->dtype() != y->dtype() || (bias->NumElements() != n && bias->NumElements() != 1))) {
      return ctx.Error("bias " + bias->Describe() + " does not match the output " + y->Describe());
    }
    return VisitNumeric(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      MatMulEpilogue<T> epi;
      epi.act = act_;
      if (bias != nullptr) {
        epi.bias = bias->data<T>();
        epi.bias_size = bias->NumElements();
      }
      RunMatMul<T>(a, b, weights_.For(b), epi, y, ctx.pool());
      return Status::Ok();
    });
  }

 private:
  PackedWeights weights_;
  Activation act_;
  bool bias_input_ = false;
};

// ---------------------------------------------------------------------------------------------------------
// Gemm: Y = alpha * A' * B' + beta * C with 2-D A and B. C is required before opset 11; before opset 7 it
// must be exactly [M, N] unless the `broadcast` attribute is set.

struct GemmAttrs {
  float alpha = 1.0f, beta = 1.0f;
  bool trans_a = false, trans_b = false;
  bool strict_c = false;  // opsets 1..6 with broadcast == 0
};

GemmAttrs ParseGemmAttrs(const InferenceContext& ctx) {
  GemmAttrs g;
  g.alpha = ctx.attrs().GetFloat("alpha", 1.0f);
  g.beta = ctx.attrs().GetFloat("beta", 1.0f);
  g.trans_a = ctx.attrs().GetInt("transA", 0) != 0;
  g.trans_b = ctx.attrs().GetInt("transB", 0) != 0;
  g.strict_c = ctx.opset() < 7 && ctx.attrs().GetInt("broadcast", 0) == 0;
  return g;
}

Status CheckGemmBias(const InferenceContext& ctx, const GemmAttrs& g, int64_t m, int64_t n) {
  const ValueType& c = ctx.input(2);
  if (!c.rank_known) return Status::Ok();
  const Shape& cd = c.dims;
  const std::string target = "[" + DimStr(m) + "," + DimStr(n) + "]";
  if (g.strict_c) {
    if (cd.rank() != 2 || (cd[0] >= 0 && m >= 0 && cd[0] != m) || (cd[1] >= 0 && n >= 0 && cd[1] != n)) {
      return ctx.Error("C " + cd.ToString() + " must be " + target + " (set broadcast=1 to broadcast it)");
    }
    return Status::Ok();
  }
  if (cd.rank() > 2) return ctx.Error("C " + cd.ToString() + " has rank > 2; it must broadcast to " + target);
  const int64_t want[2] = {m, n};
  for (size_t i = 0; i < cd.rank(); ++i) {
    const int64_t d = cd[i], w = want[2 - cd.rank() + i];
    if (d >= 0 && d != 1 && w >= 0 && d != w) {
      return ctx.Error("C " + cd.ToString() + " is not unidirectionally broadcastable to " + target);
    }
  }
  return Status::Ok();
}

Status InferGemm(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  if (ctx.opset() < 11) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(2));
  EDGEAI_RETURN_IF_ERROR(CheckSameDtype(ctx, 1));
  if (ctx.has_input(2)) EDGEAI_RETURN_IF_ERROR(CheckSameDtype(ctx, 2));
  const ValueType& a = ctx.input(0);
  const ValueType& b = ctx.input(1);
  if ((a.rank_known && a.dims.rank() != 2) || (b.rank_known && b.dims.rank() != 2)) {
    return ctx.Error("A " + a.ToString() + " and B " + b.ToString() + " must both be 2-D");
  }
  const GemmAttrs g = ParseGemmAttrs(ctx);
  const int64_t m = a.rank_known ? a.dims[g.trans_a ? 1 : 0] : -1;
  const int64_t ka = a.rank_known ? a.dims[g.trans_a ? 0 : 1] : -1;
  const int64_t kb = b.rank_known ? b.dims[g.trans_b ? 1 : 0] : -1;
  const int64_t n = b.rank_known ? b.dims[g.trans_b ? 0 : 1] : -1;
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return ctx.Error("inner dimensions differ: A' has K = " + DimStr(ka) + " but B' has K = " + DimStr(kb) +
                     " (A " + a.dims.ToString() + ", transA=" + std::to_string(g.trans_a) + "; B " +
                     b.dims.ToString() + ", transB=" + std::to_string(g.trans_b) + ")");
  }
  if (ctx.has_input(2)) EDGEAI_RETURN_IF_ERROR(CheckGemmBias(ctx, g, m, n));
  ctx.output(0) = ValueType::Of(a.dtype, Shape{m, n});
  return Status::Ok();
}

// Y = broadcast(C), the starting point that the product accumulates onto.
template <typename T>
void BroadcastBias(const Tensor& c, int64_t m, int64_t n, T* y) {
  const Shape& cd = c.shape();
  const int64_t rows = cd.rank() == 2 ? cd[0] : 1;
  const int64_t cols = cd.rank() >= 1 ? cd[cd.rank() - 1] : 1;
  const T* cv = c.data<T>();
  for (int64_t i = 0; i < m; ++i) {
    const T* src = cv + (rows == 1 ? 0 : i) * cols;
    T* dst = y + i * n;
    if (cols == 1) {
      std::fill(dst, dst + n, src[0]);
    } else {
      std::copy(src, src + n, dst);
    }
  }
}

// Gemm, and the base of FusedGemm, whose activation it applies as the product is stored (Relu/Clip in the
// GEMM's stores, others right after it).
class GemmKernel : public Kernel, public ActivationFusable {
 public:
  bool FuseActivation(const Activation& act) override {
    act_ = act;
    return true;
  }

  Status Init(const InferenceContext& ctx) {
    attrs_ = ParseGemmAttrs(ctx);
    if (ctx.input_value(1) != nullptr && ctx.input_value(1)->rank() == 2) {
      weights_.Pack(ctx.input_value(1), attrs_.trans_b);
    }
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    const Tensor* c = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (a.rank() != 2 || b.rank() != 2) {
      return ctx.Error("A " + a.Describe() + " and B " + b.Describe() + " must both be 2-D");
    }
    GemmShape s;
    s.trans_a = attrs_.trans_a;
    s.trans_b = attrs_.trans_b;
    s.m = a.shape()[s.trans_a ? 1 : 0];
    s.k = a.shape()[s.trans_a ? 0 : 1];
    s.n = b.shape()[s.trans_b ? 0 : 1];
    if (b.shape()[s.trans_b ? 1 : 0] != s.k) return ctx.Error("inner dimensions of A and B differ");
    s.lda = a.shape()[1];
    s.ldb = b.shape()[1];
    s.ldc = s.n;
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{s.m, s.n}));
    const bool use_c = c != nullptr && attrs_.beta != 0.0f;
    return VisitNumeric(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* yv = y->data<T>();
      if constexpr (std::is_same_v<T, float>) {
        if (RunF32(s, a.data<float>(), b, c, use_c, yv, ctx.pool())) return Status::Ok();
      }
      if (use_c) BroadcastBias<T>(*c, s.m, s.n, yv);
      const T alpha = static_cast<T>(attrs_.alpha), beta = use_c ? static_cast<T>(attrs_.beta) : T(0);
      GemmAny(s, alpha, a.data<T>(), b.data<T>(), beta, yv, ctx.pool());
      if constexpr (std::is_floating_point_v<T>) {
        AddBiasAndActivate(yv, s.m * s.n, static_cast<const T*>(nullptr), 0, s.n, act_, ctx.pool());
      }
      return Status::Ok();
    });
  }

 private:
  // float32 with the packed weights or a row-vector C (a fully connected layer's bias, with beta 1): C goes in
  // as the GEMM's column bias instead of a first pass over Y, and a Relu/Clip into its stores. False where
  // neither applies (the caller then runs the general path).
  bool RunF32(const GemmShape& s, const float* a, const Tensor& b, const Tensor* c, bool use_c, float* y,
              const ThreadPool& pool) const {
    const SgemmPacked* packed_b = weights_.For(b);
    const bool packed = packed_b != nullptr && packed_b->rows() == s.k && packed_b->cols() == s.n;
    const bool row_c = use_c && attrs_.beta == 1.0f && c->NumElements() == s.n && s.n > 1 &&
                       (c->rank() == 1 || (c->rank() == 2 && c->shape()[0] == 1));
    if (!packed && !row_c) return false;
    if (use_c && !row_c) BroadcastBias<float>(*c, s.m, s.n, y);
    const float beta = use_c && !row_c ? attrs_.beta : 0.0f;
    const float* col_bias = row_c ? c->data<float>() : nullptr;
    const OutputClamp clamp{act_.clamp_lo(), act_.clamp_hi()};
    const OutputClamp* clamp_p = act_.IsClamp() ? &clamp : nullptr;
    if (packed) {
      SgemmPackedB(s.trans_a, s.m, a, s.lda, *packed_b, attrs_.alpha, beta, y, s.ldc, pool, clamp_p, col_bias);
    } else {
      Sgemm(s, attrs_.alpha, a, b.data<float>(), beta, y, pool, clamp_p, col_bias);
    }
    if (!act_.IsClamp()) AddBiasAndActivate(y, s.m * s.n, nullptr, 0, s.n, act_, pool);
    return true;
  }

  GemmAttrs attrs_;
  PackedWeights weights_;
  Activation act_;
};

Status Register(OpRegistry& registry, const char* op, int since, int until, const std::vector<DataType>& types,
                InferFn infer, KernelFactory create) {
  return registry.Register(OpDef{op, "", since, until, types, 0, infer, create});
}

}  // namespace

Status RegisterMatMulOps(OpRegistry& registry) {
  // Gemm: 1..6 has the `broadcast` attribute; 7 broadcasts C unidirectionally; 9 adds integer types; 11 makes
  // C optional. 13 only adds bfloat16, which has no CPU kernel.
  auto gemm = MakeKernel<GemmKernel>;
  EDGEAI_RETURN_IF_ERROR(Register(registry, "Gemm", 1, 6, kFloatTypes, InferGemm, gemm));
  EDGEAI_RETURN_IF_ERROR(Register(registry, "Gemm", 7, 8, kFloatTypes, InferGemm, gemm));
  EDGEAI_RETURN_IF_ERROR(Register(registry, "Gemm", 9, 10, kNumericTypes, InferGemm, gemm));
  EDGEAI_RETURN_IF_ERROR(Register(registry, "Gemm", 11, kMaxOpset, kNumericTypes, InferGemm, gemm));
  // MatMul: 9 adds integer types; 13 only adds bfloat16.
  auto matmul = MakeKernel<MatMulKernel>;
  EDGEAI_RETURN_IF_ERROR(Register(registry, "MatMul", 1, 8, kFloatTypes, InferMatMul, matmul));
  return Register(registry, "MatMul", 9, kMaxOpset, kNumericTypes, InferMatMul, matmul);
}

}  // namespace edgeai::cpu
