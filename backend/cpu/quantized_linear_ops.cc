// Integer matrix products (opset 10..): MatMulInteger (int32 output) and QLinearMatMul (requantized 8-bit
// output), both numpy.matmul-shaped with batch broadcasting and 1-D operands; plus the integer GEMM that the
// quantized convolutions (quantized_conv.cc) share.
//
// Zero points and scales of A apply per tensor or per row ([M], or [..., M, 1] per batch), those of B per
// tensor or per column ([N], or [..., 1, N]). Each batch converts both operands to int32 with the zero points
// subtracted, multiplies them in int32 (wrapping), and QLinearMatMul rounds acc * a_scale * b_scale / y_scale
// half to even into y's type around y_zero_point.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/quantize_util.h"
#include "backend/shape_util.h"

namespace edgeai::cpu {

// ------------------------------------------------------------------------------------------- integer GEMM

namespace {

// Rows [r0, r1) of C. Four rows share each load of B, and C is walked in column blocks that stay in L1.
void IntGemmRows(int64_t r0, int64_t r1, int64_t n, int64_t k, const uint32_t* a, const uint32_t* b,
                 uint32_t* c) {
  constexpr int64_t kBlock = 256;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t len = std::min(kBlock, n - j0);
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      uint32_t* __restrict c0 = c + r * n + j0;
      uint32_t* __restrict c1 = c0 + n;
      uint32_t* __restrict c2 = c1 + n;
      uint32_t* __restrict c3 = c2 + n;
      std::fill(c0, c0 + len, 0u);
      std::fill(c1, c1 + len, 0u);
      std::fill(c2, c2 + len, 0u);
      std::fill(c3, c3 + len, 0u);
      const uint32_t* a0 = a + r * k;
      for (int64_t kk = 0; kk < k; ++kk) {
        const uint32_t* __restrict br = b + kk * n + j0;
        const uint32_t v0 = a0[kk], v1 = a0[k + kk], v2 = a0[2 * k + kk], v3 = a0[3 * k + kk];
        for (int64_t j = 0; j < len; ++j) {
          const uint32_t bv = br[j];
          c0[j] += v0 * bv;
          c1[j] += v1 * bv;
          c2[j] += v2 * bv;
          c3[j] += v3 * bv;
        }
      }
    }
    for (; r < r1; ++r) {
      uint32_t* __restrict c0 = c + r * n + j0;
      std::fill(c0, c0 + len, 0u);
      for (int64_t kk = 0; kk < k; ++kk) {
        const uint32_t* __restrict br = b + kk * n + j0;
        const uint32_t v0 = a[r * k + kk];
        if (v0 == 0) continue;
        for (int64_t j = 0; j < len; ++j) c0[j] += v0 * br[j];
      }
    }
  }
}

}  // namespace

void IntGemm(int64_t m, int64_t n, int64_t k, const uint32_t* a, const uint32_t* b, uint32_t* c,
             const ThreadPool& pool) {
  const int64_t blocks = (m + 3) / 4;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, 4 * n * k));
  pool.ParallelFor(blocks, grain, [&](int64_t begin, int64_t end) {
    IntGemmRows(begin * 4, std::min(m, end * 4), n, k, a, b, c);
  });
}

namespace {

// ------------------------------------------------------------------------------------------ shapes

// A [.., M, K] x B [.., K, N] with numpy.matmul rules; 1-D A is [1, K] without M in the output, 1-D B is
// [K, 1] without N.
struct MatMulDims {
  Shape a_batch, b_batch, out_batch;
  int64_t m = 0, n = 0, k = 0;
  bool a_vector = false, b_vector = false;
};

// Works on partial shapes too (-1 dims); errors carry no node name.
Status ComputeMatMulDims(const Shape& a, const Shape& b, MatMulDims* d) {
  if (a.rank() == 0 || b.rank() == 0) {
    return InvalidArgument("A " + a.ToString() + " and B " + b.ToString() + " must have rank >= 1");
  }
  d->a_vector = a.rank() == 1;
  d->b_vector = b.rank() == 1;
  d->m = d->a_vector ? 1 : a[a.rank() - 2];
  const int64_t ka = a.back();
  d->k = d->b_vector ? b[0] : b[b.rank() - 2];
  d->n = d->b_vector ? 1 : b.back();
  if (ka >= 0 && d->k >= 0 && ka != d->k) {
    return InvalidArgument("A " + a.ToString() + " and B " + b.ToString() + " disagree on the inner dimension");
  }
  if (d->k < 0) d->k = ka;
  d->a_batch = d->a_vector ? Shape() : Shape(a.data(), a.rank() - 2);
  d->b_batch = d->b_vector ? Shape() : Shape(b.data(), b.rank() - 2);
  Result<Shape> batch = BroadcastShapes(d->a_batch, d->b_batch);
  if (!batch.ok()) return InvalidArgument("batch dims of A and B: " + batch.status().message());
  d->out_batch = std::move(batch).value();
  return Status::Ok();
}

Shape MatMulOutputShape(const MatMulDims& d) {
  Shape out = d.out_batch;
  if (!d.a_vector) out.push_back(d.m);
  if (!d.b_vector) out.push_back(d.n);
  return out;
}

// Index into an operand's (right-aligned, broadcast) batch dims of output batch index `b`.
int64_t MapBatch(int64_t b, const Shape& out_batch, const Shape& operand_batch) {
  int64_t index = 0, stride = 1;
  const size_t shift = out_batch.rank() - operand_batch.rank();
  for (size_t i = out_batch.rank(); i-- > shift;) {
    const int64_t coord = b % out_batch[i];
    b /= out_batch[i];
    const int64_t dim = operand_batch[i - shift];
    if (dim != 1) index += coord * stride;
    stride *= dim;
  }
  return index;
}

// A scale or zero point of A (per row) or B (per column), resolved against the call's shapes.
struct SideParam {
  const Tensor* t = nullptr;  // null: absent (zero point 0)
  Shape batch;                // its own batch dims ([..] of [.., M, 1]); empty for scalars and 1-D
  int64_t count = 1;          // values per batch: M (rows), N (columns) or 1
};

// `rows` true: A's parameter, shapes [], [1], [M] or [.., M|1, 1]; false: B's, [], [1], [N] or [.., 1, N|1].
Status ResolveSideParam(const Tensor* t, const char* name, bool rows, const MatMulDims& d, SideParam* out) {
  *out = SideParam{};
  out->t = t;
  if (t == nullptr || t->NumElements() == 1) return Status::Ok();
  const Shape& s = t->shape();
  const int64_t want = rows ? d.m : d.n;
  const std::string where = std::string(name) + " " + s.ToString();
  if (s.rank() == 1) {
    if (s[0] != want) return InvalidArgument(where + " must have " + std::to_string(want) + " values");
    out->count = want;
    return Status::Ok();
  }
  const int64_t lane = rows ? s[s.rank() - 2] : s.back();
  const int64_t other = rows ? s.back() : s[s.rank() - 2];
  if (other != 1 || (lane != 1 && lane != want) || s.rank() - 2 > d.out_batch.rank()) {
    return InvalidArgument(where + (rows ? " must be [.., M, 1] per row of A" : " must be [.., 1, N] per column of B"));
  }
  out->batch = Shape(s.data(), s.rank() - 2);
  const size_t shift = d.out_batch.rank() - out->batch.rank();
  for (size_t i = 0; i < out->batch.rank(); ++i) {
    if (out->batch[i] != 1 && out->batch[i] != d.out_batch[i + shift]) {
      return InvalidArgument(where + " does not broadcast to the batch dims " + d.out_batch.ToString());
    }
  }
  out->count = lane;
  return Status::Ok();
}

// Offset of output batch b's values in the parameter; value i of that batch is at offset + (count > 1 ? i : 0).
int64_t ParamOffset(const SideParam& p, const MatMulDims& d, int64_t b) {
  return p.count == 1 && p.batch.rank() == 0 ? 0 : MapBatch(b, d.out_batch, p.batch) * p.count;
}

template <typename T>
int32_t ParamInt(const SideParam& p, int64_t offset, int64_t i) {
  if (p.t == nullptr) return 0;
  return static_cast<int32_t>(p.t->data<T>()[offset + (p.count > 1 ? i : 0)]);
}
float ParamFloat(const SideParam& p, int64_t offset, int64_t i) {
  return p.t->data<float>()[offset + (p.count > 1 ? i : 0)];
}

// ------------------------------------------------------------------------------------------ kernels

struct MatMulIndices {
  size_t a = 0, a_scale = 0, a_zp = 0, b = 0, b_scale = 0, b_zp = 0, y_scale = 0, y_zp = 0;
  bool quantized_output = false;
};
constexpr MatMulIndices kMatMulInteger{0, 0, 2, 1, 0, 3, 0, 0, false};
constexpr MatMulIndices kQLinearMatMul{0, 1, 2, 3, 4, 5, 6, 7, true};

template <const MatMulIndices& kIdx>
Status InferIntMatMul(InferenceContext& ctx) {
  constexpr size_t kRequired = kIdx.quantized_output ? 8 : 2;
  for (size_t i = 0; i < kRequired; ++i) EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(i));
  const ValueType& a = ctx.input(kIdx.a);
  const ValueType& b = ctx.input(kIdx.b);
  DataType out_type = DataType::kInt32;
  if (kIdx.quantized_output) {
    out_type = ctx.input(kIdx.y_zp).dtype;
    for (size_t i : {kIdx.a_scale, kIdx.b_scale, kIdx.y_scale}) {
      if (ctx.input(i).dtype != DataType::kFloat32) return ctx.Error("scales must be float32");
    }
  }
  if (kIdx.quantized_output && out_type != DataType::kUint8 && out_type != DataType::kInt8) {
    return ctx.Error("y_zero_point dtype " + std::string(DataTypeName(out_type)) + " is not int8 or uint8");
  }
  if (b.dtype != DataType::kUint8 && b.dtype != DataType::kInt8) {
    return ctx.Error("B dtype " + std::string(DataTypeName(b.dtype)) + " is not int8 or uint8");
  }
  if (ctx.has_input(kIdx.a_zp) && ctx.input(kIdx.a_zp).dtype != a.dtype) {
    return ctx.Error("a_zero_point dtype differs from A's");
  }
  if (ctx.has_input(kIdx.b_zp) && ctx.input(kIdx.b_zp).dtype != b.dtype) {
    return ctx.Error("b_zero_point dtype differs from B's");
  }
  if (!a.rank_known || !b.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(out_type);
    return Status::Ok();
  }
  MatMulDims d;
  Status s = ComputeMatMulDims(a.dims, b.dims, &d);
  if (!s.ok()) return ctx.Error(s.message());
  ctx.output(0) = ValueType::Of(out_type, MatMulOutputShape(d));
  return Status::Ok();
}

// Converts one batch of A to int32 rows with their zero points subtracted ([M, K]), and of B likewise per
// column ([K, N]).
template <typename TA, typename TB>
void WidenOperands(const TA* a, const SideParam& azp, int64_t azp_off, const TB* b, const SideParam& bzp,
                   int64_t bzp_off, const MatMulDims& d, uint32_t* wa, uint32_t* wb) {
  for (int64_t i = 0; i < d.m; ++i) {
    const int32_t z = ParamInt<TA>(azp, azp_off, i);
    for (int64_t kk = 0; kk < d.k; ++kk) {
      wa[i * d.k + kk] = static_cast<uint32_t>(static_cast<int32_t>(a[i * d.k + kk]) - z);
    }
  }
  for (int64_t kk = 0; kk < d.k; ++kk) {
    for (int64_t j = 0; j < d.n; ++j) {
      wb[kk * d.n + j] = static_cast<uint32_t>(static_cast<int32_t>(b[kk * d.n + j]) - ParamInt<TB>(bzp, bzp_off, j));
    }
  }
}

template <const MatMulIndices& kIdx>
class IntMatMulKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return Status::Ok(); }

  Status Compute(KernelContext& ctx) const override {
    auto input = [&](size_t i) { return ctx.num_inputs() > i ? ctx.input(i) : nullptr; };
    const Tensor& a = *ctx.input(kIdx.a);
    const Tensor& b = *ctx.input(kIdx.b);
    MatMulDims d;
    Status s = ComputeMatMulDims(a.shape(), b.shape(), &d);
    if (!s.ok()) return ctx.Error(s.message());
    SideParam azp, bzp, ascale, bscale;
    EDGEAI_RETURN_IF_ERROR(Check(ctx, ResolveSideParam(input(kIdx.a_zp), "a_zero_point", true, d, &azp)));
    EDGEAI_RETURN_IF_ERROR(Check(ctx, ResolveSideParam(input(kIdx.b_zp), "b_zero_point", false, d, &bzp)));
    if (kIdx.quantized_output) {
      EDGEAI_RETURN_IF_ERROR(Check(ctx, ResolveSideParam(input(kIdx.a_scale), "a_scale", true, d, &ascale)));
      EDGEAI_RETURN_IF_ERROR(Check(ctx, ResolveSideParam(input(kIdx.b_scale), "b_scale", false, d, &bscale)));
      if (input(kIdx.y_scale)->NumElements() != 1 || input(kIdx.y_zp)->NumElements() != 1) {
        return ctx.Error("y_scale and y_zero_point must be scalars");
      }
    }
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, MatMulOutputShape(d)));
    return Visit8Bit(a.dtype(), [&](auto ta) {
      return Visit8Bit(b.dtype(), [&](auto tb) {
        using TA = typename decltype(ta)::type;
        using TB = typename decltype(tb)::type;
        if (!kIdx.quantized_output) return Run<TA, TB, int32_t>(ctx, a, b, d, azp, bzp, ascale, bscale, y);
        return Visit8Bit(y->dtype(), [&](auto ty) {
          return Run<TA, TB, typename decltype(ty)::type>(ctx, a, b, d, azp, bzp, ascale, bscale, y);
        });
      });
    });
  }

 private:
  static Status Check(KernelContext& ctx, const Status& s) { return s.ok() ? s : ctx.Error(s.message()); }

  template <typename TA, typename TB, typename TY>
  Status Run(KernelContext& ctx, const Tensor& a, const Tensor& b, const MatMulDims& d, const SideParam& azp,
             const SideParam& bzp, const SideParam& ascale, const SideParam& bscale, Tensor* y) const {
    const int64_t batches = d.out_batch.NumElements();
    const int64_t mn = d.m * d.n;
    thread_local std::vector<uint32_t> scratch;
    const size_t need = static_cast<size_t>(d.m * d.k + d.k * d.n + (kIdx.quantized_output ? mn : 0));
    if (scratch.size() < need) scratch.resize(need);
    uint32_t* wa = scratch.data();
    uint32_t* wb = wa + d.m * d.k;
    uint32_t* acc = wb + d.k * d.n;
    float y_scale = 1.0f;
    int32_t y_zp = 0;
    if (kIdx.quantized_output) {
      y_scale = ctx.input(kIdx.y_scale)->data<float>()[0];
      y_zp = static_cast<int32_t>(ctx.input(kIdx.y_zp)->data<TY>()[0]);
    }
    for (int64_t bi = 0; bi < batches; ++bi) {
      const TA* ab = a.data<TA>() + MapBatch(bi, d.out_batch, d.a_batch) * d.m * d.k;
      const TB* bb = b.data<TB>() + MapBatch(bi, d.out_batch, d.b_batch) * d.k * d.n;
      WidenOperands(ab, azp, ParamOffset(azp, d, bi), bb, bzp, ParamOffset(bzp, d, bi), d, wa, wb);
      TY* yb = y->data<TY>() + bi * mn;
      if (!kIdx.quantized_output) {
        IntGemm(d.m, d.n, d.k, wa, wb, reinterpret_cast<uint32_t*>(yb), ctx.pool());
        continue;
      }
      IntGemm(d.m, d.n, d.k, wa, wb, acc, ctx.pool());
      const int64_t as_off = ParamOffset(ascale, d, bi), bs_off = ParamOffset(bscale, d, bi);
      for (int64_t i = 0; i < d.m; ++i) {
        const float sa = ParamFloat(ascale, as_off, i);
        for (int64_t j = 0; j < d.n; ++j) {
          const float multiplier = sa * ParamFloat(bscale, bs_off, j) / y_scale;
          const float v = static_cast<float>(static_cast<int32_t>(acc[i * d.n + j])) * multiplier;
          yb[i * d.n + j] = QuantizeValue<TY, float>(v, y_zp);
        }
      }
    }
    return Status::Ok();
  }
};

}  // namespace

Status RegisterQuantizedLinearOps(OpRegistry& registry) {
  const std::vector<DataType> bytes = {DataType::kUint8, DataType::kInt8};
  EDGEAI_RETURN_IF_ERROR(registry.Register(OpDef{"MatMulInteger", "", 10, kMaxOpset, bytes, 0,
                                                 InferIntMatMul<kMatMulInteger>,
                                                 MakeKernel<IntMatMulKernel<kMatMulInteger>>}));
  EDGEAI_RETURN_IF_ERROR(registry.Register(OpDef{"QLinearMatMul", "", 10, kMaxOpset, bytes, 0,
                                                 InferIntMatMul<kQLinearMatMul>,
                                                 MakeKernel<IntMatMulKernel<kQLinearMatMul>>}));
  return RegisterQuantizedConvOps(registry);
}

}  // namespace edgeai::cpu
