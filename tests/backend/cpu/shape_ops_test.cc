#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <random>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

TEST_CASE("Reshape resolves 0 and -1 and copies the data", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3, 4});
  Tensor y = OpCall("Reshape", 13).Run1({x, I64s({0, -1})});
  CHECK(y.shape() == Shape{2, 12});
  CHECK(Values<float>(y) == Values<float>(x));
  CHECK(y.raw_data() != x.raw_data());

  CHECK(OpCall("Reshape", 13).Run1({x, I64s({-1})}).shape() == Shape{24});
  CHECK(OpCall("Reshape", 13).Run1({x, I64s({4, 0, 2})}).shape() == Shape{4, 3, 2});
  // Opset 1-4 take the shape as an attribute.
  CHECK(OpCall("Reshape", 4).Attr("shape", IntsAttr({6, -1})).Run1({x}).shape() == Shape{6, 4});
  // allowzero=1 (opset 14): 0 is a real zero dim.
  Tensor empty = Iota<float>(Shape{0, 3});
  CHECK(OpCall("Reshape", 14).Attr("allowzero", IntAttr(1)).Run1({empty, I64s({3, 0})}).shape() == Shape{3, 0});
  // Every fixed-size dtype moves, bool and float16 included.
  Tensor b = Tensor::FromVector<bool>(Shape{2, 2}, {true, false, false, true});
  Tensor rb = OpCall("Reshape", 14).Run1({b, I64s({4})});
  CHECK(rb.dtype() == DataType::kBool);
  CHECK(Values<bool>(rb) == std::vector<bool>{true, false, false, true});
  Tensor h = Tensor::FromVector<Float16>(Shape{2}, {Float16{1}, Float16{2}});
  CHECK(OpCall("Reshape", 14).Run1({h, I64s({1, 2})}).shape() == Shape{1, 2});
}

TEST_CASE("Reshape rejects impossible targets", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3, 4});
  auto two = OpCall("Reshape", 13).Run({x, I64s({-1, -1})});
  CHECK(two.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(two.status(), "more than one -1"));
  CHECK(Contains(two.status(), "Reshape node 'test'"));
  auto count = OpCall("Reshape", 13).Run({x, I64s({5, 5})});
  CHECK(Contains(count.status(), "24 elements"));
  CHECK_FALSE(OpCall("Reshape", 13).Run({x, I64s({5, -1})}).ok());
  CHECK_FALSE(OpCall("Reshape", 13).Run({x, I64s({0, 0, 0, 0})}).ok());  // copies a dim that does not exist
  CHECK_FALSE(OpCall("Reshape", 14).Attr("allowzero", IntAttr(1)).Run({x, I64s({0, -1})}).ok());
  CHECK_FALSE(OpCall("Reshape", 13).Run({x, I64s({-2, 12})}).ok());
  CHECK_FALSE(OpCall("Reshape", 4).Run({x}).ok());  // missing attribute
}

TEST_CASE("Reshape load-time inference with partial knowledge", "[cpu][shape_ops]") {
  OpCall reshape("Reshape", 13);
  ValueType x = ValueType::Of(DataType::kFloat32, Shape{-1, 3, 4});
  ValueType shape3 = ValueType::Of(DataType::kInt64, Shape{3});
  auto unknown_value = reshape.Infer({x, shape3}, {nullptr, nullptr});
  REQUIRE(unknown_value.ok());
  CHECK((*unknown_value)[0].rank_known);
  CHECK((*unknown_value)[0].dims == Shape{-1, -1, -1});

  Tensor target = I64s({0, -1});
  auto partial = reshape.Infer({x, ValueType::Of(DataType::kInt64, Shape{2})}, {nullptr, &target});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1});

  Tensor known = I64s({-1, 12});
  auto batch = reshape.Infer({x, ValueType::Of(DataType::kInt64, Shape{2})}, {nullptr, &known});
  REQUIRE(batch.ok());
  CHECK((*batch)[0].dims == Shape{-1, 12});

  auto no_len = reshape.Infer({x, ValueType::UnknownRank(DataType::kInt64)}, {nullptr, nullptr});
  REQUIRE(no_len.ok());
  CHECK_FALSE((*no_len)[0].rank_known);
}

TEST_CASE("Flatten splits the dims at axis", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3, 4, 5});
  CHECK(OpCall("Flatten", 13).Run1({x}).shape() == Shape{2, 60});
  CHECK(OpCall("Flatten", 13).Attr("axis", IntAttr(0)).Run1({x}).shape() == Shape{1, 120});
  CHECK(OpCall("Flatten", 13).Attr("axis", IntAttr(4)).Run1({x}).shape() == Shape{120, 1});
  Tensor y = OpCall("Flatten", 11).Attr("axis", IntAttr(-1)).Run1({x});
  CHECK(y.shape() == Shape{24, 5});
  CHECK(Values<float>(y) == Values<float>(x));
  auto old = OpCall("Flatten", 9).Attr("axis", IntAttr(-1)).Run({x});
  CHECK(Contains(old.status(), "out of range"));
  CHECK_FALSE(OpCall("Flatten", 13).Attr("axis", IntAttr(5)).Run({x}).ok());
  auto partial = OpCall("Flatten", 13).Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 3, 4})}, {nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, 12});
}

TEST_CASE("Squeeze removes 1-dims from attribute or input axes", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{1, 3, 1, 2});
  CHECK(OpCall("Squeeze", 13).Run1({x}).shape() == Shape{3, 2});
  CHECK(OpCall("Squeeze", 13).Run1({x, I64s({2})}).shape() == Shape{1, 3, 2});
  CHECK(OpCall("Squeeze", 13).Run1({x, I64s({-2, 0})}).shape() == Shape{3, 2});
  CHECK(OpCall("Squeeze", 11).Attr("axes", IntsAttr({0})).Run1({x}).shape() == Shape{3, 1, 2});
  CHECK(OpCall("Squeeze", 1).Run1({x}).shape() == Shape{3, 2});
  Tensor y = OpCall("Squeeze", 13).Run1({x, I64s({0})});
  CHECK(Values<float>(y) == Values<float>(x));

  auto bad = OpCall("Squeeze", 13).Run({x, I64s({1})});
  CHECK(Contains(bad.status(), "cannot squeeze axis 1 of size 3"));
  CHECK_FALSE(OpCall("Squeeze", 13).Run({x, I64s({4})}).ok());
  CHECK_FALSE(OpCall("Squeeze", 13).Run({x, I64s({0, -4})}).ok());  // the same axis twice

  OpCall squeeze("Squeeze", 13);
  ValueType partial = ValueType::Of(DataType::kFloat32, Shape{1, -1, 5});
  auto all = squeeze.Infer({partial}, {nullptr});
  REQUIRE(all.ok());
  CHECK_FALSE((*all)[0].rank_known);  // whether the unknown dim is 1 decides the rank
  Tensor axes = I64s({0});
  auto some = squeeze.Infer({partial, ValueType::Of(DataType::kInt64, Shape{1})}, {nullptr, &axes});
  REQUIRE(some.ok());
  CHECK((*some)[0].dims == Shape{-1, 5});
}

TEST_CASE("Unsqueeze inserts 1-dims at output positions", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3});
  CHECK(OpCall("Unsqueeze", 13).Run1({x, I64s({0, 3})}).shape() == Shape{1, 2, 3, 1});
  CHECK(OpCall("Unsqueeze", 13).Run1({x, I64s({-1})}).shape() == Shape{2, 3, 1});
  CHECK(OpCall("Unsqueeze", 13).Run1({x, I64s({1})}).shape() == Shape{2, 1, 3});
  CHECK(OpCall("Unsqueeze", 11).Attr("axes", IntsAttr({-3})).Run1({x}).shape() == Shape{1, 2, 3});
  CHECK(OpCall("Unsqueeze", 1).Attr("axes", IntsAttr({0, 1})).Run1({x}).shape() == Shape{1, 1, 2, 3});
  Tensor s = Tensor::Scalar<int64_t>(7);
  Tensor y = OpCall("Unsqueeze", 13).Run1({s, I64s({0})});
  CHECK(y.shape() == Shape{1});
  CHECK(Values<int64_t>(y) == std::vector<int64_t>{7});

  CHECK(Contains(OpCall("Unsqueeze", 13).Run({x, I64s({4})}).status(), "out of range"));
  CHECK(Contains(OpCall("Unsqueeze", 13).Run({x, I64s({1, 1})}).status(), "repeat"));
  CHECK_FALSE(OpCall("Unsqueeze", 11).Run({x}).ok());  // no axes

  auto partial =
      OpCall("Unsqueeze", 13)
          .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 3}), ValueType::Of(DataType::kInt64, Shape{2})},
                 {nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1, -1, -1});
}

TEST_CASE("Shape and Size report metadata as int64", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3, 4});
  Tensor s = OpCall("Shape", 13).Run1({x});
  CHECK(s.dtype() == DataType::kInt64);
  CHECK(Values<int64_t>(s) == std::vector<int64_t>{2, 3, 4});
  CHECK(Values<int64_t>(OpCall("Shape", 15).Attr("start", IntAttr(1)).Run1({x})) == std::vector<int64_t>{3, 4});
  CHECK(Values<int64_t>(OpCall("Shape", 15).Attr("end", IntAttr(-1)).Run1({x})) == std::vector<int64_t>{2, 3});
  CHECK(Values<int64_t>(OpCall("Shape", 15).Attr("start", IntAttr(-10)).Run1({x})) == std::vector<int64_t>{2, 3, 4});
  CHECK(OpCall("Shape", 15).Attr("start", IntAttr(2)).Attr("end", IntAttr(1)).Run1({x}).shape() == Shape{0});
  // Before opset 15 start/end do not exist.
  CHECK(OpCall("Shape", 13).Attr("start", IntAttr(1)).Run1({x}).shape() == Shape{3});
  Tensor n = OpCall("Size", 13).Run1({x});
  CHECK(n.shape() == Shape{});
  CHECK(Values<int64_t>(n) == std::vector<int64_t>{24});

  auto partial = OpCall("Shape", 15)
                     .Attr("start", IntAttr(1))
                     .Infer({ValueType::Of(DataType::kFloat32, Shape{-1, 3, 4})}, {nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{2});
  auto unknown = OpCall("Shape", 13).Infer({ValueType::UnknownRank(DataType::kFloat32)}, {nullptr});
  REQUIRE(unknown.ok());
  CHECK((*unknown)[0].dims == Shape{-1});
}

TEST_CASE("Expand broadcasts both ways", "[cpu][shape_ops]") {
  Tensor x = F32(Shape{3, 1}, {1, 2, 3});
  Tensor y = OpCall("Expand", 13).Run1({x, I64s({2, 1, 4})});
  CHECK(y.shape() == Shape{2, 3, 4});
  std::vector<float> expected;
  for (int b = 0; b < 2; ++b) {
    for (float v : {1.f, 2.f, 3.f}) {
      for (int k = 0; k < 4; ++k) expected.push_back(v);
    }
  }
  CHECK(Values<float>(y) == expected);
  // A target of lower rank or with 1s keeps the input's dims.
  CHECK(OpCall("Expand", 8).Run1({x, I64s({1})}).shape() == Shape{3, 1});
  Tensor row = Iota<int64_t>(Shape{1, 3});
  CHECK(Values<int64_t>(OpCall("Expand", 13).Run1({row, I64s({2, 3})})) == std::vector<int64_t>{0, 1, 2, 0, 1, 2});
  CHECK(OpCall("Expand", 13).Run1({row, I64s({0, 3})}).shape() == Shape{0, 3});

  auto bad = OpCall("Expand", 13).Run({x, I64s({4, 2})});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad.status(), "cannot be broadcast"));
  CHECK_FALSE(OpCall("Expand", 13).Run({x, I64s({-3, 1})}).ok());

  auto partial = OpCall("Expand", 13)
                     .Infer({ValueType::Of(DataType::kFloat32, Shape{3, 1}), ValueType::Of(DataType::kInt64, Shape{3})},
                            {nullptr, nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, 3, -1});
}

namespace {

// Reference transpose by per-element index arithmetic.
template <typename T>
std::vector<T> NaiveTranspose(const Tensor& x, const std::vector<int64_t>& perm) {
  const Shape& d = x.shape();
  size_t r = d.rank();
  std::vector<int64_t> out_dims(r), in_strides(r, 1);
  for (size_t i = r - 1; i-- > 0;) in_strides[i] = in_strides[i + 1] * d[i + 1];
  for (size_t i = 0; i < r; ++i) out_dims[i] = d[perm[i]];
  std::vector<T> out(static_cast<size_t>(x.NumElements()));
  std::vector<int64_t> idx(r, 0);
  for (size_t n = 0; n < out.size(); ++n) {
    int64_t off = 0;
    for (size_t i = 0; i < r; ++i) off += idx[i] * in_strides[perm[i]];
    out[n] = x.data<T>()[off];
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < out_dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

template <typename T>
void CheckAllPerms(const Shape& dims) {
  Tensor x = Iota<T>(dims);
  std::vector<int64_t> perm(dims.rank());
  std::iota(perm.begin(), perm.end(), 0);
  do {
    Tensor y = OpCall("Transpose", 13).Attr("perm", IntsAttr(perm)).Run1({x});
    INFO("dims " << dims.ToString() << " perm " << Shape(perm).ToString());
    CHECK(Values<T>(y) == NaiveTranspose<T>(x, perm));
  } while (std::next_permutation(perm.begin(), perm.end()));
}

}  // namespace

TEST_CASE("Transpose matches a reference for every permutation and element size", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3});
  Tensor y = OpCall("Transpose", 1).Run1({x});
  CHECK(y.shape() == Shape{3, 2});
  CHECK(Values<float>(y) == std::vector<float>{0, 3, 1, 4, 2, 5});

  CheckAllPerms<float>(Shape{2, 3, 4, 5});
  CheckAllPerms<uint8_t>(Shape{3, 1, 5, 7});
  CheckAllPerms<uint16_t>(Shape{4, 6, 5});
  CheckAllPerms<double>(Shape{2, 1, 3, 1, 2});
  // Large enough for the blocked path with partial tiles and for parallel chunks.
  CheckAllPerms<float>(Shape{67, 131});
  CheckAllPerms<float>(Shape{3, 45, 70});
  CheckAllPerms<uint8_t>(Shape{5, 33, 97});
  CheckAllPerms<int64_t>(Shape{2, 40, 3, 50});
}

TEST_CASE("Transpose rejects a bad perm", "[cpu][shape_ops]") {
  Tensor x = Iota<float>(Shape{2, 3, 4});
  auto wrong_rank = OpCall("Transpose", 13).Attr("perm", IntsAttr({1, 0})).Run({x});
  CHECK(Contains(wrong_rank.status(), "does not match the input rank"));
  auto repeated = OpCall("Transpose", 13).Attr("perm", IntsAttr({0, 0, 1})).Run({x});
  CHECK(Contains(repeated.status(), "not a permutation"));
  auto partial = OpCall("Transpose", 13)
                     .Attr("perm", IntsAttr({2, 0, 1}))
                     .Infer({ValueType::UnknownRank(DataType::kFloat32)}, {nullptr});
  REQUIRE(partial.ok());
  CHECK((*partial)[0].dims == Shape{-1, -1, -1});
}

TEST_CASE("Expand matches a reference on larger shapes", "[cpu][shape_ops]") {
  struct Case {
    Shape in;
    std::vector<int64_t> target;
  };
  for (const Case& c : {Case{Shape{64, 1, 33}, {64, 50, 33}}, Case{Shape{1, 70}, {3, 900, 70}},
                        Case{Shape{500, 1}, {2, 500, 77}}, Case{Shape{1}, {100000}}}) {
    Tensor x = Iota<int32_t>(c.in);
    Tensor y = OpCall("Expand", 13).Run1({x, I64s(c.target)});
    REQUIRE(y.shape() == Shape(c.target));
    size_t r = c.target.size();
    size_t offset = r - c.in.rank();
    std::vector<int64_t> idx(r, 0);
    bool ok = true;
    for (int64_t n = 0; n < y.NumElements() && ok; ++n) {
      int64_t src = 0;
      for (size_t i = offset; i < r; ++i) src = src * c.in[i - offset] + (c.in[i - offset] == 1 ? 0 : idx[i]);
      ok = y.data<int32_t>()[n] == x.data<int32_t>()[src];
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < c.target[i]) break;
        idx[i] = 0;
      }
    }
    INFO("expand " << c.in.ToString() << " to " << Shape(c.target).ToString());
    CHECK(ok);
  }
}
