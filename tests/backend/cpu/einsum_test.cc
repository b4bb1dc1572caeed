#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"

using namespace edgeai;

namespace {

SingleOp EinsumOp(const std::string& equation) {
  SingleOp op;
  op.op_type = "Einsum";
  op.opset = 12;
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = equation;
  op.attrs.Set("equation", a);
  return op;
}

// (i + offset) * 0.5 - 1 for i = 0, 1, ...: the inputs the expected values below were computed from (numpy).
template <typename T = float>
Tensor Ramp(const std::vector<int64_t>& dims, int offset) {
  Shape shape(dims);
  std::vector<T> v(static_cast<size_t>(shape.NumElements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>((static_cast<double>(i) + offset) * 0.5 - 1);
  return Tensor::FromVector<T>(shape, v);
}

template <typename T = float>
void CheckEinsum(const std::string& equation, const std::vector<std::vector<int64_t>>& shapes,
                 const std::vector<int64_t>& out_dims, const std::vector<double>& expected) {
  INFO(equation);
  ThreadPool pool(2);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(Ramp<T>(shapes[i], static_cast<int>(i)));
  auto out = RunSingleOp(CpuOpRegistry(), EinsumOp(equation), inputs, 1, pool);
  REQUIRE(out.ok());
  const Tensor& y = (*out)[0];
  CHECK(y.shape() == Shape(out_dims));
  REQUIRE(y.NumElements() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) CHECK(y.data<T>()[i] == Approx(expected[i]).margin(1e-5));
}

Status EinsumError(const std::string& equation, const std::vector<std::vector<int64_t>>& shapes) {
  ThreadPool pool(2);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(Ramp(shapes[i], static_cast<int>(i)));
  auto out = RunSingleOp(CpuOpRegistry(), EinsumOp(equation), inputs, 1, pool);
  return out.ok() ? Status::Ok() : out.status();
}

}  // namespace

TEST_CASE("Einsum contracts pairs as batched products", "[cpu][einsum]") {
  CheckEinsum("bij,bjk->bik", {{2, 2, 3}, {1, 3, 2}}, {2, 2, 2}, {0.25, -0.5, 2.5, 4, 4.75, 8.5, 7, 13});
  // The right operand is [batch, N, K]: used in place through a transposed product.
  CheckEinsum("bhqd,bhkd->bhqk", {{1, 2, 2, 3}, {1, 2, 3, 3}}, {1, 2, 2, 3},
              {0.5, -1.75, -4, 0.5, 5, 9.5, 34.25, 45.5, 56.75, 54.5, 72.5, 90.5});
  CheckEinsum("i,j->ij", {{2}, {3}}, {2, 3}, {0.5, 0, -0.5, 0.25, 0, -0.25});
  CheckEinsum("ij,jk,kl->il", {{2, 3}, {3, 2}, {2, 2}}, {2, 2}, {-0.5, -0.625, 4, 7.25});
  CheckEinsum<double>("b i j , b j k -> b i k", {{2, 2, 3}, {1, 3, 2}}, {2, 2, 2},
                      {0.25, -0.5, 2.5, 4, 4.75, 8.5, 7, 13});
}

TEST_CASE("Einsum handles implicit outputs, ellipsis broadcasting and diagonals", "[cpu][einsum]") {
  CheckEinsum("...ij,...jk", {{2, 1, 2, 3}, {4, 3, 2}}, {2, 4, 2, 2},
              {0.25,  -0.5, 2.5,   4,  -4.25, -5,  11.5, 13,  -8.75, -9.5, 20.5, 22,  -13.25, -14, 29.5, 31,
               4.75,  8.5,  7,     13, 27.25, 31,  43,   49,  49.75, 53.5, 79,   85,  72.25,  76,  115,  121});
  CheckEinsum("ba", {{2, 3}}, {3, 2}, {-1, 0.5, -0.5, 1, 0, 1.5});
  CheckEinsum("ii->i", {{3, 3}}, {3}, {-1, 1, 3});
  CheckEinsum("ii", {{3, 3}}, {}, {3});
  CheckEinsum("ij->", {{2, 3}}, {}, {1.5});
  CheckEinsum("iij,jk->ki", {{2, 2, 3}, {3, 2}}, {2, 2}, {0.25, 7, -0.5, 13});
}

TEST_CASE("Einsum computes on integers", "[cpu][einsum]") {
  ThreadPool pool(2);
  auto out = RunSingleOp(CpuOpRegistry(), EinsumOp("ij,j->i"),
                         {Tensor::FromVector<int64_t>(Shape{2, 3}, {0, 1, 2, 3, 4, 5}),
                          Tensor::FromVector<int64_t>(Shape{3}, {1, -2, 3})},
                         1, pool);
  REQUIRE(out.ok());
  CHECK((*out)[0].dtype() == DataType::kInt64);
  CHECK((*out)[0].data<int64_t>()[0] == 4);
  CHECK((*out)[0].data<int64_t>()[1] == 10);
}

TEST_CASE("Einsum rejects malformed equations and mismatched shapes", "[cpu][einsum]") {
  Status s = EinsumError("ij,jk->ik", {{2, 3}, {4, 2}});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("label 'j'"));
  CHECK_THAT(EinsumError("ijk->i", {{2, 3}}).message(), Catch::Contains("does not fit input 0"));
  CHECK_THAT(EinsumError("ij->ix", {{2, 3}}).message(), Catch::Contains("appears in no input"));
  CHECK_THAT(EinsumError("i1->i", {{2}}).message(), Catch::Contains("invalid term"));
  CHECK_THAT(EinsumError("ij,jk->ik", {{2, 3}}).message(), Catch::Contains("2 terms for 1 inputs"));
  CHECK_THAT(EinsumError("ii->i", {{2, 3}}).message(), Catch::Contains("different sizes"));
}

TEST_CASE("Einsum shape inference handles unknown dims and ranks", "[cpu][einsum]") {
  auto def = CpuOpRegistry().Find("", "Einsum", 12, {DataType::kFloat32, DataType::kFloat32});
  REQUIRE(def.ok());
  auto infer = [&](const std::string& equation, const ValueType& a, const ValueType& b, ValueType* out) {
    SingleOp op = EinsumOp(equation);
    InferenceContext ctx("e", "Einsum", 12, op.attrs, {&a, &b}, {nullptr, nullptr}, 1);
    Status s = (*def)->infer(ctx);
    *out = ctx.output(0);
    return s;
  };
  ValueType out;
  ValueType a = ValueType::Of(DataType::kFloat32, Shape{-1, 2, -1});
  ValueType b = ValueType::Of(DataType::kFloat32, Shape{5, -1, 4});
  REQUIRE(infer("bij,bjk->bik", a, b, &out).ok());
  CHECK(out.dims == Shape{5, 2, 4});
  ValueType unknown = ValueType::UnknownRank(DataType::kFloat32);
  ValueType m = ValueType::Of(DataType::kFloat32, Shape{3, 4});
  REQUIRE(infer("ij,jk", unknown, m, &out).ok());
  CHECK(out.rank_known);
  CHECK(out.dims == Shape{-1, 4});
  REQUIRE(infer("...ij,jk", unknown, m, &out).ok());
  CHECK_FALSE(out.rank_known);
  CHECK_FALSE(infer("ij,jk", ValueType::Of(DataType::kFloat32, Shape{2, 5}), m, &out).ok());
}
