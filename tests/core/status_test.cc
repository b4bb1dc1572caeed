#include <catch2/catch.hpp>

#include "edgeai/status.h"
#include "edgeai/tensor.h"

using namespace edgeai;

TEST_CASE("Status OK is free and errors carry code and message", "[core]") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "ok");
  Status err = InvalidArgument("tensor 'x' has the wrong shape");
  CHECK_FALSE(err.ok());
  CHECK(err.code() == StatusCode::kInvalidArgument);
  CHECK(err.ToString() == "invalid_argument: tensor 'x' has the wrong shape");
  CHECK(err.WithContext("model m").message() == "model m: tensor 'x' has the wrong shape");
  Status copy = err;
  CHECK(copy.message() == err.message());
}

static Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

static Status UseHalf(int x, int* out) {
  EDGEAI_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST_CASE("Result carries a value or an error", "[core]") {
  int v = 0;
  CHECK(UseHalf(8, &v).ok());
  CHECK(v == 4);
  CHECK(UseHalf(3, &v).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Shape keeps small ranks inline and grows past them", "[core]") {
  Shape s{2, 3, 4};
  CHECK(s.NumElements() == 24);
  CHECK(s.ToString() == "[2,3,4]");
  for (int i = 0; i < 10; ++i) s.push_back(1);
  CHECK(s.rank() == 13);
  CHECK(s.NumElements() == 24);
  s.erase(0);
  CHECK(s[0] == 3);
  s.insert(0, 5);
  CHECK(s[0] == 5);
  CHECK(Shape{} .NumElements() == 1);
}

TEST_CASE("Tensor storage is aligned and views share memory", "[core]") {
  auto t = Tensor::Allocate(DataType::kFloat32, Shape{3, 5});
  REQUIRE(t.ok());
  CHECK(reinterpret_cast<uintptr_t>(t->raw_data()) % Tensor::kAlignment == 0);
  CHECK(t->ByteSize() == 60);
  Tensor view = Tensor::View(DataType::kFloat32, Shape{15}, t->raw_data());
  view.data<float>()[7] = 2.5f;
  CHECK(t->data<float>()[7] == 2.5f);
  auto huge = Tensor::Allocate(DataType::kFloat32, Shape{int64_t{1} << 40, int64_t{1} << 40});
  CHECK(huge.status().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("float16 conversion round-trips representative values", "[core]") {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    CHECK(HalfToFloat(FloatToHalf(f)) == f);
  }
  CHECK(HalfToFloat(FloatToHalf(1e6f)) == std::numeric_limits<float>::infinity());
}
