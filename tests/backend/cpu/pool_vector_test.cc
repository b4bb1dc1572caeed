// MaxPool's fast paths (the AVX-512 whole-plane kernel, the row-buffered passes with AVX2 or portable loops)
// against a brute-force reference, under every SGEMM ISA this CPU runs (the pool follows that choice), on 1 and
// 2 threads, with NaN and infinite inputs, padding and ceil_mode.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/gemm.h"
#include "backend/op_runner.h"
#include "backend/thread_pool.h"
#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;

namespace {

using test::IntAttr;
using test::IntsAttr;

struct PoolCase {
  int64_t n, c, h, w;  // h == 0: a 1-D pool over w
  int64_t kh, kw, sh, sw;
  int64_t pt, pl, pb, pr;
  bool ceil;
};

int64_t OutDim(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, bool ceil) {
  const int64_t span = in + p0 + p1 - k;
  int64_t out = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (out - 1) * s >= in + p0) --out;  // the last window must start inside the input or begin padding
  return out;
}

// NaN inputs are skipped (as in onnx's reference, which drops NaNs from each window); an empty window is -inf.
template <typename T>
std::vector<T> ReferenceMaxPool(const PoolCase& pc, const std::vector<T>& x, int64_t oh_n, int64_t ow_n) {
  const int64_t h = pc.h == 0 ? 1 : pc.h;
  const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                        : std::numeric_limits<T>::lowest();
  std::vector<T> y;
  for (int64_t p = 0; p < pc.n * pc.c; ++p) {
    const T* plane = x.data() + p * h * pc.w;
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        T best = lowest;
        for (int64_t i = oh * pc.sh - pc.pt; i < oh * pc.sh - pc.pt + pc.kh; ++i) {
          for (int64_t j = ow * pc.sw - pc.pl; j < ow * pc.sw - pc.pl + pc.kw; ++j) {
            if (i < 0 || i >= h || j < 0 || j >= pc.w) continue;
            const T v = plane[i * pc.w + j];
            if (v > best) best = v;
          }
        }
        y.push_back(best);
      }
    }
  }
  return y;
}

template <typename T>
std::vector<T> RandomInput(const PoolCase& pc, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(-50.0, 50.0);
  std::uniform_int_distribution<int> pick(0, 99);
  const int64_t count = pc.n * pc.c * (pc.h == 0 ? 1 : pc.h) * pc.w;
  std::vector<T> x(static_cast<size_t>(count));
  for (T& v : x) {
    if constexpr (!std::is_floating_point_v<T>) {
      v = static_cast<T>(static_cast<int>(value(rng)));  // wraps modulo 256 for uint8
    } else {
      v = static_cast<T>(value(rng));
      const int r = pick(rng);
      if (r < 4) v = std::numeric_limits<T>::quiet_NaN();
      if (r == 4) v = -std::numeric_limits<T>::infinity();
      if (r == 5) v = std::numeric_limits<T>::infinity();
    }
  }
  if constexpr (std::is_floating_point_v<T>) {
    // A block of NaNs bigger than any window here except the widest: some windows hold nothing but NaN.
    if (pc.h >= 6 && pc.w >= 6) {
      for (int64_t i = 1; i < 5; ++i) {
        for (int64_t j = 1; j < 5; ++j) x[i * pc.w + j] = std::numeric_limits<T>::quiet_NaN();
      }
    }
  }
  return x;
}

template <typename T>
void CheckCase(const PoolCase& pc, const ThreadPool& pool, uint32_t seed) {
  const bool one_d = pc.h == 0;
  AttributeMap attrs;
  if (one_d) {
    attrs.Set("kernel_shape", IntsAttr({pc.kw}));
    attrs.Set("strides", IntsAttr({pc.sw}));
    attrs.Set("pads", IntsAttr({pc.pl, pc.pr}));
  } else {
    attrs.Set("kernel_shape", IntsAttr({pc.kh, pc.kw}));
    attrs.Set("strides", IntsAttr({pc.sh, pc.sw}));
    attrs.Set("pads", IntsAttr({pc.pt, pc.pl, pc.pb, pc.pr}));
  }
  attrs.Set("ceil_mode", IntAttr(pc.ceil ? 1 : 0));
  const int64_t oh = one_d ? 1 : OutDim(pc.h, pc.kh, pc.sh, pc.pt, pc.pb, pc.ceil);
  const int64_t ow = OutDim(pc.w, pc.kw, pc.sw, pc.pl, pc.pr, pc.ceil);
  const Shape in_shape = one_d ? Shape{pc.n, pc.c, pc.w} : Shape{pc.n, pc.c, pc.h, pc.w};
  const Shape out_shape = one_d ? Shape{pc.n, pc.c, ow} : Shape{pc.n, pc.c, oh, ow};
  const std::vector<T> x = RandomInput<T>(pc, seed);
  auto out = RunSingleOp(CpuOpRegistry(), test::MakeSingleOp("MaxPool", 12, attrs),
                         {Tensor::FromVector<T>(in_shape, x)}, 1, pool);
  REQUIRE(out.ok());
  REQUIRE((*out)[0].shape() == out_shape);
  const std::vector<T> expected = ReferenceMaxPool<T>(pc, x, oh, ow);
  const T* y = (*out)[0].template data<T>();
  int64_t mismatches = 0, first = -1;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!(y[i] == expected[i])) {  // NaN never appears in the expected values, so it fails here too
      if (first < 0) first = static_cast<int64_t>(i);
      ++mismatches;
    }
  }
  INFO("first mismatch at " << first << ": got " << (first < 0 ? 0.0 : static_cast<double>(y[first]))
                            << ", expected " << (first < 0 ? 0.0 : static_cast<double>(expected[first])));
  CHECK(mismatches == 0);
}

const std::vector<PoolCase>& Cases() {
  static const std::vector<PoolCase> cases = {
      // n, c, h, w, kh, kw, sh, sw, pads (t, l, b, r), ceil
      {1, 3, 111, 111, 3, 3, 2, 2, 0, 0, 0, 0, true},   // SqueezeNet's pools
      {1, 2, 55, 55, 3, 3, 2, 2, 0, 0, 0, 0, true},
      {2, 3, 27, 27, 3, 3, 2, 2, 0, 0, 0, 0, true},
      {1, 4, 7, 7, 3, 3, 2, 2, 0, 0, 0, 0, true},
      {1, 4, 7, 7, 3, 3, 2, 2, 0, 0, 0, 0, false},
      {1, 2, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false},  // ResNet's pool
      {1, 3, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, true},
      {1, 2, 8, 9, 2, 2, 2, 2, 0, 0, 0, 0, false},
      {1, 2, 7, 7, 2, 2, 2, 2, 0, 0, 0, 0, true},
      {1, 2, 33, 35, 2, 2, 2, 2, 0, 0, 0, 0, true},
      {1, 2, 10, 37, 3, 3, 1, 1, 1, 1, 1, 1, false},    // Inception's 3x3/1 pools
      {1, 2, 17, 17, 3, 3, 1, 1, 0, 0, 0, 0, false},
      {1, 1, 6, 40, 5, 5, 2, 2, 2, 2, 2, 2, true},
      {1, 1, 7, 61, 4, 4, 2, 2, 1, 2, 2, 1, true},      // asymmetric pads, even kernel
      {1, 1, 5, 50, 3, 17, 1, 2, 1, 8, 1, 8, false},   // the widest kernel the AVX-512 plane takes
      {1, 1, 5, 50, 3, 17, 1, 1, 0, 3, 0, 5, false},
      {1, 1, 5, 50, 2, 18, 1, 1, 0, 0, 0, 0, false},   // one wider: the row-buffered path
      {1, 2, 9, 9, 3, 3, 3, 3, 1, 1, 1, 1, true},      // stride 3 along the row
      {1, 1, 3, 33, 1, 1, 1, 2, 0, 0, 0, 0, false},
      {1, 2, 4, 20, 3, 1, 1, 2, 1, 0, 1, 0, false},
      {1, 1, 3, 300, 3, 3, 2, 2, 0, 0, 0, 0, true},
      {1, 1, 6, 4500, 3, 3, 2, 2, 1, 1, 1, 1, false},  // wider than the row buffer
      {1, 2, 16, 16, 16, 16, 1, 1, 0, 0, 0, 0, false}, // one window per plane
      {1, 1, 20, 5, 19, 2, 1, 1, 0, 0, 0, 0, false},   // more rows per window than one column pass takes
      {2, 2, 0, 100, 1, 3, 1, 2, 0, 1, 0, 1, true},    // 1-D
      {1, 1, 0, 16, 1, 1, 1, 1, 0, 0, 0, 0, false},
  };
  return cases;
}

std::vector<cpu::SgemmIsa> AllIsas() {
  return {cpu::SgemmIsa::kPortable, cpu::SgemmIsa::kAvx2, cpu::SgemmIsa::kAvx512};
}

}  // namespace

TEST_CASE("MaxPool fast paths match a brute-force reference on every ISA", "[cpu][pool][pool_vector]") {
  ThreadPool one(1), two(2);
  for (cpu::SgemmIsa isa : AllIsas()) {
    if (!cpu::ForceSgemmIsa(isa)) continue;
    for (const ThreadPool* pool : {&one, &two}) {
      uint32_t seed = 1;
      for (const PoolCase& pc : Cases()) {
        INFO("isa " << cpu::SgemmIsaName(isa) << ", threads " << pool->threads() << ", input " << pc.n << "x"
                    << pc.c << "x" << pc.h << "x" << pc.w << ", kernel " << pc.kh << "x" << pc.kw << ", strides "
                    << pc.sh << "x" << pc.sw << ", pads " << pc.pt << "," << pc.pl << "," << pc.pb << ","
                    << pc.pr << (pc.ceil ? ", ceil" : ""));
        CheckCase<float>(pc, *pool, seed++);
      }
    }
  }
  cpu::ResetSgemmIsa();
}

TEST_CASE("MaxPool row-buffered path for float64 and 8-bit integers", "[cpu][pool][pool_vector]") {
  ThreadPool two(2);
  const std::vector<PoolCase> cases = {
      {1, 3, 27, 27, 3, 3, 2, 2, 0, 0, 0, 0, true},
      {1, 2, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, false},
      {1, 2, 10, 37, 3, 3, 1, 1, 1, 1, 1, 1, false},
      {1, 1, 9, 9, 3, 3, 3, 3, 1, 1, 1, 1, true},
  };
  uint32_t seed = 100;
  for (const PoolCase& pc : cases) {
    CheckCase<double>(pc, two, seed++);
    CheckCase<int8_t>(pc, two, seed++);
    CheckCase<uint8_t>(pc, two, seed++);
  }
}

TEST_CASE("MaxPool with Indices agrees with the fast path on finite inputs", "[cpu][pool][pool_vector]") {
  // The Indices output takes the checked per-window loops; its values must equal the vector paths'.
  std::vector<float> x(2 * 3 * 23 * 29);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  for (float& v : x) v = value(rng);
  AttributeMap attrs;
  attrs.Set("kernel_shape", IntsAttr({3, 3}));
  attrs.Set("strides", IntsAttr({2, 2}));
  attrs.Set("pads", IntsAttr({1, 0, 1, 1}));
  attrs.Set("ceil_mode", IntAttr(1));
  const Tensor input = Tensor::FromVector<float>(Shape{2, 3, 23, 29}, x);
  auto with_indices = test::RunOp("MaxPool", 12, attrs, {input}, 2);
  auto plain = test::RunOp("MaxPool", 12, attrs, {input}, 1);
  REQUIRE(with_indices.ok());
  REQUIRE(plain.ok());
  REQUIRE((*plain)[0].shape() == (*with_indices)[0].shape());
  CHECK(test::Values<float>((*plain)[0]) == test::Values<float>((*with_indices)[0]));
}
