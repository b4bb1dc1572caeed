#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

template <typename T>
std::vector<T> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-20, 20);
  std::vector<T> v(static_cast<size_t>(n));
  for (T& x : v) x = static_cast<T>(dist(rng)) / static_cast<T>(std::is_integral_v<T> ? 1 : 8);
  return v;
}

// numpy.matmul by definition: promotes 1-D operands, broadcasts batch dims, drops the promoted dims.
template <typename T>
std::vector<T> ReferenceMatMul(const Shape& as, const std::vector<T>& a, const Shape& bs, const std::vector<T>& b,
                               Shape* out) {
  Shape ad = as, bd = bs;
  if (ad.rank() == 1) ad.insert(0, 1);
  if (bd.rank() == 1) bd.push_back(1);
  const size_t batch_rank = std::max(ad.rank(), bd.rank()) - 2;
  while (ad.rank() < batch_rank + 2) ad.insert(0, 1);
  while (bd.rank() < batch_rank + 2) bd.insert(0, 1);
  const int64_t m = ad[batch_rank], k = ad[batch_rank + 1], n = bd[batch_rank + 1];
  Shape batch;
  for (size_t i = 0; i < batch_rank; ++i) batch.push_back(std::max(ad[i], bd[i]));
  *out = batch;
  if (as.rank() > 1) out->push_back(m);
  if (bs.rank() > 1) out->push_back(n);
  std::vector<T> y;
  for (int64_t bi = 0; bi < batch.NumElements(); ++bi) {
    int64_t a_off = 0, b_off = 0;
    for (size_t i = 0, r = bi, div = batch.NumElements(); i < batch_rank; ++i) {
      div /= batch[i];
      int64_t idx = (r / div) % batch[i];
      a_off = a_off * ad[i] + (ad[i] == 1 ? 0 : idx);
      b_off = b_off * bd[i] + (bd[i] == 1 ? 0 : idx);
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += a[(a_off * m + i) * k + p] * b[(b_off * k + p) * n + j];
        y.push_back(acc);
      }
    }
  }
  return y;
}

template <typename T>
void CheckMatMul(const Shape& as, const Shape& bs, int opset = 13) {
  INFO("A " << as.ToString() << " x B " << bs.ToString());
  ThreadPool pool(2);
  std::vector<T> a = Random<T>(as.NumElements(), 1), b = Random<T>(bs.NumElements(), 2);
  auto y = RunSingleOp(CpuOpRegistry(), MakeSingleOp("MatMul", opset),
                       {Tensor::FromVector(as, a), Tensor::FromVector(bs, b)}, 1, pool);
  REQUIRE(y.ok());
  Shape out;
  std::vector<T> expected = ReferenceMatMul(as, a, bs, b, &out);
  const Tensor& t = (*y)[0];
  REQUIRE(t.shape() == out);
  REQUIRE(t.NumElements() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    // Inputs are multiples of 1/8 and sums short, so float results are exact.
    REQUIRE(t.data<T>()[i] == expected[i]);
  }
}

// Y = alpha * A' * B' + beta * C with C broadcast from c_dims (empty optional = no C).
template <typename T>
void CheckGemm(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float alpha, float beta, const Shape* c_dims,
               int opset = 13) {
  INFO("Gemm m=" << m << " n=" << n << " k=" << k << " transA=" << ta << " transB=" << tb);
  ThreadPool pool(2);
  Shape as = ta ? Shape{k, m} : Shape{m, k}, bs = tb ? Shape{n, k} : Shape{k, n};
  std::vector<T> a = Random<T>(as.NumElements(), 3), b = Random<T>(bs.NumElements(), 4);
  std::vector<Tensor> inputs = {Tensor::FromVector(as, a), Tensor::FromVector(bs, b)};
  std::vector<T> c;
  if (c_dims) {
    c = Random<T>(c_dims->NumElements(), 5);
    inputs.push_back(Tensor::FromVector(*c_dims, c));
  }
  SingleOp op = MakeSingleOp("Gemm", opset);
  if (ta) op.attrs.Set("transA", IntAttr(1));
  if (tb) op.attrs.Set("transB", IntAttr(1));
  if (alpha != 1.0f) op.attrs.Set("alpha", FloatAttr(alpha));
  if (beta != 1.0f) op.attrs.Set("beta", FloatAttr(beta));
  auto y = RunSingleOp(CpuOpRegistry(), op, inputs, 1, pool);
  REQUIRE(y.ok());
  const Tensor& t = (*y)[0];
  REQUIRE(t.shape() == Shape{m, n});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
      T expected = static_cast<T>(alpha) * acc;
      if (c_dims) {
        const Shape& cd = *c_dims;
        int64_t ci = cd.rank() == 2 && cd[0] != 1 ? i : 0;
        int64_t cj = cd.rank() >= 1 && cd[cd.rank() - 1] != 1 ? j : 0;
        int64_t cols = cd.rank() >= 1 ? cd[cd.rank() - 1] : 1;
        expected += static_cast<T>(beta) * c[ci * cols + cj];
      }
      INFO("(" << i << "," << j << ")");
      const double got = double(t.data<T>()[i * n + j]), want = double(expected);
      REQUIRE(std::abs(got - want) <= 1e-4 * std::max(1.0, std::abs(want)));
    }
  }
}

}  // namespace

TEST_CASE("MatMul 2-D, 1-D promotion and batched broadcasting match numpy semantics", "[cpu][matmul]") {
  CheckMatMul<float>({3, 4}, {4, 5});
  CheckMatMul<float>({4}, {4, 5});      // [5]
  CheckMatMul<float>({3, 4}, {4});      // [3]
  CheckMatMul<float>({4}, {4});         // scalar
  CheckMatMul<float>({2, 3, 4}, {4, 5});  // A's batches fold into one GEMM
  CheckMatMul<float>({2, 3, 4}, {4});     // [2,3]
  CheckMatMul<float>({4}, {2, 4, 5});     // [2,5]
  CheckMatMul<float>({3, 4}, {2, 4, 5});  // B batched, A broadcast
  CheckMatMul<float>({2, 1, 3, 4}, {1, 5, 4, 2});
  CheckMatMul<float>({1, 1, 3, 4}, {1, 4, 2});  // B's batch of 1 still folds
  CheckMatMul<float>({9, 3, 4}, {9, 4, 6});     // enough batches for the parallel-items path
  CheckMatMul<float>({2, 0, 4}, {4, 3});        // empty
  CheckMatMul<float>({2, 3, 0}, {2, 0, 3});     // K = 0 gives zeros
  CheckMatMul<float>({64, 48}, {48, 80}, 1);
  CheckMatMul<double>({2, 3, 5}, {2, 5, 4}, 9);
  CheckMatMul<int32_t>({2, 3, 4}, {4, 5});
  CheckMatMul<int64_t>({3, 2, 3, 4}, {2, 4, 2});
  CheckMatMul<uint32_t>({4}, {4, 3});
  CheckMatMul<uint64_t>({7, 2, 3}, {7, 3, 2});
}

TEST_CASE("MatMul rejects mismatched shapes and unsupported types", "[cpu][matmul]") {
  ThreadPool pool(2);
  auto run = [&](const Shape& as, const Shape& bs, int opset = 13) {
    return RunSingleOp(CpuOpRegistry(), MakeSingleOp("MatMul", opset),
                       {Tensor::FromVector(as, Random<float>(as.NumElements(), 1)),
                        Tensor::FromVector(bs, Random<float>(bs.NumElements(), 2))},
                       1, pool)
        .status();
  };
  Status s = run({3, 4}, {5, 6});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("inner dimensions differ"));
  CHECK_THAT(run({2, 3, 4}, {3, 4, 5}).message(), Catch::Contains("cannot be broadcast"));
  CHECK_THAT(run({}, {3}).message(), Catch::Contains("rank >= 1"));
  Tensor i32 = Tensor::FromVector<int32_t>(Shape{2, 2}, {1, 2, 3, 4});
  CHECK(RunSingleOp(CpuOpRegistry(), MakeSingleOp("MatMul", 8), {i32, i32}, 1, pool).status().code() ==
        StatusCode::kUnimplemented);  // integers arrive at opset 9

  auto def = CpuOpRegistry().Find("", "MatMul", 13, {DataType::kFloat32, DataType::kFloat32});
  REQUIRE(def.ok());
  ValueType a = ValueType::Of(DataType::kFloat32, Shape{-1, 8, 16});
  ValueType b = ValueType::Of(DataType::kFloat32, Shape{16, -1});
  InferenceContext ctx("m", "MatMul", 13, AttributeMap{}, {&a, &b}, {nullptr, nullptr}, 1);
  REQUIRE((*def)->infer(ctx).ok());
  CHECK(ctx.output(0).dims == Shape{-1, 8, -1});
}

TEST_CASE("Gemm with transposes, alpha, beta and broadcast C", "[cpu][matmul]") {
  const Shape full{3, 5}, row{5}, col{3, 1}, scalar{}, one{1};
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      CheckGemm<float>(3, 5, 4, ta, tb, 1.0f, 1.0f, &full);
      CheckGemm<float>(3, 5, 4, ta, tb, 0.5f, -2.0f, &row);
      CheckGemm<double>(3, 5, 4, ta, tb, 2.0f, 0.25f, &col);
      CheckGemm<int32_t>(3, 5, 4, ta, tb, 2.0f, 3.0f, &full);
    }
  }
  CheckGemm<float>(3, 5, 4, false, true, 1.0f, 1.0f, &scalar);
  CheckGemm<float>(3, 5, 4, false, false, 1.0f, 1.0f, &one);
  CheckGemm<float>(3, 5, 4, false, false, 1.0f, 0.0f, &full);   // beta 0 ignores C
  CheckGemm<float>(3, 5, 4, true, false, 1.5f, 1.0f, nullptr);  // C optional since opset 11
  const Shape row3{3};
  CheckGemm<int64_t>(4, 3, 6, false, true, 1.0f, 1.0f, &row3, 9);
  const Shape wide{90};
  CheckGemm<float>(70, 90, 33, false, true, 1.0f, 1.0f, &wide, 7);
}

TEST_CASE("Gemm opset rules for C and shape errors", "[cpu][matmul]") {
  ThreadPool pool(2);
  Tensor a = Tensor::FromVector<float>(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::FromVector<float>(Shape{3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor c_row = Tensor::FromVector<float>(Shape{2}, {10, 20});
  Tensor c_full = Tensor::FromVector<float>(Shape{2, 2}, {10, 20, 30, 40});
  auto run = [&](int opset, std::vector<Tensor> in, AttributeMap attrs = {}) {
    return RunSingleOp(CpuOpRegistry(), MakeSingleOp("Gemm", opset, attrs), in, 1, pool);
  };
  // Opsets before 11 require C.
  CHECK_THAT(run(9, {a, b}).status().message(), Catch::Contains("missing required input #2"));
  // Opsets 1..6 broadcast C only with broadcast=1.
  CHECK_THAT(run(6, {a, b, c_row}).status().message(), Catch::Contains("broadcast=1"));
  AttributeMap bcast;
  bcast.Set("broadcast", IntAttr(1));
  auto y = run(6, {a, b, c_row}, bcast);
  REQUIRE(y.ok());
  const float* v = (*y)[0].data<float>();
  CHECK(std::vector<float>(v, v + 4) == std::vector<float>{14, 25, 20, 31});
  y = run(1, {a, b, c_full});
  REQUIRE(y.ok());
  v = (*y)[0].data<float>();
  CHECK(std::vector<float>(v, v + 4) == std::vector<float>{14, 25, 40, 51});

  CHECK_THAT(run(13, {a, a}).status().message(), Catch::Contains("inner dimensions differ"));
  Tensor c_bad = Tensor::FromVector<float>(Shape{3}, {1, 2, 3});
  CHECK_THAT(run(13, {a, b, c_bad}).status().message(), Catch::Contains("not unidirectionally broadcastable"));
  Tensor a3 = Tensor::FromVector<float>(Shape{1, 2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_THAT(run(13, {a3, b}).status().message(), Catch::Contains("2-D"));
  Tensor bd = Tensor::FromVector<double>(Shape{3, 2}, {1, 0, 0, 1, 1, 1});
  CHECK_THAT(run(13, {a, bd}).status().message(), Catch::Contains("dtype"));
  Tensor ai = Tensor::FromVector<int32_t>(Shape{1, 1}, {1});
  CHECK(run(8, {ai, ai, ai}).status().code() == StatusCode::kUnimplemented);  // integers arrive at opset 9
}
