// com.edgeai.TransposeMatMul (backend/cpu/transpose_matmul.cc) must equal Transpose(A), Transpose(B), MatMul,
// a scale and a Transpose of the product, for every perm it accepts, with broadcast batch dimensions.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

Tensor RunOne(const SingleOp& op, const std::vector<Tensor>& inputs, const ThreadPool& pool) {
  Result<std::vector<Tensor>> out = RunSingleOp(CpuOpRegistry(), op, inputs, 1, pool);
  INFO(op.op_type << ": " << out.status().ToString());
  REQUIRE(out.ok());
  return (*out)[0];
}

Tensor Transposed(const Tensor& x, const std::vector<int64_t>& perm, const ThreadPool& pool) {
  if (perm.empty()) return x;
  SingleOp t{"Transpose", 13};
  t.attrs.Set("perm", IntsAttr(perm));
  return RunOne(t, {x}, pool);
}

struct Case {
  Shape a, b;
  std::vector<int64_t> perm_a, perm_b, perm_y;
  float alpha;
};

void Check(const Case& c, const ThreadPool& pool) {
  INFO("A " << c.a.ToString() << " B " << c.b.ToString() << " alpha " << c.alpha << " threads " << pool.threads());
  const Tensor a = RandomF32(c.a, 1), b = RandomF32(c.b, 2);
  SingleOp matmul{"MatMul", 13};
  Tensor product = RunOne(matmul, {Transposed(a, c.perm_a, pool), Transposed(b, c.perm_b, pool)}, pool);
  for (int64_t i = 0; i < product.NumElements(); ++i) product.data<float>()[i] *= c.alpha;
  const Tensor expected = Transposed(product, c.perm_y, pool);

  SingleOp fused{"TransposeMatMul", 1};
  fused.domain = "com.edgeai";
  if (!c.perm_a.empty()) fused.attrs.Set("perm_a", IntsAttr(c.perm_a));
  if (!c.perm_b.empty()) fused.attrs.Set("perm_b", IntsAttr(c.perm_b));
  if (!c.perm_y.empty()) fused.attrs.Set("perm_y", IntsAttr(c.perm_y));
  if (c.alpha != 1.0f) fused.attrs.Set("alpha", FloatAttr(c.alpha));
  const Tensor actual = RunOne(fused, {a, b}, pool);
  REQUIRE(actual.shape() == expected.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    const float e = expected.data<float>()[i], g = actual.data<float>()[i];
    if (!(std::fabs(g - e) <= 1e-4f * std::max(1.0f, std::fabs(e)))) ++bad;
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("TransposeMatMul equals the transposes around a MatMul", "[cpu][transpose_matmul]") {
  ThreadPool pool1(1), pool2(2);
  const std::vector<Case> cases = {
      // Attention heads: Q [seq, heads, d] -> [heads, seq, d]; K -> [heads, d, seq]; the product back to
      // [seq, heads, d].
      {Shape{37, 4, 24}, Shape{37, 4, 24}, {1, 0, 2}, {1, 2, 0}, {}, 0.125f},
      {Shape{4, 37, 37}, Shape{37, 4, 24}, {}, {1, 0, 2}, {1, 0, 2}, 1.0f},
      {Shape{2, 19, 3, 16}, Shape{2, 19, 3, 16}, {0, 2, 1, 3}, {0, 2, 3, 1}, {}, 1.0f},
      // A read transposed (its last axis becomes the row axis), B plain, a broadcast batch.
      {Shape{3, 33, 20}, Shape{33, 17}, {0, 2, 1}, {}, {}, 2.0f},
      {Shape{1, 20, 33}, Shape{5, 33, 18}, {}, {}, {1, 0, 2}, 1.0f},
      // Plain 2-D with only a scale, and single rows and columns.
      {Shape{1, 40}, Shape{40, 9}, {}, {}, {}, 0.5f},
      {Shape{40, 1}, Shape{40, 3}, {1, 0}, {}, {}, 1.0f},
      {Shape{6, 40}, Shape{1, 40}, {}, {1, 0}, {}, 1.0f},
  };
  for (const ThreadPool* pool : {&pool1, &pool2}) {
    for (const Case& c : cases) Check(c, *pool);
  }
}

TEST_CASE("TransposeMatMul refuses perms it cannot stride and mismatched shapes", "[cpu][transpose_matmul]") {
  SingleOp fused{"TransposeMatMul", 1};
  fused.domain = "com.edgeai";
  fused.attrs.Set("perm_y", IntsAttr({0, 2, 1}));
  auto moved = RunSingleOp(CpuOpRegistry(), fused, {RandomF32(Shape{2, 3, 4}, 1), RandomF32(Shape{2, 4, 5}, 2)}, 1,
                           TestPool());
  REQUIRE_FALSE(moved.ok());
  CHECK(Contains(moved.status(), "perm_y must keep the last axis last"));

  SingleOp scattered{"TransposeMatMul", 1};
  scattered.domain = "com.edgeai";
  scattered.attrs.Set("perm_a", IntsAttr({2, 0, 1}));  // the source's last axis becomes a batch axis
  auto bad = RunSingleOp(CpuOpRegistry(), scattered, {RandomF32(Shape{3, 4, 2}, 1), RandomF32(Shape{2, 4, 5}, 2)},
                         1, TestPool());
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status(), "moves the source's last axis"));

  SingleOp plain{"TransposeMatMul", 1};
  plain.domain = "com.edgeai";
  plain.attrs.Set("perm_a", IntsAttr({0, 0}));
  auto not_perm = RunSingleOp(CpuOpRegistry(), plain, {RandomF32(Shape{3, 4}, 1), RandomF32(Shape{4, 5}, 2)}, 1,
                              TestPool());
  REQUIRE_FALSE(not_perm.ok());
  CHECK(Contains(not_perm.status(), "perm_a is not a permutation"));

  SingleOp inner{"TransposeMatMul", 1};
  inner.domain = "com.edgeai";
  auto mismatch = RunSingleOp(CpuOpRegistry(), inner, {RandomF32(Shape{3, 4}, 1), RandomF32(Shape{5, 6}, 2)}, 1,
                              TestPool());
  REQUIRE_FALSE(mismatch.ok());
  CHECK(Contains(mismatch.status(), "inner dimensions differ"));
}
