#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::TypedValues;

Result<std::vector<Tensor>> RunCastOp(const std::string& op, const std::vector<Tensor>& inputs, int opset,
                                      const AttributeMap& attrs, size_t outputs = 1) {
  return test::RunOp(op, opset, attrs, inputs, outputs);
}

AttributeMap To(DataType type) {
  AttributeMap attrs;
  attrs.Set("to", test::IntAttr(static_cast<int64_t>(type)));
  return attrs;
}

Tensor Cast(const Tensor& x, DataType type, int opset = 13) {
  auto result = RunCastOp("Cast", {x}, opset, To(type));
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return result.value()[0];
}

// Element i of any castable tensor, as a double (half types decoded).
double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32: return t.data<float>()[i];
    case DataType::kFloat64: return t.data<double>()[i];
    case DataType::kFloat16: return HalfToFloat(t.data<uint16_t>()[i]);
    case DataType::kBFloat16: {
      uint32_t bits = static_cast<uint32_t>(t.data<uint16_t>()[i]) << 16;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case DataType::kInt8: return t.data<int8_t>()[i];
    case DataType::kInt16: return t.data<int16_t>()[i];
    case DataType::kInt32: return t.data<int32_t>()[i];
    case DataType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kUint8: return t.data<uint8_t>()[i];
    case DataType::kUint16: return t.data<uint16_t>()[i];
    case DataType::kUint32: return t.data<uint32_t>()[i];
    case DataType::kUint64: return static_cast<double>(t.data<uint64_t>()[i]);
    case DataType::kBool: return t.data<bool>()[i] ? 1.0 : 0.0;
    default: return std::nan("");
  }
}

const DataType kAllTypes[] = {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16, DataType::kBFloat16,
                              DataType::kInt8,    DataType::kInt16,   DataType::kInt32,   DataType::kInt64,
                              DataType::kUint8,   DataType::kUint16,  DataType::kUint32,  DataType::kUint64,
                              DataType::kBool};

}  // namespace

TEST_CASE("Cast converts every pair of dtypes", "[cpu][cast]") {
  const std::vector<double> small = {0, 1, 2, 3, 100, 7};  // exact in every numeric type
  for (DataType from : kAllTypes) {
    Tensor x = Cast(Tensor::FromVector<double>(Shape{2, 3}, small), from);
    for (DataType to : kAllTypes) {
      Tensor y = Cast(x, to);
      INFO(DataTypeName(from) << " -> " << DataTypeName(to));
      REQUIRE(y.dtype() == to);
      REQUIRE(y.shape() == Shape{2, 3});
      for (int64_t i = 0; i < 6; ++i) {
        double source = ElementAsDouble(x, i);
        double expected = to == DataType::kBool ? (source != 0 ? 1.0 : 0.0) : source;
        REQUIRE(ElementAsDouble(y, i) == expected);
      }
    }
  }
}

TEST_CASE("Cast follows numpy for floats, bools and wrapping", "[cpu][cast]") {
  Tensor f = Tensor::FromVector<float>(Shape{6}, {300.0f, -1.0f, 1.7f, -1.7f, 2.5f, -0.5f});
  CHECK(TypedValues<int32_t>(Cast(f, DataType::kInt32)) == std::vector<int32_t>{300, -1, 1, -1, 2, 0});
  CHECK(TypedValues<uint8_t>(Cast(f, DataType::kUint8)) == std::vector<uint8_t>{44, 255, 1, 255, 2, 0});
  CHECK(TypedValues<int64_t>(Cast(f, DataType::kInt64)) == std::vector<int64_t>{300, -1, 1, -1, 2, 0});
  CHECK(TypedValues<int8_t>(Cast(Tensor::FromVector<int32_t>(Shape{2}, {300, -129}), DataType::kInt8)) ==
        std::vector<int8_t>{44, 127});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor specials = Tensor::FromVector<float>(Shape{4}, {0.0f, 0.1f, -0.0f, nan});
  Tensor b = Cast(specials, DataType::kBool);
  CHECK(std::vector<bool>(b.data<bool>(), b.data<bool>() + 4) == std::vector<bool>{false, true, false, true});
  // NaN and out-of-range floats have no defined integer value; they must not trap.
  Tensor huge = Tensor::FromVector<double>(Shape{3}, {nan, 1e30, -1e30});
  CHECK(Cast(huge, DataType::kInt64).NumElements() == 3);
  CHECK(Cast(huge, DataType::kUint64).NumElements() == 3);
  CHECK(TypedValues<uint64_t>(Cast(Tensor::FromVector<double>(Shape{1}, {1.8e19}), DataType::kUint64))[0] ==
        18000000000000000000ull);

  Tensor half = Cast(Tensor::FromVector<float>(Shape{3}, {1.0f / 3.0f, 65504.0f, 1e6f}), DataType::kFloat16);
  Tensor back = Cast(half, DataType::kFloat32);
  CHECK(TypedValues<float>(back)[0] == Approx(1.0f / 3.0f).epsilon(1e-3));
  CHECK(TypedValues<float>(back)[1] == 65504.0f);
  CHECK(std::isinf(TypedValues<float>(back)[2]));
  Tensor d = Cast(Tensor::FromVector<double>(Shape{1}, {0.1}), DataType::kFloat32);
  CHECK(TypedValues<float>(d)[0] == 0.1f);
  CHECK(TypedValues<float>(Cast(Tensor::FromVector<int64_t>(Shape{1}, {1 << 24}), DataType::kFloat32))[0] ==
        16777216.0f);
}

TEST_CASE("Cast accepts the opset-1 string form and rejects bad targets", "[cpu][cast]") {
  Attribute name;
  name.kind = Attribute::Kind::kString;
  name.s = "INT64";
  AttributeMap attrs;
  attrs.Set("to", name);
  auto ok = RunCastOp("Cast", {Tensor::FromVector<float>(Shape{2}, {2.9f, -2.9f})}, 1, attrs);
  REQUIRE(ok.ok());
  CHECK(TypedValues<int64_t>(ok.value()[0]) == std::vector<int64_t>{2, -2});

  name.s = "QUATERNION";
  attrs.Set("to", name);
  auto bad_name = RunCastOp("Cast", {Tensor::FromVector<float>(Shape{1}, {1.0f})}, 1, attrs);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.status().message().find("Cast node 'test'") != std::string::npos);
  auto bad_int = RunCastOp("Cast", {Tensor::FromVector<float>(Shape{1}, {1.0f})}, 13, To(static_cast<DataType>(99)));
  CHECK_FALSE(bad_int.ok());
  auto to_string = RunCastOp("Cast", {Tensor::FromVector<float>(Shape{1}, {1.0f})}, 13, To(DataType::kString));
  CHECK(to_string.status().code() == StatusCode::kUnimplemented);
  auto missing = RunCastOp("Cast", {Tensor::FromVector<float>(Shape{1}, {1.0f})}, 13, AttributeMap{});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("'to'") != std::string::npos);
}

TEST_CASE("CastLike takes the dtype of its second input", "[cpu][cast]") {
  Tensor x = Tensor::FromVector<float>(Shape{3}, {1.9f, -0.5f, 0.0f});
  auto out = RunCastOp("CastLike", {x, Tensor::FromVector<int32_t>(Shape{1}, {0})}, 15, {});
  REQUIRE(out.ok());
  CHECK(TypedValues<int32_t>(out.value()[0]) == std::vector<int32_t>{1, 0, 0});
  CHECK_FALSE(RunCastOp("CastLike", {x}, 15, {}).ok());
}

TEST_CASE("Identity copies any dtype", "[cpu][cast]") {
  Tensor x = Tensor::FromVector<int64_t>(Shape{2, 2}, {1, -2, 3, -4});
  auto out = RunCastOp("Identity", {x}, 16, {});
  REQUIRE(out.ok());
  CHECK(TypedValues<int64_t>(out.value()[0]) == TypedValues<int64_t>(x));
  CHECK(out.value()[0].raw_data() != x.raw_data());
  CHECK_FALSE(RunCastOp("Identity", {Tensor()}, 16, {}).ok());
  Tensor empty = Tensor::FromVector<float>(Shape{0, 2}, {});
  auto copied = RunCastOp("Identity", {empty}, 13, {});
  REQUIRE(copied.ok());
  CHECK(copied.value()[0].shape() == Shape{0, 2});
  CHECK(Cast(empty, DataType::kInt64).shape() == Shape{0, 2});
}

TEST_CASE("Dropout is the identity at inference", "[cpu][cast]") {
  Tensor x = Tensor::FromVector<float>(Shape{3}, {1.0f, -2.0f, 3.0f});
  auto v7 = RunCastOp("Dropout", {x}, 7, {}, 2);
  REQUIRE(v7.ok());
  CHECK(TypedValues<float>(v7.value()[0]) == TypedValues<float>(x));
  CHECK(TypedValues<float>(v7.value()[1]) == std::vector<float>(3, 1.0f));  // mask had the data's dtype then

  Tensor no = Tensor::Scalar<bool>(false), yes = Tensor::Scalar<bool>(true);
  auto v13 = RunCastOp("Dropout", {x, Tensor::Scalar<float>(0.3f), no}, 13, {}, 2);
  REQUIRE(v13.ok());
  CHECK(TypedValues<float>(v13.value()[0]) == TypedValues<float>(x));
  const Tensor& mask = v13.value()[1];
  REQUIRE(mask.dtype() == DataType::kBool);
  CHECK(std::vector<bool>(mask.data<bool>(), mask.data<bool>() + 3) == std::vector<bool>(3, true));

  auto training = RunCastOp("Dropout", {x, Tensor::Scalar<float>(0.3f), yes}, 13, {}, 1);
  REQUIRE_FALSE(training.ok());
  CHECK(training.status().code() == StatusCode::kUnimplemented);
  CHECK(training.status().message().find("training_mode") != std::string::npos);
  CHECK(RunCastOp("Dropout", {x, Tensor::Scalar<float>(0.0f), yes}, 13, {}, 1).ok());  // ratio 0 drops nothing

  Attribute ratio;
  ratio.kind = Attribute::Kind::kFloat;
  ratio.f = 1.5f;
  AttributeMap bad;
  bad.Set("ratio", ratio);
  CHECK_FALSE(RunCastOp("Dropout", {x}, 10, bad).ok());
  CHECK_FALSE(RunCastOp("Dropout", {x, Tensor(), Tensor::Scalar<float>(1.0f)}, 13, {}).ok());
}
