#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

using namespace edgeai;
using namespace edgeai::cpu;

namespace {

struct Problem {
  GemmShape s;
  float alpha = 1.0f, beta = 0.0f;
  std::vector<float> a, b, c0;  // stored as the shape says (transposed storage, leading dimensions)
};

std::vector<float> RandomVector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Leading dimensions get `pad` extra columns, so that strided operands are exercised.
Problem MakeProblem(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float alpha, float beta, int64_t pad,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p;
  p.s.m = m;
  p.s.n = n;
  p.s.k = k;
  p.s.trans_a = ta;
  p.s.trans_b = tb;
  p.s.lda = (ta ? m : k) + pad;
  p.s.ldb = (tb ? k : n) + pad;
  p.s.ldc = n + pad;
  p.alpha = alpha;
  p.beta = beta;
  p.a = RandomVector(static_cast<size_t>((ta ? k : m) * p.s.lda), rng);
  p.b = RandomVector(static_cast<size_t>((tb ? n : k) * p.s.ldb), rng);
  p.c0 = RandomVector(static_cast<size_t>(m * p.s.ldc), rng);
  return p;
}

float At(const Problem& p, int64_t i, int64_t k) { return p.s.trans_a ? p.a[k * p.s.lda + i] : p.a[i * p.s.lda + k]; }
float Bt(const Problem& p, int64_t k, int64_t j) { return p.s.trans_b ? p.b[j * p.s.ldb + k] : p.b[k * p.s.ldb + j]; }

// Compares c with a double-precision product; the tolerance scales with the magnitudes summed. The padding
// columns of C must be untouched.
void CheckResult(const Problem& p, const std::vector<float>& c, const std::string& what) {
  INFO(what << " m=" << p.s.m << " n=" << p.s.n << " k=" << p.s.k << " ta=" << p.s.trans_a
            << " tb=" << p.s.trans_b << " alpha=" << p.alpha << " beta=" << p.beta << " isa="
            << SgemmIsaName(ActiveSgemmIsa()));
  int64_t bad = 0;
  for (int64_t i = 0; i < p.s.m; ++i) {
    for (int64_t j = 0; j < p.s.ldc; ++j) {
      const size_t idx = static_cast<size_t>(i * p.s.ldc + j);
      if (j >= p.s.n) {
        if (c[idx] != p.c0[idx]) ++bad;
        continue;
      }
      double sum = 0.0, mag = 0.0;
      for (int64_t k = 0; k < p.s.k; ++k) {
        const double t = static_cast<double>(At(p, i, k)) * Bt(p, k, j);
        sum += t;
        mag += std::fabs(t);
      }
      const double c0 = p.beta == 0.0f ? 0.0 : static_cast<double>(p.beta) * p.c0[idx];
      const double want = p.alpha * sum + c0;
      const double tol = 2e-6 * (std::fabs(p.alpha) * mag + std::fabs(c0)) + 1e-6;
      if (!(std::fabs(c[idx] - want) <= tol)) {
        if (bad < 3) WARN("C(" << i << "," << j << ") = " << c[idx] << ", want " << want);
        ++bad;
      }
    }
  }
  CHECK(bad == 0);
}

// ...T: A packed for the transposed product (an expected N of 1 always prefers it).
enum class Api { kPlain, kPackedA, kPackedB, kRows, kPackedARows, kPackedAT, kPackedARowsT };

std::vector<float> RunApi(const Problem& p, Api api, const ThreadPool& pool) {
  std::vector<float> c = p.c0;
  const GemmShape& s = p.s;
  auto rows = [&](int64_t k, int64_t j0, int64_t n, float* out) {
    for (int64_t j = 0; j < n; ++j) out[j] = Bt(p, k, j0 + j);
  };
  switch (api) {
    case Api::kPlain:
      Sgemm(s, p.alpha, p.a.data(), p.b.data(), p.beta, c.data(), pool);
      break;
    case Api::kPackedA: {
      SgemmPacked pa = PackSgemmA(s.trans_a, s.m, s.k, p.a.data(), s.lda);
      SgemmPackedA(pa, s.trans_b, s.n, p.b.data(), s.ldb, p.alpha, p.beta, c.data(), s.ldc, pool);
      break;
    }
    case Api::kPackedB: {
      SgemmPacked pb = PackSgemmB(s.trans_b, s.k, s.n, p.b.data(), s.ldb);
      SgemmPackedB(s.trans_a, s.m, p.a.data(), s.lda, pb, p.alpha, p.beta, c.data(), s.ldc, pool);
      break;
    }
    case Api::kRows:
      SgemmRows(s, p.alpha, p.a.data(), rows, p.beta, c.data(), pool);
      break;
    case Api::kPackedARows: {
      SgemmPacked pa = PackSgemmA(s.trans_a, s.m, s.k, p.a.data(), s.lda);
      SgemmPackedA(pa, s.n, rows, p.alpha, p.beta, c.data(), s.ldc, pool);
      break;
    }
    case Api::kPackedAT: {
      SgemmPacked pa = PackSgemmA(s.trans_a, s.m, s.k, p.a.data(), s.lda, /*expected_n=*/1);
      SgemmPackedA(pa, s.trans_b, s.n, p.b.data(), s.ldb, p.alpha, p.beta, c.data(), s.ldc, pool);
      break;
    }
    case Api::kPackedARowsT: {
      SgemmPacked pa = PackSgemmA(s.trans_a, s.m, s.k, p.a.data(), s.lda, /*expected_n=*/1);
      SgemmPackedA(pa, s.n, rows, p.alpha, p.beta, c.data(), s.ldc, pool);
      break;
    }
  }
  return c;
}

const char* ApiName(Api api) {
  switch (api) {
    case Api::kPlain: return "Sgemm";
    case Api::kPackedA: return "SgemmPackedA";
    case Api::kPackedB: return "SgemmPackedB";
    case Api::kRows: return "SgemmRows";
    case Api::kPackedARows: return "SgemmPackedA(rows)";
    case Api::kPackedAT: return "SgemmPackedA(transposed layout)";
    case Api::kPackedARowsT: return "SgemmPackedA(rows, transposed layout)";
  }
  return "?";
}

std::vector<SgemmIsa> SupportedIsas() {
  std::vector<SgemmIsa> out;
  for (SgemmIsa isa : {SgemmIsa::kPortable, SgemmIsa::kAvx2, SgemmIsa::kAvx512}) {
    if (SgemmIsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

// Restores automatic selection however a test ends.
struct IsaGuard {
  ~IsaGuard() { ResetSgemmIsa(); }
};

}  // namespace

TEST_CASE("Sgemm: the portable level is always available and one level is active", "[cpu][gemm]") {
  CHECK(SgemmIsaSupported(SgemmIsa::kPortable));
  CHECK(SgemmIsaSupported(ActiveSgemmIsa()));
  ThreadPool pool(2);
  PrepareSgemmThreads(pool);  // sizes the threads' buffers; a second call has nothing to do
  PrepareSgemmThreads(pool);
#if !defined(__x86_64__)
  CHECK_FALSE(SgemmIsaSupported(SgemmIsa::kAvx512));
  CHECK_FALSE(ForceSgemmIsa(SgemmIsa::kAvx2));
#endif
}

TEST_CASE("Sgemm matches a double-precision reference on edge sizes", "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool1(1), pool2(2);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 13, 14, 15, 16, 17, 31, 33, 47, 48, 49, 63, 64, 65, 67};
  uint32_t seed = 1;
  for (SgemmIsa isa : SupportedIsas()) {
    REQUIRE(ForceSgemmIsa(isa));
    for (int64_t m : sizes) {
      for (int64_t n : sizes) {
        // Every (m, n) pair with a K that cycles through the sizes, every transpose combination across pairs.
        const int64_t k = sizes[(m * 7 + n) % 20];
        const bool ta = (m + n) % 2 == 1, tb = (m / 2 + n) % 2 == 1;
        const Problem p = MakeProblem(m, n, k, ta, tb, 1.0f, 0.0f, (m + n) % 3, seed++);
        CheckResult(p, RunApi(p, Api::kPlain, (m + n) % 2 ? pool2 : pool1), "Sgemm");
      }
    }
  }
}

TEST_CASE("Sgemm: transposes, alpha, beta, strides, thread counts and every entry point", "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool1(1), pool2(2);
  struct Dims {
    int64_t m, n, k;
  };
  // Around the register tiles, the K blocks (256) and the M and N cache blocks; 15 and 16 rows take the
  // AVX-512 16 x 16 tiles.
  const Dims dims[] = {{1, 1, 1},      {1, 1000, 67},  {67, 1, 33},     {2, 37, 300},  {29, 65, 257},
                       {64, 196, 576}, {130, 49, 520}, {200, 530, 300}, {17, 600, 40}, {16, 300, 270},
                       {15, 37, 40}};
  const float scalars[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-1.5f, 0.25f}};
  uint32_t seed = 100;
  for (SgemmIsa isa : SupportedIsas()) {
    REQUIRE(ForceSgemmIsa(isa));
    for (const Dims& d : dims) {
      for (int t = 0; t < 4; ++t) {
        const float* ab = scalars[(t + d.m) % 3];
        const Problem p = MakeProblem(d.m, d.n, d.k, t & 1, t & 2, ab[0], ab[1], t == 3 ? 5 : 0, seed++);
        for (Api api : {Api::kPlain, Api::kPackedA, Api::kPackedB, Api::kRows, Api::kPackedARows, Api::kPackedAT,
                        Api::kPackedARowsT}) {
          for (const ThreadPool* pool : {&pool1, &pool2}) {
            CheckResult(p, RunApi(p, api, *pool), std::string(ApiName(api)) + " threads " +
                                                      std::to_string(pool->threads()));
          }
        }
      }
    }
  }
}

TEST_CASE("Sgemm: beta 0 ignores NaN in C; K 0 scales C; empty products do nothing", "[cpu][gemm]") {
  ThreadPool pool(2);
  Problem p = MakeProblem(20, 40, 30, false, false, 1.0f, 0.0f, 0, 7);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> c(p.c0.size(), nan);
  Sgemm(p.s, p.alpha, p.a.data(), p.b.data(), 0.0f, c.data(), pool);
  p.c0.assign(p.c0.size(), 0.0f);
  CheckResult(p, c, "beta 0 over NaN");

  GemmShape s;
  s.m = 2;
  s.n = 3;
  s.k = 0;
  s.lda = 1;
  s.ldb = 3;
  s.ldc = 3;
  std::vector<float> c2 = {1, 2, 3, 4, 5, 6};
  Sgemm(s, 1.0f, nullptr, nullptr, 2.0f, c2.data(), pool);
  CHECK(c2 == std::vector<float>{2, 4, 6, 8, 10, 12});
  Sgemm(s, 1.0f, nullptr, nullptr, 0.0f, c2.data(), pool);
  CHECK(c2 == std::vector<float>(6, 0.0f));
  s.m = 0;
  Sgemm(s, 1.0f, nullptr, nullptr, 0.0f, nullptr, pool);  // nothing to touch
  SgemmPacked empty = PackSgemmA(false, 0, 5, nullptr, 5);
  CHECK(empty.rows() == 0);
  SgemmPackedA(empty, false, 4, nullptr, 4, 1.0f, 0.0f, nullptr, 4, pool);
}

TEST_CASE("Sgemm: an operand packed at one level still works after the level changes", "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool(2);
  const std::vector<SgemmIsa> isas = SupportedIsas();
  for (SgemmIsa pack_isa : isas) {
    for (SgemmIsa run_isa : isas) {
      for (int64_t m : {37, 16}) {
        const Problem p = MakeProblem(m, 70, 300, false, true, 1.0f, 0.5f, 0, 3);
        REQUIRE(ForceSgemmIsa(pack_isa));
        SgemmPacked pa = PackSgemmA(false, p.s.m, p.s.k, p.a.data(), p.s.lda);
        SgemmPacked pb = PackSgemmB(true, p.s.k, p.s.n, p.b.data(), p.s.ldb);
        REQUIRE(ForceSgemmIsa(run_isa));
        std::vector<float> c = p.c0;
        SgemmPackedA(pa, true, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, c.data(), p.s.ldc, pool);
        CheckResult(p, c, std::string("packed A at ") + SgemmIsaName(pack_isa));
        c = p.c0;
        SgemmPackedB(false, p.s.m, p.a.data(), p.s.lda, pb, p.alpha, p.beta, c.data(), p.s.ldc, pool);
        CheckResult(p, c, std::string("packed B at ") + SgemmIsaName(pack_isa));
      }
    }
  }
}

TEST_CASE("Sgemm: a row bias is added once, across K blocks and thread counts", "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool1(1), pool2(2);
  uint32_t seed = 50;
  for (SgemmIsa isa : SupportedIsas()) {
    REQUIRE(ForceSgemmIsa(isa));
    for (int64_t k : {0, 5, 300, 600}) {
      for (const ThreadPool* pool : {&pool1, &pool2}) {
        const Problem p = MakeProblem(45, 70, k, false, false, 0.75f, k == 5 ? 0.5f : 0.0f, 3, seed++);
        std::mt19937 rng(seed);
        const std::vector<float> bias = RandomVector(static_cast<size_t>(p.s.m), rng);
        auto rows = [&](int64_t kk, int64_t j0, int64_t n, float* out) {
          for (int64_t j = 0; j < n; ++j) out[j] = Bt(p, kk, j0 + j);
        };
        const SgemmPacked pa = PackSgemmA(false, p.s.m, p.s.k, p.a.data(), p.s.lda);
        const SgemmPacked pt = PackSgemmA(false, p.s.m, p.s.k, p.a.data(), p.s.lda, /*expected_n=*/1);
        std::vector<float> c1 = p.c0, c2 = p.c0, c3 = p.c0, c4 = p.c0, c5 = p.c0;
        SgemmPackedA(pa, false, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, c1.data(), p.s.ldc, *pool, bias.data());
        SgemmPackedA(pa, p.s.n, rows, p.alpha, p.beta, c2.data(), p.s.ldc, *pool, bias.data());
        SgemmRows(p.s, p.alpha, p.a.data(), rows, p.beta, c3.data(), *pool, bias.data());
        SgemmPackedA(pt, false, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, c4.data(), p.s.ldc, *pool, bias.data());
        SgemmPackedA(pt, p.s.n, rows, p.alpha, p.beta, c5.data(), p.s.ldc, *pool, bias.data());
        // Subtract the bias and compare with the plain product.
        for (std::vector<float>* c : {&c1, &c2, &c3, &c4, &c5}) {
          for (int64_t i = 0; i < p.s.m; ++i) {
            for (int64_t j = 0; j < p.s.n; ++j) (*c)[static_cast<size_t>(i * p.s.ldc + j)] -= bias[i];
          }
          CheckResult(p, *c, "row bias, k=" + std::to_string(k));
        }
      }
    }
  }
}

TEST_CASE("Sgemm: an output clamp applies once, after the bias, on every entry point; NaN stays NaN",
          "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool1(1), pool2(2);
  uint32_t seed = 80;
  const OutputClamp clamp{-0.3f, 0.4f};
  for (SgemmIsa isa : SupportedIsas()) {
    REQUIRE(ForceSgemmIsa(isa));
    for (int64_t k : {0, 5, 300, 600}) {
      for (const ThreadPool* pool : {&pool1, &pool2}) {
        Problem p = MakeProblem(45, 70, k, false, false, 0.75f, k == 5 ? 0.5f : 0.0f, 3, seed++);
        if (k > 0) p.a[0] = std::numeric_limits<float>::quiet_NaN();  // row 0 of C is NaN
        std::mt19937 rng(seed);
        const std::vector<float> bias = RandomVector(static_cast<size_t>(p.s.m), rng);
        auto rows = [&](int64_t kk, int64_t j0, int64_t n, float* out) {
          for (int64_t j = 0; j < n; ++j) out[j] = Bt(p, kk, j0 + j);
        };
        const SgemmPacked pa = PackSgemmA(false, p.s.m, p.s.k, p.a.data(), p.s.lda);
        const SgemmPacked pt = PackSgemmA(false, p.s.m, p.s.k, p.a.data(), p.s.lda, /*expected_n=*/1);
        const SgemmPacked pb = PackSgemmB(false, p.s.k, p.s.n, p.b.data(), p.s.ldb);
        std::vector<float> want = p.c0;
        SgemmPackedA(pa, false, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, want.data(), p.s.ldc, *pool,
                     bias.data());
        std::vector<float> plain_want = p.c0;
        Sgemm(p.s, p.alpha, p.a.data(), p.b.data(), p.beta, plain_want.data(), *pool);
        std::vector<float> c1 = p.c0, c2 = p.c0, c3 = p.c0, c4 = p.c0, c5 = p.c0, c6 = p.c0, c7 = p.c0;
        const float* bd = bias.data();
        SgemmPackedA(pa, false, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, c1.data(), p.s.ldc, *pool, bd, &clamp);
        SgemmPackedA(pa, p.s.n, rows, p.alpha, p.beta, c2.data(), p.s.ldc, *pool, bd, &clamp);
        SgemmRows(p.s, p.alpha, p.a.data(), rows, p.beta, c3.data(), *pool, bd, &clamp);
        SgemmPackedA(pt, false, p.s.n, p.b.data(), p.s.ldb, p.alpha, p.beta, c4.data(), p.s.ldc, *pool, bd, &clamp);
        SgemmPackedA(pt, p.s.n, rows, p.alpha, p.beta, c5.data(), p.s.ldc, *pool, bd, &clamp);
        Sgemm(p.s, p.alpha, p.a.data(), p.b.data(), p.beta, c6.data(), *pool, &clamp);
        SgemmPackedB(false, p.s.m, p.a.data(), p.s.lda, pb, p.alpha, p.beta, c7.data(), p.s.ldc, *pool, &clamp);
        auto check = [&](const std::vector<float>& c, const std::vector<float>& ref, const char* what) {
          INFO(what << " k=" << k << " isa=" << SgemmIsaName(isa) << " threads=" << pool->threads());
          int64_t bad = 0;
          for (int64_t i = 0; i < p.s.m; ++i) {
            for (int64_t j = 0; j < p.s.ldc; ++j) {
              const size_t idx = static_cast<size_t>(i * p.s.ldc + j);
              const float r = ref[idx];
              const float expect = j >= p.s.n ? r : (r < clamp.lo ? clamp.lo : (r > clamp.hi ? clamp.hi : r));
              const bool same = std::isnan(expect) ? std::isnan(c[idx]) : std::fabs(c[idx] - expect) <= 1e-5f;
              if (!same) ++bad;
            }
          }
          CHECK(bad == 0);
        };
        for (const std::vector<float>* c : {&c1, &c2, &c3, &c4, &c5}) check(*c, want, "with bias");
        check(c6, plain_want, "Sgemm");
        check(c7, plain_want, "SgemmPackedB");
        if (k > 0) CHECK(std::isnan(c1[0]));
      }
    }
  }
}

TEST_CASE("SgemmPackedB with a few rows (streamed against the packed panels) on every row count and epilogue",
          "[cpu][gemm]") {
  IsaGuard guard;
  ThreadPool pool1(1), pool2(2);
  uint32_t seed = 400;
  const OutputClamp clamp{-0.5f, 0.6f};
  for (SgemmIsa isa : SupportedIsas()) {
    REQUIRE(ForceSgemmIsa(isa));
    // 1..8 rows take the streamed path where the level has one; 9 is back on the blocked path. K 600 spans
    // three K blocks, N 1000 ends in a part panel, N 20 is a single part panel.
    for (int64_t m = 1; m <= 9; ++m) {
      for (const auto& [n, k] : {std::pair<int64_t, int64_t>{1000, 600}, {20, 7}, {70, 300}}) {
        for (int t = 0; t < 2; ++t) {
          const bool trans_a = t == 1;
          const float beta = m % 2 == 0 ? 0.5f : 0.0f;
          Problem p = MakeProblem(m, n, k, trans_a, false, m == 3 ? 0.75f : 1.0f, beta, trans_a ? 3 : 0, seed++);
          std::mt19937 rng(seed);
          const std::vector<float> col_bias = RandomVector(static_cast<size_t>(n), rng);
          const SgemmPacked pb = PackSgemmB(false, k, n, p.b.data(), p.s.ldb);
          for (const ThreadPool* pool : {&pool1, &pool2}) {
            const std::string what = std::string(SgemmIsaName(isa)) + " threads " + std::to_string(pool->threads());
            std::vector<float> c = p.c0;
            SgemmPackedB(trans_a, m, p.a.data(), p.s.lda, pb, p.alpha, p.beta, c.data(), p.s.ldc, *pool);
            CheckResult(p, c, "plain, " + what);
            // The column bias and clamp against the plain result, applied by hand.
            std::vector<float> fused = p.c0;
            SgemmPackedB(trans_a, m, p.a.data(), p.s.lda, pb, p.alpha, p.beta, fused.data(), p.s.ldc, *pool, &clamp,
                         col_bias.data());
            int64_t bad = 0;
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = 0; j < p.s.ldc; ++j) {
                const size_t idx = static_cast<size_t>(i * p.s.ldc + j);
                float want = c[idx];
                if (j < n) want = std::min(clamp.hi, std::max(clamp.lo, want + col_bias[static_cast<size_t>(j)]));
                if (!(std::fabs(fused[idx] - want) <= 1e-5f)) ++bad;
              }
            }
            INFO("bias and clamp, " << what << " m=" << m << " n=" << n << " k=" << k << " trans_a=" << trans_a);
            CHECK(bad == 0);
          }
        }
      }
    }
  }
}

TEST_CASE("SgemmPackedB with a few rows keeps NaN and ignores C when beta is 0", "[cpu][gemm]") {
  ThreadPool pool(2);
  Problem p = MakeProblem(2, 100, 300, false, false, 1.0f, 0.0f, 0, 9);
  p.a[5] = std::numeric_limits<float>::quiet_NaN();  // row 0 of C is NaN
  const SgemmPacked pb = PackSgemmB(false, p.s.k, p.s.n, p.b.data(), p.s.ldb);
  std::vector<float> c(p.c0.size(), std::numeric_limits<float>::quiet_NaN());
  const OutputClamp relu{0.0f, std::numeric_limits<float>::infinity()};
  SgemmPackedB(false, 2, p.a.data(), p.s.lda, pb, 1.0f, 0.0f, c.data(), p.s.ldc, pool, &relu);
  for (int64_t j = 0; j < p.s.n; ++j) {
    CHECK(std::isnan(c[static_cast<size_t>(j)]));
    CHECK(c[static_cast<size_t>(p.s.ldc + j)] >= 0.0f);  // row 1: finite, clamped at 0
  }
}

TEST_CASE("Dgemm matches a reference", "[cpu][gemm]") {
  ThreadPool pool(2);
  GemmShape s;
  s.m = 3;
  s.n = 2;
  s.k = 4;
  s.trans_b = true;
  s.lda = 4;
  s.ldb = 4;
  s.ldc = 2;
  const std::vector<double> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<double> b = {1, 0, -1, 2, 0.5, 0.5, 0.5, 0.5};  // B^T rows
  std::vector<double> c = {1, 1, 1, 1, 1, 1};
  Dgemm(s, 2.0, a.data(), b.data(), -1.0, c.data(), pool);
  // Row i of A times (1, 0, -1, 2) and (.5, .5, .5, .5), doubled, minus 1.
  CHECK(c == std::vector<double>{2 * 6 - 1, 2 * 5 - 1, 2 * 14 - 1, 2 * 13 - 1, 2 * 22 - 1, 2 * 21 - 1});
}
