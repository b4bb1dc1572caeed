// edgeai_kernel_bench: GFLOP/s of the SGEMM entry points on the shapes the bundled models run, at a given
// thread count, so that a kernel change can be judged in isolation from the rest of a model.
//
//   build/bench/edgeai_kernel_bench [--threads N] [--min-time S] [--packed-b] [--cold] [MxNxK ...]
//
// Each shape runs C = A * B with A packed once (as Conv weights are) and B packed per call, or with
// --packed-b the other way round (as MatMul and Gemm weights are), and is timed for at least --min-time
// seconds; the figure printed is the median of 5 such runs. With --cold every product starts with its
// operands out of the caches (a 64 MB buffer is swept between products and only the products are timed): a
// model's classifier weights are evicted by the rest of the network between two of its runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/thread_pool.h"

namespace {

struct GemmCase {
  int64_t m, n, k;
  const char* what;
};

// Conv weights [out channels x in channels * kernel] times im2col columns, and the transformer's products.
const GemmCase kDefaultCases[] = {
    {512, 512, 512, "square"},
    {64, 3136, 576, "resnet18 layer1 3x3"},
    {256, 196, 2304, "resnet18 layer3 3x3"},
    {512, 49, 4608, "resnet18 layer4 3x3"},
    {96, 12544, 16, "mobilenet_v2 expand 1x1, K=16"},
    {144, 3136, 24, "mobilenet_v2 expand 1x1, K=24"},
    {576, 196, 96, "mobilenet_v2 expand 1x1, K=96"},
    {1000, 169, 512, "squeezenet1_1 classifier 1x1"},
    {128, 1024, 256, "transformer FFN up (tokens x 4d)"},
    {128, 256, 1024, "transformer FFN down"},
};

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Evicts the caches by writing and reading a buffer larger than the last level cache.
void SweepCaches() {
  static std::vector<float> sweep(size_t{16} << 20);
  float sum = 0.0f;
  for (size_t i = 0; i < sweep.size(); i += 16) {
    sweep[i] += 1.0f;
    sum += sweep[i];
  }
  volatile float sink = sum;
  (void)sink;
}

double MeasureGflops(const GemmCase& c, bool packed_b, bool cold, const edgeai::ThreadPool& pool,
                     double min_time) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  std::vector<float> a(static_cast<size_t>(c.m * c.k)), b(static_cast<size_t>(c.k * c.n));
  std::vector<float> out(static_cast<size_t>(c.m * c.n));
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);
  const edgeai::cpu::SgemmPacked packed = packed_b ? edgeai::cpu::PackSgemmB(false, c.k, c.n, b.data(), c.n)
                                                   : edgeai::cpu::PackSgemmA(false, c.m, c.k, a.data(), c.k, c.n);
  auto run = [&] {
    if (packed_b) {
      edgeai::cpu::SgemmPackedB(false, c.m, a.data(), c.k, packed, 1.0f, 0.0f, out.data(), c.n, pool);
    } else {
      edgeai::cpu::SgemmPackedA(packed, false, c.n, b.data(), c.n, 1.0f, 0.0f, out.data(), c.n, pool);
    }
  };
  for (int i = 0; i < 3; ++i) run();
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) {
    int64_t runs = 0;
    double elapsed = 0.0;
    const auto wall_start = std::chrono::steady_clock::now();
    do {
      if (cold) SweepCaches();
      const auto start = std::chrono::steady_clock::now();
      run();
      elapsed += Seconds(std::chrono::steady_clock::now() - start);
      ++runs;
    } while (Seconds(std::chrono::steady_clock::now() - wall_start) < min_time / 5);
    rates.push_back(2.0 * c.m * c.n * c.k * runs / elapsed * 1e-9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

bool ParseShape(const std::string& text, GemmCase* c) {
  long long m = 0, n = 0, k = 0;
  if (std::sscanf(text.c_str(), "%lldx%lldx%lld", &m, &n, &k) != 3 || m <= 0 || n <= 0 || k <= 0) return false;
  *c = GemmCase{m, n, k, "command line"};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  double min_time = 1.0;
  bool packed_b = false;
  bool cold = false;
  std::vector<GemmCase> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--packed-b") {
      packed_b = true;
    } else if (arg == "--cold") {
      cold = true;
    } else if (arg == "--min-time" && i + 1 < argc) {
      min_time = std::max(0.05, std::atof(argv[++i]));
    } else {
      GemmCase c{};
      if (!ParseShape(arg, &c)) {
        std::fprintf(stderr, "usage: %s [--threads N] [--min-time S] [--packed-b] [--cold] [MxNxK ...]\n", argv[0]);
        return 2;
      }
      cases.push_back(c);
    }
  }
  if (cases.empty()) cases.assign(std::begin(kDefaultCases), std::end(kDefaultCases));
  edgeai::ThreadPool pool(threads);
  std::printf("sgemm (%s), %d thread(s), %s prepacked%s: GFLOP/s, median of 5\n",
              edgeai::cpu::SgemmIsaName(edgeai::cpu::ActiveSgemmIsa()), threads, packed_b ? "B" : "A",
              cold ? ", cold caches" : "");
  for (const GemmCase& c : cases) {
    std::printf("  %5lld x %5lld x %5lld  %8.1f  %s\n", static_cast<long long>(c.m), static_cast<long long>(c.n),
                static_cast<long long>(c.k), MeasureGflops(c, packed_b, cold, pool, min_time), c.what);
  }
  return 0;
}
