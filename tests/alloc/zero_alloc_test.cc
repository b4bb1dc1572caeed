// A warm inference performs no heap allocation. This test binary interposes the C allocator (every C++
// allocation goes through it too) and counts calls while repeated runs of real models execute.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <random>

#include "edgeai/engine.h"
#include "tests/graph/passes/blocked_model.h"

extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* ptr);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void Note() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  Note();
  return __libc_malloc(size);
}
void free(void* ptr) { __libc_free(ptr); }
void* calloc(size_t count, size_t size) {
  Note();
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, size_t size) {
  Note();
  return __libc_realloc(ptr, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Note();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  Note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  Note();
  *out = __libc_memalign(alignment, size);
  return *out ? 0 : ENOMEM;
}
}

using namespace edgeai;

namespace {

// Symbolic (batch) dims take `batch`. `model` names a file of tests/data, or holds the model's bytes when
// `from_bytes`.
long CountAllocationsOfWarmRuns(const std::string& model, int threads, int64_t batch = 1, bool from_bytes = false,
                                const std::string& memory_layout = "auto") {
  EngineOptions options;
  options.threads = threads;
  options.memory_layout = memory_layout;
  EdgeAIEngine engine(options);
  Status loaded = from_bytes ? engine.LoadModelFromBytes(model)
                             : engine.LoadModel(std::string(EDGEAI_TEST_DATA_DIR) + "/" + model + ".onnx");
  INFO(loaded.ToString());
  REQUIRE(loaded.ok());
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  NamedTensors inputs;
  for (const TensorInfo& info : engine.inputs()) {
    Shape shape;
    for (const Dim& d : info.dims) shape.push_back(d.value < 0 ? batch : d.value);
    Tensor t = Tensor::Allocate(info.dtype, shape).value();
    for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = normal(rng);
    inputs[info.name] = t;
  }
  NamedTensors outputs;
  for (int warm = 0; warm < 3; ++warm) REQUIRE(engine.Run(inputs, &outputs).ok());
  g_allocations = 0;
  g_counting = true;
  bool all_ok = true;
  for (int run = 0; run < 5; ++run) all_ok = engine.Run(inputs, &outputs).ok() && all_ok;
  g_counting = false;
  CHECK(all_ok);
  return g_allocations.load();
}

}  // namespace

TEST_CASE("warm runs of squeezenet1_1 allocate nothing", "[alloc]") {
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 1) == 0);
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 2) == 0);
}

TEST_CASE("warm runs in either memory layout allocate nothing", "[alloc]") {
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 2, 1, false, "spread") == 0);
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 2, 1, false, "reuse") == 0);
  CHECK(CountAllocationsOfWarmRuns("transformer_enc4", 2, 1, false, "spread") == 0);
}

// Batch 8 runs image by image (the engine's batch split), images side by side at two threads.
TEST_CASE("warm runs of squeezenet1_1 at batch 8 allocate nothing", "[alloc]") {
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 1, 8) == 0);
  CHECK(CountAllocationsOfWarmRuns("squeezenet1_1", 2, 8) == 0);
}

TEST_CASE("warm runs of transformer_enc4 allocate nothing", "[alloc]") {
  CHECK(CountAllocationsOfWarmRuns("transformer_enc4", 1) == 0);
  CHECK(CountAllocationsOfWarmRuns("transformer_enc4", 2) == 0);
}

TEST_CASE("warm runs of the recurrent and MLP models allocate nothing, at batch 1 and 8", "[alloc]") {
  for (const char* model : {"gru2", "lstm2", "mlp"}) {
    for (int threads : {1, 2}) {
      for (int64_t batch : {1, 8}) {
        INFO(model << " threads " << threads << " batch " << batch);
        CHECK(CountAllocationsOfWarmRuns(model, threads, batch) == 0);
      }
    }
  }
}

// On AVX-512 CPUs this model runs in the channel-blocked layout (BlockedConv, reorders, blocked Adds).
TEST_CASE("warm runs of a MobileNet-like model allocate nothing, at batch 1 and 8", "[alloc]") {
  const std::string model = testing::InvertedResiduals(32, 14, 3);
  for (int threads : {1, 2}) {
    for (int64_t batch : {1, 8}) {
      INFO("threads " << threads << " batch " << batch);
      CHECK(CountAllocationsOfWarmRuns(model, threads, batch, /*from_bytes=*/true) == 0);
    }
  }
}

TEST_CASE("the allocation counter sees allocations", "[alloc]") {
  g_allocations = 0;
  g_counting = true;
  void* p = std::malloc(100);
  auto* q = new std::vector<int>(10);
  g_counting = false;
  std::free(p);
  delete q;
  CHECK(g_allocations.load() >= 3);
}
