#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::FloatAttr;
using test::IntAttr;
using test::StringAttr;
using test::TypedValues;

Result<std::vector<Tensor>> Run(const std::string& op, const std::vector<Tensor>& inputs, int opset = 17,
                                const AttributeMap& attrs = {}, size_t outputs = 1) {
  return test::RunOp(op, opset, attrs, inputs, outputs);
}

// The single output of a run that must succeed.
Tensor RunOk(const std::string& op, const std::vector<Tensor>& inputs, int opset = 17,
             const AttributeMap& attrs = {}) {
  auto result = Run(op, inputs, opset, attrs);
  INFO(op << ": " << result.status().ToString());
  REQUIRE(result.ok());
  return result.value()[0];
}

std::vector<bool> Bools(const Tensor& t) {
  REQUIRE(t.dtype() == DataType::kBool);
  return std::vector<bool>(t.data<bool>(), t.data<bool>() + t.NumElements());
}

template <typename T>
Tensor Make(const Shape& shape, const std::vector<T>& values) {
  return Tensor::FromVector<T>(shape, values);
}

Tensor MakeBools(const Shape& shape, const std::vector<int>& values) {
  Tensor t = Tensor::Allocate(DataType::kBool, shape).value();
  for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i] != 0;
  return t;
}

// Numpy broadcasting, the slow obvious way: one multi-index per element.
int64_t SourceOffset(const Shape& out, int64_t flat, const Shape& in) {
  int64_t offset = 0, stride = 1;
  for (size_t i = out.rank(); i-- > 0;) {
    int64_t coord = flat % out[i];
    flat /= out[i];
    size_t lead = out.rank() - in.rank();
    if (i < lead) continue;
    int64_t d = in[i - lead];
    if (d != 1) offset += coord * stride;
    stride *= d;
  }
  return offset;
}

Shape RandomShapeFor(const Shape& out, std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 2);
  size_t drop = std::uniform_int_distribution<size_t>(0, out.rank())(rng);
  Shape s;
  for (size_t i = drop; i < out.rank(); ++i) s.push_back(coin(rng) == 0 ? 1 : out[i]);
  return s;
}

std::vector<float> Iota(int64_t n, float start, float step) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>(i % 1000);
  return v;
}

}  // namespace

TEST_CASE("Add and Mul broadcast like numpy on random shapes", "[cpu][elementwise]") {
  std::mt19937 rng(7);
  const int64_t choices[] = {1, 2, 3, 5};
  for (int trial = 0; trial < 200; ++trial) {
    Shape out;
    size_t rank = std::uniform_int_distribution<size_t>(0, 5)(rng);
    for (size_t i = 0; i < rank; ++i) out.push_back(choices[std::uniform_int_distribution<int>(0, 3)(rng)]);
    Shape sa = RandomShapeFor(out, rng), sb = RandomShapeFor(out, rng);
    // Make sure the output shape is the broadcast of the two (a dim of `out` must appear in one of them).
    for (size_t i = 0; i < out.rank(); ++i) {
      size_t la = out.rank() - sa.rank(), lb = out.rank() - sb.rank();
      bool in_a = i >= la && sa[i - la] == out[i], in_b = i >= lb && sb[i - lb] == out[i];
      if (!in_a && !in_b) out[i] = 1;
    }
    while (out.rank() > std::max(sa.rank(), sb.rank())) out.erase(0);
    std::vector<float> va = Iota(sa.NumElements(), 1.0f, 1.0f), vb = Iota(sb.NumElements(), 0.5f, -0.25f);
    Tensor sum = RunOk("Add", {Make(sa, va), Make(sb, vb)});
    Tensor product = RunOk("Mul", {Make(sa, va), Make(sb, vb)});
    INFO(sa.ToString() << " op " << sb.ToString() << " -> " << out.ToString());
    REQUIRE(sum.shape() == out);
    for (int64_t i = 0; i < out.NumElements(); ++i) {
      float x = va[SourceOffset(out, i, sa)], y = vb[SourceOffset(out, i, sb)];
      REQUIRE(sum.data<float>()[i] == x + y);
      REQUIRE(product.data<float>()[i] == x * y);
    }
  }
}

TEST_CASE("Where broadcasts three inputs like numpy on random shapes", "[cpu][elementwise]") {
  std::mt19937 rng(11);
  const int64_t choices[] = {1, 2, 3};
  for (int trial = 0; trial < 100; ++trial) {
    Shape full;
    size_t rank = std::uniform_int_distribution<size_t>(1, 4)(rng);
    for (size_t i = 0; i < rank; ++i) full.push_back(choices[std::uniform_int_distribution<int>(0, 2)(rng)]);
    Shape sc = RandomShapeFor(full, rng), sx = RandomShapeFor(full, rng), sy = RandomShapeFor(full, rng);
    std::vector<int> cv(static_cast<size_t>(sc.NumElements()));
    for (size_t i = 0; i < cv.size(); ++i) cv[i] = static_cast<int>((i * 7 + trial) % 3 == 0);
    std::vector<float> xv = Iota(sx.NumElements(), 1.0f, 1.0f), yv = Iota(sy.NumElements(), -1.0f, -1.0f);
    Tensor out = RunOk("Where", {MakeBools(sc, cv), Make(sx, xv), Make(sy, yv)});
    INFO(sc.ToString() << " " << sx.ToString() << " " << sy.ToString() << " -> " << out.shape().ToString());
    for (int64_t i = 0; i < out.NumElements(); ++i) {
      bool c = cv[SourceOffset(out.shape(), i, sc)] != 0;
      float expected = c ? xv[SourceOffset(out.shape(), i, sx)] : yv[SourceOffset(out.shape(), i, sy)];
      REQUIRE(out.data<float>()[i] == expected);
    }
  }
}

TEST_CASE("Elementwise ops accept empty tensors", "[cpu][elementwise]") {
  Tensor empty = Make<float>({0, 3}, {});
  CHECK(RunOk("Add", {empty, Make<float>({3}, {1, 2, 3})}).shape() == Shape{0, 3});
  CHECK(RunOk("Relu", {empty}).shape() == Shape{0, 3});
  CHECK(RunOk("Sum", {empty}).shape() == Shape{0, 3});
  CHECK(RunOk("Where", {MakeBools({1}, {1}), empty, Make<float>({}, {0.0f})}).shape() == Shape{0, 3});
  CHECK(RunOk("Clip", {empty, Make<float>({}, {0.0f})}).shape() == Shape{0, 3});
  CHECK(RunOk("Div", {Make<int64_t>({0}, {}), Make<int64_t>({0}, {})}).shape() == Shape{0});
}

TEST_CASE("Broadcasting large tensors in parallel matches the reference", "[cpu][elementwise]") {
  // Chunks of the parallel loop start mid-row; every broadcast pattern must still line up.
  const Shape shapes[][2] = {{{3, 257, 129}, {257, 1}},
                             {{3, 257, 129}, {129}},
                             {{3, 1, 129}, {1, 257, 1}},
                             {{70000}, {}},
                             {{}, {70001}}};
  for (const auto& pair : shapes) {
    std::vector<float> va = Iota(pair[0].NumElements(), -3.0f, 0.01f), vb = Iota(pair[1].NumElements(), 2.0f, 0.5f);
    Tensor out = RunOk("Sub", {Make(pair[0], va), Make(pair[1], vb)});
    for (int64_t i = 0; i < out.NumElements(); ++i) {
      float expected = va[SourceOffset(out.shape(), i, pair[0])] - vb[SourceOffset(out.shape(), i, pair[1])];
      REQUIRE(out.data<float>()[i] == expected);
    }
  }
}

TEST_CASE("Integer arithmetic: truncating division, wrapping, division by zero", "[cpu][elementwise]") {
  auto q = RunOk("Div", {Make<int64_t>({4}, {-7, 7, -7, 7}), Make<int64_t>({4}, {2, 2, -2, -2})});
  CHECK(TypedValues<int64_t>(q) == std::vector<int64_t>{-3, 3, 3, -3});
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  auto wrap = RunOk("Div", {Make<int64_t>({1}, {kMin}), Make<int64_t>({}, {-1})});
  CHECK(TypedValues<int64_t>(wrap) == std::vector<int64_t>{kMin});
  auto q32 = RunOk("Div", {Make<int32_t>({2, 2}, {9, -9, 100, 1}), Make<int32_t>({2}, {4, 3})});
  CHECK(TypedValues<int32_t>(q32) == std::vector<int32_t>{2, -3, 25, 0});
  auto u8 = RunOk("Mul", {Make<uint8_t>({2}, {200, 3}), Make<uint8_t>({}, {2})});
  CHECK(TypedValues<uint8_t>(u8) == std::vector<uint8_t>{144, 6});
  auto shape_math = RunOk("Add", {Make<int64_t>({3}, {1, 3, 224}), Make<int64_t>({1}, {-1})});
  CHECK(TypedValues<int64_t>(shape_math) == std::vector<int64_t>{0, 2, 223});

  auto by_zero = Run("Div", {Make<int64_t>({2}, {1, 2}), Make<int64_t>({2}, {1, 0})});
  REQUIRE_FALSE(by_zero.ok());
  CHECK(by_zero.status().message().find("Div node 'test'") != std::string::npos);
  CHECK(by_zero.status().message().find("division by zero") != std::string::npos);
  auto float_zero = RunOk("Div", {Make<float>({2}, {1, -1}), Make<float>({}, {0})});
  CHECK(std::isinf(TypedValues<float>(float_zero)[0]));
}

TEST_CASE("Binary ops reject bad shapes and dtypes", "[cpu][elementwise]") {
  auto bad_shape = Run("Add", {Make<float>({2, 3}, std::vector<float>(6)), Make<float>({4}, std::vector<float>(4))});
  REQUIRE_FALSE(bad_shape.ok());
  CHECK(bad_shape.status().message().find("cannot be broadcast") != std::string::npos);
  auto bad_dtype = Run("Mul", {Make<float>({2}, {1, 2}), Make<int64_t>({2}, {1, 2})});
  REQUIRE_FALSE(bad_dtype.ok());
  CHECK(bad_dtype.status().message().find("same dtype") != std::string::npos);
  auto bool_add = Run("Add", {MakeBools({1}, {1}), MakeBools({1}, {0})});
  CHECK(bool_add.status().code() == StatusCode::kUnimplemented);
}

TEST_CASE("Opset 1-6 binary ops honour broadcast and axis", "[cpu][elementwise]") {
  AttributeMap attrs;
  attrs.Set("broadcast", IntAttr(1));
  attrs.Set("axis", IntAttr(1));
  std::vector<float> a(24);
  for (int i = 0; i < 24; ++i) a[i] = static_cast<float>(i);
  Tensor out = RunOk("Add", {Make<float>({2, 3, 4}, a), Make<float>({3}, {100, 200, 300})}, 6, attrs);
  REQUIRE(out.shape() == Shape{2, 3, 4});
  CHECK(out.data<float>()[0] == 100.0f);
  CHECK(out.data<float>()[5] == 205.0f);    // [0,1,1]
  CHECK(out.data<float>()[23] == 323.0f);   // [1,2,3]
  // The same node at opset 7 ignores the attributes: [3] against [2,3,4] does not broadcast.
  CHECK_FALSE(Run("Add", {Make<float>({2, 3, 4}, a), Make<float>({3}, {1, 2, 3})}, 7, attrs).ok());
  attrs.Set("axis", IntAttr(3));
  auto bad = Run("Add", {Make<float>({2, 3, 4}, a), Make<float>({3}, {1, 2, 3})}, 6, attrs);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("axis") != std::string::npos);
}

TEST_CASE("Mod follows fmod semantics", "[cpu][elementwise]") {
  Tensor a = Make<int64_t>({6}, {-4, 7, 5, 4, -7, 8});
  Tensor b = Make<int64_t>({6}, {2, -3, 8, -2, 3, 5});
  CHECK(TypedValues<int64_t>(RunOk("Mod", {a, b})) == std::vector<int64_t>{0, -2, 5, 0, 2, 3});
  AttributeMap fmod;
  fmod.Set("fmod", IntAttr(1));
  CHECK(TypedValues<int64_t>(RunOk("Mod", {a, b}, 13, fmod)) == std::vector<int64_t>{0, 1, 5, 0, -1, 3});
  Tensor x = Make<float>({4}, {-4.3f, 7.2f, 5.0f, -1.5f});
  Tensor y = Make<float>({4}, {2.1f, -3.4f, 3.0f, -0.7f});
  std::vector<float> r = TypedValues<float>(RunOk("Mod", {x, y}, 13, fmod));
  CHECK(r[0] == Approx(-0.1f).margin(1e-5));
  CHECK(r[1] == Approx(0.4f).margin(1e-5));
  CHECK(r[2] == 2.0f);
  CHECK(r[3] == Approx(-0.1f).margin(1e-5));

  auto float_without_fmod = Run("Mod", {x, y});
  REQUIRE_FALSE(float_without_fmod.ok());
  CHECK(float_without_fmod.status().message().find("fmod") != std::string::npos);
  fmod.Set("fmod", IntAttr(2));
  CHECK_FALSE(Run("Mod", {a, b}, 13, fmod).ok());
  auto zero = Run("Mod", {a, Make<int64_t>({}, {0})});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("by zero") != std::string::npos);
}

TEST_CASE("Pow mixes base and exponent dtypes", "[cpu][elementwise]") {
  Tensor x = Make<float>({4}, {1.5f, -2.0f, 3.0f, 0.0f});
  CHECK(TypedValues<float>(RunOk("Pow", {x, Make<float>({}, {2.0f})})) == std::vector<float>{2.25f, 4.0f, 9.0f, 0.0f});
  CHECK(TypedValues<float>(RunOk("Pow", {x, Make<int64_t>({}, {3})})) ==
        std::vector<float>{3.375f, -8.0f, 27.0f, 0.0f});
  std::vector<float> roots =
      TypedValues<float>(RunOk("Pow", {Make<float>({2}, {4.0f, 2.0f}), Make<float>({2}, {0.5f, -1.0f})}));
  CHECK(roots[0] == Approx(2.0f));
  CHECK(roots[1] == Approx(0.5f));
  auto ints = RunOk("Pow", {Make<int64_t>({4}, {2, 3, -2, 5}), Make<int64_t>({4}, {10, 3, 3, 0})});
  CHECK(TypedValues<int64_t>(ints) == std::vector<int64_t>{1024, 27, -8, 1});
  auto int_float = RunOk("Pow", {Make<int32_t>({2}, {4, 9}), Make<float>({}, {0.5f})});
  CHECK(TypedValues<int32_t>(int_float) == std::vector<int32_t>{2, 3});
  auto legacy = RunOk("Pow", {Make<float>({2}, {2.0f, 3.0f}), Make<float>({2}, {3.0f, 2.0f})}, 1);
  CHECK(TypedValues<float>(legacy) == std::vector<float>{8.0f, 9.0f});
  CHECK_FALSE(Run("Pow", {Make<float>({2}, {1, 2}), Make<float>({3}, {1, 2, 3})}).ok());
}

TEST_CASE("Comparison and logic ops produce bool", "[cpu][elementwise]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Make<float>({2, 2}, {1.0f, 2.0f, nan, 4.0f});
  Tensor b = Make<float>({2}, {2.0f, 2.0f});
  CHECK(Bools(RunOk("Less", {a, b})) == std::vector<bool>{true, false, false, false});
  CHECK(Bools(RunOk("Greater", {a, b})) == std::vector<bool>{false, false, false, true});
  CHECK(Bools(RunOk("LessOrEqual", {a, b})) == std::vector<bool>{true, true, false, false});
  CHECK(Bools(RunOk("GreaterOrEqual", {a, b})) == std::vector<bool>{false, true, false, true});
  CHECK(Bools(RunOk("Equal", {a, b})) == std::vector<bool>{false, true, false, false});
  auto eq = RunOk("Equal", {Make<int64_t>({3}, {-1, 5, 7}), Make<int64_t>({}, {-1})});
  CHECK(Bools(eq) == std::vector<bool>{true, false, false});
  Tensor p = MakeBools({4}, {0, 0, 1, 1}), q = MakeBools({4}, {0, 1, 0, 1});
  CHECK(Bools(RunOk("And", {p, q})) == std::vector<bool>{false, false, false, true});
  CHECK(Bools(RunOk("Or", {p, q})) == std::vector<bool>{false, true, true, true});
  CHECK(Bools(RunOk("Xor", {p, q})) == std::vector<bool>{false, true, true, false});
  CHECK(Bools(RunOk("Equal", {p, q}, 11)) == std::vector<bool>{true, false, false, true});
  CHECK(Run("And", {a, b}).status().code() == StatusCode::kUnimplemented);
  CHECK_FALSE(Run("LessOrEqual", {a, b}, 11).ok());  // born at opset 12
}

TEST_CASE("BitShift shifts unsigned integers", "[cpu][elementwise]") {
  AttributeMap left, right, bad;
  left.Set("direction", StringAttr("LEFT"));
  right.Set("direction", StringAttr("RIGHT"));
  bad.Set("direction", StringAttr("UP"));
  Tensor x = Make<uint8_t>({3}, {1, 16, 255});
  CHECK(TypedValues<uint8_t>(RunOk("BitShift", {x, Make<uint8_t>({3}, {1, 2, 8})}, 11, left)) ==
        std::vector<uint8_t>{2, 64, 0});
  CHECK(TypedValues<uint8_t>(RunOk("BitShift", {x, Make<uint8_t>({}, {2})}, 11, right)) ==
        std::vector<uint8_t>{0, 4, 63});
  CHECK_FALSE(Run("BitShift", {x, x}, 11, bad).ok());
}

TEST_CASE("Max, Min, Sum and Mean fold any number of broadcast inputs", "[cpu][elementwise]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Make<float>({2, 1}, {1.0f, 5.0f});
  Tensor b = Make<float>({3}, {0.0f, 3.0f, nan});
  Tensor c = Make<float>({}, {2.0f});
  std::vector<float> mx = TypedValues<float>(RunOk("Max", {a, b, c}));
  REQUIRE(mx.size() == 6);
  CHECK(mx[0] == 2.0f);
  CHECK(mx[1] == 3.0f);
  CHECK(std::isnan(mx[2]));
  CHECK(mx[3] == 5.0f);
  CHECK(TypedValues<float>(RunOk("Min", {a, c}))[1] == 2.0f);
  CHECK(TypedValues<float>(RunOk("Sum", {a, c, c})) == std::vector<float>{5.0f, 9.0f});
  CHECK(TypedValues<float>(RunOk("Mean", {a, Make<float>({2, 1}, {3.0f, 7.0f})})) == std::vector<float>{2.0f, 6.0f});
  CHECK(TypedValues<float>(RunOk("Sum", {a}, 6)) == std::vector<float>{1.0f, 5.0f});
  CHECK(TypedValues<int64_t>(RunOk("Max", {Make<int64_t>({2}, {1, 9}), Make<int64_t>({}, {4})}, 13)) ==
        std::vector<int64_t>{4, 9});
  auto bad = Run("Sum", {a, Make<float>({4}, {1, 2, 3, 4}), Make<float>({3}, {1, 2, 3})});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("Sum node") != std::string::npos);
  CHECK_FALSE(Run("Max", {a, Make<double>({1}, {1.0})}).ok());
}

TEST_CASE("Where selects with three-way broadcasting", "[cpu][elementwise]") {
  Tensor cond = MakeBools({2, 1}, {1, 0});
  Tensor x = Make<int64_t>({3}, {1, 2, 3});
  Tensor y = Make<int64_t>({}, {-1});
  CHECK(TypedValues<int64_t>(RunOk("Where", {cond, x, y})) == std::vector<int64_t>{1, 2, 3, -1, -1, -1});
  Tensor mask = MakeBools({4}, {1, 0, 0, 1});
  Tensor scores = Make<float>({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(TypedValues<float>(RunOk("Where", {mask, Make<float>({}, {-inf}), scores})) ==
        std::vector<float>{-inf, 2, 3, -inf, -inf, 6, 7, -inf});
  auto not_bool = Run("Where", {x, x, x});
  REQUIRE_FALSE(not_bool.ok());
  CHECK(not_bool.status().message().find("bool") != std::string::npos);
  CHECK_FALSE(Run("Where", {cond, x, Make<float>({}, {1.0f})}).ok());
  CHECK_FALSE(Run("Where", {MakeBools({2}, {1, 0}), x, y}).ok());
}

TEST_CASE("PRelu applies a broadcast slope", "[cpu][elementwise]") {
  Tensor x = Make<float>({1, 2, 2}, {-1.0f, 2.0f, -3.0f, 4.0f});
  Tensor slope = Make<float>({2, 1}, {0.5f, 0.1f});
  CHECK(TypedValues<float>(RunOk("PRelu", {x, slope})) == std::vector<float>{-0.5f, 2.0f, -0.3f, 4.0f});
  // Opset 6: a 1-D slope is per channel (axis 1).
  CHECK(TypedValues<float>(RunOk("PRelu", {x, Make<float>({2}, {0.5f, 0.1f})}, 6)) ==
        std::vector<float>{-0.5f, 2.0f, -0.3f, 4.0f});
  CHECK_FALSE(Run("PRelu", {x, Make<float>({3}, {1, 2, 3})}).ok());
}

TEST_CASE("Unary float ops match the C++ library", "[cpu][elementwise]") {
  struct Case {
    const char* op;
    std::function<double(double)> f;
    float lo, hi;
  };
  const Case cases[] = {
      {"Sqrt", [](double v) { return std::sqrt(v); }, 0.0f, 100.0f},
      {"Exp", [](double v) { return std::exp(v); }, -20.0f, 20.0f},
      {"Log", [](double v) { return std::log(v); }, 0.01f, 1000.0f},
      {"Tanh", [](double v) { return std::tanh(v); }, -10.0f, 10.0f},
      {"Sigmoid", [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, -20.0f, 20.0f},
      {"Erf", [](double v) { return std::erf(v); }, -4.0f, 4.0f},
      {"Sin", [](double v) { return std::sin(v); }, -10.0f, 10.0f},
      {"Cos", [](double v) { return std::cos(v); }, -10.0f, 10.0f},
      {"Atan", [](double v) { return std::atan(v); }, -10.0f, 10.0f},
      {"Asinh", [](double v) { return std::asinh(v); }, -10.0f, 10.0f},
      {"Reciprocal", [](double v) { return 1.0 / v; }, 0.5f, 10.0f},
      {"Softplus", [](double v) { return std::log1p(std::exp(v)); }, -20.0f, 20.0f},
      {"Softsign", [](double v) { return v / (1 + std::fabs(v)); }, -5.0f, 5.0f},
      {"Relu", [](double v) { return v < 0 ? 0.0 : v; }, -5.0f, 5.0f},
      {"Neg", [](double v) { return -v; }, -5.0f, 5.0f},
      {"Abs", [](double v) { return std::fabs(v); }, -5.0f, 5.0f},
      {"Floor", [](double v) { return std::floor(v); }, -5.0f, 5.0f},
      {"Ceil", [](double v) { return std::ceil(v); }, -5.0f, 5.0f},
      {"Elu", [](double v) { return v < 0 ? std::expm1(v) : v; }, -5.0f, 5.0f},
      {"HardSwish", [](double v) { return v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); }, -5.0f, 5.0f},
      {"HardSigmoid", [](double v) { return std::min(1.0, std::max(0.0, 0.2 * v + 0.5)); }, -5.0f, 5.0f},
      {"LeakyRelu", [](double v) { return v < 0 ? 0.01 * v : v; }, -5.0f, 5.0f},
  };
  const int64_t n = 100003;  // parallel chunks plus a SIMD tail
  for (const Case& c : cases) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = c.lo + (c.hi - c.lo) * static_cast<float>(i) / static_cast<float>(n - 1);
    Tensor y = RunOk(c.op, {Make<float>({n}, x)});
    Tensor yd = RunOk(c.op, {Make<double>({2}, {static_cast<double>(x[7]), static_cast<double>(x[n / 3])})});
    INFO(c.op);
    for (int64_t i = 0; i < n; i += 97) {
      double expected = c.f(x[i]);
      REQUIRE(y.data<float>()[i] == Approx(expected).epsilon(2e-6).margin(2e-7));
    }
    // Attributes are float32 even for float64 data, hence the looser tolerance than double precision.
    CHECK(yd.data<double>()[0] == Approx(c.f(x[7])).epsilon(1e-7).margin(1e-14));
    CHECK(yd.data<double>()[1] == Approx(c.f(x[n / 3])).epsilon(1e-7).margin(1e-14));
  }
}

TEST_CASE("Unary edge cases", "[cpu][elementwise]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(TypedValues<float>(RunOk("Round", {Make<float>({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, 2.6f})})) ==
        std::vector<float>{0.0f, 2.0f, 2.0f, -0.0f, -2.0f, -2.0f, 2.0f, 3.0f});
  std::vector<float> e = TypedValues<float>(RunOk("Exp", {Make<float>({3}, {100.0f, -100.0f, -inf})}));
  CHECK(e[0] == inf);
  CHECK(e[1] == Approx(0.0f).margin(1e-38));
  CHECK(e[2] == 0.0f);
  std::vector<float> l = TypedValues<float>(RunOk("Log", {Make<float>({2}, {0.0f, -1.0f})}));
  CHECK(l[0] == -inf);
  CHECK(std::isnan(l[1]));
  std::vector<float> s = TypedValues<float>(RunOk("Sigmoid", {Make<float>({2}, {-100.0f, 100.0f})}));
  CHECK(s[0] == Approx(0.0f).margin(1e-30));
  CHECK(s[1] == 1.0f);
  CHECK(TypedValues<float>(RunOk("Softplus", {Make<float>({1}, {100.0f})}))[0] == 100.0f);
  CHECK(std::isnan(TypedValues<float>(RunOk("Relu", {Make<float>({1}, {nan})}))[0]));
  CHECK(TypedValues<float>(RunOk("Sign", {Make<float>({4}, {-3.0f, 0.0f, 2.0f, -0.5f})})) ==
        std::vector<float>{-1.0f, 0.0f, 1.0f, -1.0f});
  CHECK(TypedValues<int32_t>(RunOk("Relu", {Make<int32_t>({3}, {-3, 0, 7})}, 14)) == std::vector<int32_t>{0, 0, 7});
  CHECK(TypedValues<int8_t>(RunOk("Abs", {Make<int8_t>({3}, {-128, -5, 5})})) == std::vector<int8_t>{-128, 5, 5});
  CHECK(TypedValues<int64_t>(RunOk("Neg", {Make<int64_t>({2}, {-4, 9})})) == std::vector<int64_t>{4, -9});
  CHECK(TypedValues<int64_t>(RunOk("Sign", {Make<int64_t>({3}, {-4, 0, 9})})) == std::vector<int64_t>{-1, 0, 1});
  CHECK(Bools(RunOk("Not", {MakeBools({2}, {1, 0})})) == std::vector<bool>{false, true});

  AttributeMap alpha;
  alpha.Set("alpha", FloatAttr(0.2f));
  CHECK(TypedValues<float>(RunOk("LeakyRelu", {Make<float>({2}, {-10.0f, 3.0f})}, 16, alpha)) ==
        std::vector<float>{-2.0f, 3.0f});
  std::vector<float> selu = TypedValues<float>(RunOk("Selu", {Make<float>({2}, {-1.0f, 2.0f})}));
  CHECK(selu[0] == Approx(1.0507f * 1.67326f * (std::exp(-1.0f) - 1.0f)).epsilon(1e-4));
  CHECK(selu[1] == Approx(2.1014f).epsilon(1e-4));
  std::vector<float> celu = TypedValues<float>(RunOk("Celu", {Make<float>({2}, {-1.0f, 2.0f})}, 12, alpha));
  CHECK(celu[0] == Approx(0.2f * std::expm1(-5.0f)));
  CHECK(celu[1] == 2.0f);
  alpha.Set("alpha", FloatAttr(0.0f));
  CHECK_FALSE(Run("Celu", {Make<float>({1}, {1.0f})}, 12, alpha).ok());

  CHECK(Run("Sqrt", {Make<int64_t>({1}, {4})}).status().code() == StatusCode::kUnimplemented);
  CHECK(Run("Not", {Make<float>({1}, {1.0f})}).status().code() == StatusCode::kUnimplemented);
  CHECK_FALSE(Run("HardSwish", {Make<float>({1}, {1.0f})}, 13).ok());  // born at opset 14
}

TEST_CASE("Clip in attribute and input forms", "[cpu][elementwise]") {
  Tensor x = Make<float>({5}, {-3.0f, -1.0f, 0.5f, 2.0f, 9.0f});
  AttributeMap attrs;
  attrs.Set("min", FloatAttr(-1.5f));
  attrs.Set("max", FloatAttr(2.5f));
  CHECK(TypedValues<float>(RunOk("Clip", {x}, 6, attrs)) == std::vector<float>{-1.5f, -1.0f, 0.5f, 2.0f, 2.5f});
  AttributeMap only_max;
  only_max.Set("max", FloatAttr(0.0f));
  CHECK(TypedValues<float>(RunOk("Clip", {x}, 1, only_max)) == std::vector<float>{-3.0f, -1.0f, 0.0f, 0.0f, 0.0f});

  Tensor lo = Make<float>({}, {-1.5f}), hi = Make<float>({}, {2.5f});
  CHECK(TypedValues<float>(RunOk("Clip", {x, lo, hi}, 13)) == std::vector<float>{-1.5f, -1.0f, 0.5f, 2.0f, 2.5f});
  CHECK(TypedValues<float>(RunOk("Clip", {x, Tensor(), hi}, 11)) == std::vector<float>{-3.0f, -1.0f, 0.5f, 2.0f, 2.5f});
  CHECK(TypedValues<float>(RunOk("Clip", {x, lo}, 12)) == std::vector<float>{-1.5f, -1.0f, 0.5f, 2.0f, 9.0f});
  CHECK(TypedValues<float>(RunOk("Clip", {x}, 13)) == TypedValues<float>(x));
  CHECK(TypedValues<float>(RunOk("Clip", {x, hi, lo}, 13)) == std::vector<float>(5, -1.5f));  // min > max: max
  Tensor xi = Make<int32_t>({4}, {-7, 0, 7, 100});
  CHECK(TypedValues<int32_t>(RunOk("Clip", {xi, Make<int32_t>({}, {0}), Make<int32_t>({}, {10})}, 13)) ==
        std::vector<int32_t>{0, 0, 7, 10});
  // Relu6 as some exporters write it: one-element [1] bounds are accepted.
  CHECK(TypedValues<float>(RunOk("Clip", {x, Make<float>({1}, {0.0f}), Make<float>({1}, {6.0f})}, 13)) ==
        std::vector<float>{0.0f, 0.0f, 0.5f, 2.0f, 6.0f});

  auto vector_bound = Run("Clip", {x, Make<float>({2}, {0.0f, 1.0f})}, 13);
  REQUIRE_FALSE(vector_bound.ok());
  CHECK(vector_bound.status().message().find("scalar") != std::string::npos);
  auto wrong_dtype = Run("Clip", {x, Make<double>({}, {0.0})}, 13);
  REQUIRE_FALSE(wrong_dtype.ok());
  CHECK(wrong_dtype.status().message().find("dtype") != std::string::npos);
}

TEST_CASE("Elementwise inference works on partial shapes", "[cpu][elementwise]") {
  auto infer = [](const std::string& op, std::vector<ValueType> types, int opset = 17) -> Result<ValueType> {
    std::vector<DataType> dtypes;
    std::vector<const ValueType*> ptrs;
    for (const ValueType& t : types) {
      dtypes.push_back(t.dtype);
      ptrs.push_back(&t);
    }
    EDGEAI_ASSIGN_OR_RETURN(const OpDef* def, CpuOpRegistry().Find("", op, opset, dtypes));
    AttributeMap attrs;
    InferenceContext ctx("n", op, opset, attrs, ptrs, std::vector<const Tensor*>(types.size(), nullptr), 1);
    EDGEAI_RETURN_IF_ERROR(def->infer(ctx));
    return ctx.output(0);
  };
  const DataType f32 = DataType::kFloat32;
  auto add = infer("Add", {ValueType::Of(f32, Shape{-1, 3}), ValueType::Of(f32, Shape{4, 1})});
  REQUIRE(add.ok());
  CHECK(add->dims == Shape{4, 3});
  auto unknown = infer("Mul", {ValueType::UnknownRank(DataType::kInt64), ValueType::Of(DataType::kInt64, Shape{2})});
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown->rank_known);
  auto eq = infer("Equal", {ValueType::Of(DataType::kInt64, Shape{-1}), ValueType::Of(DataType::kInt64, Shape{})});
  REQUIRE(eq.ok());
  CHECK(eq->dtype == DataType::kBool);
  CHECK(eq->dims == Shape{-1});
  auto where = infer("Where", {ValueType::Of(DataType::kBool, Shape{-1, 1}), ValueType::Of(f32, Shape{5}),
                               ValueType::Of(f32, Shape{})});
  REQUIRE(where.ok());
  CHECK(where->dims == Shape{-1, 5});
  auto relu = infer("Relu", {ValueType::Of(f32, Shape{-1, 8})});
  REQUIRE(relu.ok());
  CHECK(relu->dims == Shape{-1, 8});
  CHECK_FALSE(infer("Add", {ValueType::Of(f32, Shape{3}), ValueType::Of(f32, Shape{4})}).ok());
}
