#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/vector_math.h"

using namespace edgeai::cpu;

namespace {

struct IsaGuard {
  ~IsaGuard() { ResetSgemmIsa(); }
};

}  // namespace

TEST_CASE("ExpShiftedSum matches std::exp within 2 ulp at every ISA level and length", "[cpu][vector_math]") {
  IsaGuard guard;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-90.0f, 40.0f);  // sums of up to 1000 stay finite
  for (SgemmIsa isa : {SgemmIsa::kPortable, SgemmIsa::kAvx2, SgemmIsa::kAvx512}) {
    if (!ForceSgemmIsa(isa)) continue;
    INFO("isa " << SgemmIsaName(isa));
    for (int64_t n : {1, 7, 16, 17, 40, 1000}) {
      std::vector<float> x(static_cast<size_t>(n)), y(x.size());
      for (float& v : x) v = dist(rng);
      const float shift = 0.5f;
      const float sum = ExpShiftedSum(x.data(), shift, y.data(), n);
      double want_sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const float want = std::exp(x[i] - shift);
        want_sum += want;
        const float tol = 2.0f * (std::nextafter(want, std::numeric_limits<float>::infinity()) - want);
        INFO("x = " << x[i]);
        CHECK(std::fabs(y[i] - want) <= std::max(tol, 1e-38f));
      }
      CHECK(std::fabs(sum - want_sum) <= 1e-5 * want_sum + 1e-37);
    }
    // Special values: NaN stays NaN, -inf and very negative give 0, 0 gives 1, in place.
    std::vector<float> s = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
                            -200.0f, 0.0f, 1.0f};
    ExpShiftedSum(s.data(), 0.0f, s.data(), static_cast<int64_t>(s.size()));
    CHECK(std::isnan(s[0]));
    CHECK(s[1] == 0.0f);
    CHECK(s[2] == 0.0f);
    CHECK(s[3] == 1.0f);
    CHECK(s[4] == Approx(2.718281828f).epsilon(1e-6));
  }
}

TEST_CASE("RowMax and ScaleRow at every ISA level", "[cpu][vector_math]") {
  IsaGuard guard;
  for (SgemmIsa isa : {SgemmIsa::kPortable, SgemmIsa::kAvx2, SgemmIsa::kAvx512}) {
    if (!ForceSgemmIsa(isa)) continue;
    INFO("isa " << SgemmIsaName(isa));
    for (int64_t n : {1, 5, 16, 33}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7) % 11) - 20.0f;
      x[static_cast<size_t>(n / 2)] = 3.5f;
      CHECK(RowMax(x.data(), n) == 3.5f);
      ScaleRow(x.data(), n, 2.0f);
      CHECK(x[static_cast<size_t>(n / 2)] == 7.0f);
      x[static_cast<size_t>(n - 1)] = std::numeric_limits<float>::quiet_NaN();
      CHECK(std::isnan(RowMax(x.data(), n)));
    }
  }
}

TEST_CASE("RowMeanVar and NormalizeRow match double-precision sums at every ISA level", "[cpu][vector_math]") {
  IsaGuard guard;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(3.0f, 2.0f);  // an offset mean: a one-pass variance would lose digits
  for (SgemmIsa isa : {SgemmIsa::kPortable, SgemmIsa::kAvx2, SgemmIsa::kAvx512}) {
    if (!ForceSgemmIsa(isa)) continue;
    INFO("isa " << SgemmIsaName(isa));
    for (int64_t n : {1, 7, 16, 33, 256}) {
      INFO("n " << n);
      std::vector<float> x(static_cast<size_t>(n)), scale(x.size()), bias(x.size()), y(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        x[i] = dist(rng);
        scale[i] = dist(rng);
        bias[i] = dist(rng);
      }
      double sum = 0.0, sq = 0.0;
      for (float v : x) sum += v;
      const double m = sum / static_cast<double>(n);
      for (float v : x) sq += (v - m) * (v - m);
      float mean = 0.0f, var = 0.0f;
      RowMeanVar(x.data(), n, &mean, &var);
      CHECK(mean == Approx(m).epsilon(1e-5));
      CHECK(var == Approx(sq / static_cast<double>(n)).epsilon(1e-4).margin(1e-6));
      const float inv = 0.5f;
      for (const float* b : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
        NormalizeRow(x.data(), n, mean, inv, scale.data(), b, y.data());
        for (int64_t i = 0; i < n; ++i) {
          const double want = (x[i] - mean) * inv * scale[i] + (b ? b[i] : 0.0f);
          CHECK(y[i] == Approx(want).epsilon(1e-5).margin(1e-5));
        }
      }
    }
  }
}
