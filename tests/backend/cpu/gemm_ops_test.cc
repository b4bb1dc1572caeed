// Conv, Gemm and MatMul pack constant float32 weights at kernel creation. These tests run the same node three
// ways: weights constant at creation (packed), weights known only at run time (packed per call), and a kernel
// created for one constant but given another tensor at run time (the packed copy must not be used), against
// plain reference loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"

using namespace edgeai;

namespace {


Tensor RandomTensor(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::Allocate(DataType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

enum class WeightMode { kConstant, kRuntime, kOtherConstant };

// Runs `op` with input 1 (the weights) treated as `mode` says; every other input is a run-time value.
std::vector<float> RunOp(const std::string& type, const AttributeMap& attrs, std::vector<Tensor> inputs,
                         WeightMode mode, const ThreadPool& pool) {
  const Tensor decoy = RandomTensor(inputs[1].shape(), 999);
  std::vector<ValueType> types(inputs.size());
  std::vector<const ValueType*> type_ptrs;
  std::vector<const Tensor*> load_values, run_values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    types[i] = ValueType::Of(inputs[i].dtype(), inputs[i].shape());
    type_ptrs.push_back(&types[i]);
    run_values.push_back(&inputs[i]);
    const Tensor* at_load = nullptr;
    if (i == 1 && mode == WeightMode::kConstant) at_load = &inputs[1];
    if (i == 1 && mode == WeightMode::kOtherConstant) at_load = &decoy;
    load_values.push_back(at_load);
  }
  std::vector<DataType> dtypes(inputs.size(), DataType::kFloat32);
  const OpDef* def = CpuOpRegistry().Find("", type, 13, dtypes).value();
  InferenceContext ctx("n", type, 13, attrs, type_ptrs, load_values, 1);
  REQUIRE(def->infer(ctx).ok());
  std::unique_ptr<Kernel> kernel = def->create(ctx).value();
  HeapKernelContext kctx(type, run_values, ctx.outputs(), pool);
  Status status;
  pool.Execute([&] { status = kernel->Compute(kctx); });
  INFO(status.ToString());
  REQUIRE(status.ok());
  const Tensor& y = kctx.outputs()[0];
  return std::vector<float>(y.data<float>(), y.data<float>() + y.NumElements());
}

void CheckClose(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= 1e-4 * (1.0 + std::fabs(want[i])))) ++bad;
  }
  CHECK(bad == 0);
}

struct Conv2d {
  int64_t n, c, h, w, m, kh, kw, stride, pad, dilation, group;
};

// Y = conv(X, W) + B by definition.
std::vector<double> ReferenceConv(const Conv2d& p, const Tensor& x, const Tensor& wt, const Tensor& b) {
  const int64_t oh = (p.h + 2 * p.pad - p.dilation * (p.kh - 1) - 1) / p.stride + 1;
  const int64_t ow = (p.w + 2 * p.pad - p.dilation * (p.kw - 1) - 1) / p.stride + 1;
  const int64_t cpg = p.c / p.group, mpg = p.m / p.group;
  std::vector<double> y(static_cast<size_t>(p.n * p.m * oh * ow));
  const float* xv = x.data<float>();
  const float* wv = wt.data<float>();
  for (int64_t img = 0; img < p.n; ++img) {
    for (int64_t m = 0; m < p.m; ++m) {
      const int64_t g = m / mpg;
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j) {
          double sum = b.data<float>()[m];
          for (int64_t c = 0; c < cpg; ++c) {
            for (int64_t u = 0; u < p.kh; ++u) {
              for (int64_t v = 0; v < p.kw; ++v) {
                const int64_t ih = i * p.stride + u * p.dilation - p.pad, iw = j * p.stride + v * p.dilation - p.pad;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                sum += static_cast<double>(xv[((img * p.c + g * cpg + c) * p.h + ih) * p.w + iw]) *
                       wv[((m * cpg + c) * p.kh + u) * p.kw + v];
              }
            }
          }
          y[static_cast<size_t>(((img * p.m + m) * oh + i) * ow + j)] = sum;
        }
      }
    }
  }
  return y;
}

}  // namespace

TEST_CASE("Conv gives the same results with packed, run-time and replaced weights", "[cpu][conv][gemm]") {
  ThreadPool pool1(1), pool2(2);
  const Conv2d cases[] = {
      {1, 16, 12, 12, 20, 3, 3, 1, 1, 1, 1},  // im2col path, M not a multiple of the register tile
      {2, 8, 9, 11, 6, 3, 2, 2, 1, 2, 1},     // strided, dilated, two images
      {1, 32, 7, 7, 64, 1, 1, 1, 0, 1, 1},    // pointwise: B is X itself
      {1, 12, 10, 10, 18, 3, 3, 1, 1, 1, 3},  // grouped: one packed matrix per group
      {3, 6, 5, 5, 4, 5, 5, 1, 2, 1, 2},      // several (image, group) items run in parallel
  };
  uint32_t seed = 1;
  for (const Conv2d& p : cases) {
    const Tensor x = RandomTensor(Shape{p.n, p.c, p.h, p.w}, seed++);
    const Tensor w = RandomTensor(Shape{p.m, p.c / p.group, p.kh, p.kw}, seed++);
    const Tensor b = RandomTensor(Shape{p.m}, seed++);
    AttributeMap attrs;
    attrs.Set("strides", IntsAttr({p.stride, p.stride}));
    attrs.Set("pads", IntsAttr({p.pad, p.pad, p.pad, p.pad}));
    attrs.Set("dilations", IntsAttr({p.dilation, p.dilation}));
    attrs.Set("group", IntAttr(p.group));
    const std::vector<double> want = ReferenceConv(p, x, w, b);
    for (WeightMode mode : {WeightMode::kConstant, WeightMode::kRuntime, WeightMode::kOtherConstant}) {
      for (const ThreadPool* pool : {&pool1, &pool2}) {
        INFO("case c=" << p.c << " m=" << p.m << " group=" << p.group << " mode=" << static_cast<int>(mode)
                       << " threads=" << pool->threads());
        CheckClose(RunOp("Conv", attrs, {x, w, b}, mode, *pool), want);
      }
    }
  }
}

TEST_CASE("Gemm and MatMul give the same results with packed, run-time and replaced weights",
          "[cpu][matmul][gemm]") {
  ThreadPool pool(2);
  const int64_t m = 37, k = 300, n = 45;
  const Tensor a = RandomTensor(Shape{m, k}, 11);
  for (int trans_b = 0; trans_b < 2; ++trans_b) {
    const Tensor bt = RandomTensor(trans_b ? Shape{n, k} : Shape{k, n}, 12);
    const Tensor c = RandomTensor(Shape{n}, 13);
    std::vector<double> want(static_cast<size_t>(m * n)), want_mm(want.size());
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t q = 0; q < k; ++q) {
          sum += static_cast<double>(a.data<float>()[i * k + q]) *
                 bt.data<float>()[trans_b ? j * k + q : q * n + j];
        }
        want[static_cast<size_t>(i * n + j)] = 0.5 * sum + 2.0 * c.data<float>()[j];
        want_mm[static_cast<size_t>(i * n + j)] = sum;
      }
    }
    AttributeMap attrs;
    attrs.Set("transB", IntAttr(trans_b));
    attrs.Set("alpha", FloatAttr(0.5f));
    attrs.Set("beta", FloatAttr(2.0f));
    for (WeightMode mode : {WeightMode::kConstant, WeightMode::kRuntime, WeightMode::kOtherConstant}) {
      INFO("transB=" << trans_b << " mode=" << static_cast<int>(mode));
      CheckClose(RunOp("Gemm", attrs, {a, bt, c}, mode, pool), want);
      if (!trans_b) CheckClose(RunOp("MatMul", {}, {a, bt}, mode, pool), want_mm);
    }
  }
}
