// Buffer sharing in planned runs (OpDef::in_place): views (Reshape, Flatten, Unsqueeze, Identity) take their
// input's bytes, elementwise ops write over an input nobody reads afterwards, and everything the plan must
// refuse (inputs read later, graph inputs, constants, graph outputs, changed dynamic shapes) keeps its own
// memory. A test-only Record op copies its input to its output and notes both data pointers, which shows
// where the executor placed each tensor.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "backend/cpu/cpu_ops.h"
#include "backend/thread_pool.h"
#include "edgeai/engine.h"
#include "graph/executor.h"
#include "graph/onnx_importer.h"
#include "graph/shape_inference.h"
#include "tests/e2e/reference_data.h"
#include "tests/graph/model_builder.h"

using namespace edgeai;
using edgeai::testing::ModelBuilder;

namespace {

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;
constexpr const char* kTestDomain = "test.edgeai";

struct Seen {
  const void* in = nullptr;
  const void* out = nullptr;
};
// Written by Record kernels (under RecordsMutex: one test runs concurrently).
std::map<std::string, Seen>& Records() {
  static std::map<std::string, Seen> records;
  return records;
}
std::mutex& RecordsMutex() {
  static std::mutex mutex;
  return mutex;
}

class RecordKernel final : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    name_ = std::string(ctx.node_name());
    return Status::Ok();
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& in = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * out, ctx.Output(0, in.shape()));
    if (in.ByteSize() > 0) std::memcpy(out->raw_data(), in.raw_data(), in.ByteSize());
    std::lock_guard<std::mutex> lock(RecordsMutex());
    Records()[name_] = Seen{in.raw_data(), out->raw_data()};
    return Status::Ok();
  }

 private:
  std::string name_;
};

Status InferRecord(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  ctx.output(0) = ctx.input(0);
  return Status::Ok();
}

const OpRegistry& TestRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry;
    for (const OpDef* def : CpuOpRegistry().Defs()) (void)r->Register(*def);
    OpDef record;
    record.op_type = "Record";
    record.domain = kTestDomain;
    record.infer = InferRecord;
    record.create = MakeKernel<RecordKernel>;
    (void)r->Register(record);
    return r;
  }();
  return *registry;
}

ModelBuilder NewModel() {
  ModelBuilder b;
  auto* opset = b.proto().add_opset_import();
  opset->set_domain(kTestDomain);
  opset->set_version(1);
  return b;
}

void Record(ModelBuilder& b, const std::string& in, const std::string& out) {
  b.Node("Record", {in}, {out}, "rec_" + out).set_domain(kTestDomain);
}

void Int64Initializer(ModelBuilder& b, const std::string& name, const std::vector<int64_t>& values) {
  auto* t = b.proto().mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(kInt64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
}

// A compiled graph without optimisation passes (so that Identity and standalone Relu stay).
struct Compiled {
  explicit Compiled(int threads) : pool(threads) {}
  ThreadPool pool;
  std::shared_ptr<const Graph> graph;
  std::unique_ptr<Executor> exec;
};

std::unique_ptr<Compiled> Compile(const std::string& bytes, RunLimits limits = {}, int threads = 1) {
  auto c = std::make_unique<Compiled>(threads);
  Result<ImportedModel> model = ImportOnnxModel(bytes, ImportOptions{}, TestRegistry());
  INFO(model.status().ToString());
  REQUIRE(model.ok());
  Result<std::vector<int>> order = model->graph.TopologicalOrder();
  REQUIRE(order.ok());
  Status inferred = InferGraphShapes(model->graph, *order, TestRegistry());
  INFO(inferred.ToString());
  REQUIRE(inferred.ok());
  c->graph = std::make_shared<const Graph>(std::move(model->graph));
  Result<std::unique_ptr<Executor>> exec = Executor::Create(c->graph, TestRegistry(), c->pool, limits);
  INFO(exec.status().ToString());
  REQUIRE(exec.ok());
  c->exec = std::move(exec).value();
  return c;
}

Tensor Floats(const Shape& shape, float start, float step) {
  Tensor t = Tensor::Allocate(DataType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = start + step * static_cast<float>(i);
  return t;
}

NamedTensors MustRun(const Compiled& c, const NamedTensors& inputs) {
  Records().clear();
  Result<NamedTensors> out = c.exec->Run(inputs);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return std::move(out).value();
}

// y = x * w through Reshape, Flatten, Unsqueeze and Identity; z = Reshape(a) is a graph output.
std::string ViewModel() {
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {2, 3, 4}).Output("y", kFloat, {1, 6, 4}).Output("z", kFloat, {24});
  b.FloatInitializer("w", {4}, {1, -2, 3, -4});
  Int64Initializer(b, "shape64", {6, 4});
  Int64Initializer(b, "flat", {24});
  Int64Initializer(b, "axes0", {0});
  b.Node("Mul", {"x", "w"}, {"m"});
  Record(b, "m", "a");
  b.Node("Reshape", {"a", "shape64"}, {"r"});
  b.Node("Flatten", {"r"}, {"f"});
  b.Node("Unsqueeze", {"f", "axes0"}, {"u"});
  b.Node("Identity", {"u"}, {"i"});
  Record(b, "i", "y");
  b.Node("Reshape", {"a", "flat"}, {"z"});
  return b.Bytes();
}

void CheckTimesW(const Tensor& t, float start) {
  const float w[4] = {1, -2, 3, -4};
  for (int64_t k = 0; k < t.NumElements(); ++k) {
    INFO("element " << k);
    CHECK(t.data<float>()[k] == (start + static_cast<float>(k)) * w[k % 4]);
  }
}

}  // namespace

TEST_CASE("views share their input's buffer in planned runs, not in the recording run",
          "[graph][executor][inplace]") {
  auto c = Compile(ViewModel());
  Tensor x = Floats(Shape{2, 3, 4}, 0, 1);
  NamedTensors first = MustRun(*c, {{"x", x}});  // records the sizes: every tensor has its own memory
  CHECK(Records().at("rec_y").in != Records().at("rec_a").out);
  CheckTimesW(first.at("y"), 0);
  CheckTimesW(first.at("z"), 0);
  CHECK(c->exec->memory_stats().aliased == 4);  // r, f, u, i (z is a graph output)

  NamedTensors second = MustRun(*c, {{"x", x}});
  // The Reshape -> Flatten -> Unsqueeze -> Identity chain is a view of a's bytes: no copy.
  CHECK(Records().at("rec_y").in == Records().at("rec_a").out);
  CHECK(second.at("y").shape() == Shape{1, 6, 4});
  CheckTimesW(second.at("y"), 0);
  // The graph output z is a Reshape of an arena tensor but owns its memory.
  const Tensor& z = second.at("z");
  CHECK(z.owns_data());
  CHECK(z.raw_data() != Records().at("rec_a").out);
  CheckTimesW(z, 0);

  NamedTensors third = MustRun(*c, {{"x", Floats(Shape{2, 3, 4}, 100, 1)}});
  CheckTimesW(third.at("y"), 100);
  CheckTimesW(third.at("z"), 100);
  CheckTimesW(second.at("z"), 0);  // earlier results are not overwritten by later runs
  CheckTimesW(second.at("y"), 0);
}

TEST_CASE("Relu and Add write over an input whose last reader they are", "[graph][executor][inplace]") {
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {8}).Output("y", kFloat, {8});
  b.FloatInitializer("w", {8}, {1, -1, 2, -2, 3, -3, 4, -4});
  b.Node("Mul", {"x", "w"}, {"m"});
  Record(b, "m", "a");
  b.Node("Relu", {"a"}, {"r"});
  Record(b, "r", "p");
  b.Node("Sub", {"x", "w"}, {"d"});
  Record(b, "d", "q");
  b.Node("Add", {"p", "q"}, {"s"});
  Record(b, "s", "y");
  auto c = Compile(b.Bytes());
  Tensor x = Floats(Shape{8}, -3, 1);
  const float w[8] = {1, -1, 2, -2, 3, -3, 4, -4};
  for (int run = 0; run < 3; ++run) {
    INFO("run " << run);
    NamedTensors out = MustRun(*c, {{"x", x}});
    for (int k = 0; k < 8; ++k) {
      float xv = x.data<float>()[k];
      CHECK(out.at("y").data<float>()[k] == std::max(0.0f, xv * w[k]) + (xv - w[k]));
    }
    const Seen& relu_out = Records().at("rec_p");
    const Seen& add_out = Records().at("rec_y");
    if (run == 0) {
      CHECK(relu_out.in != Records().at("rec_a").out);
    } else {
      CHECK(relu_out.in == Records().at("rec_a").out);  // Relu wrote over a
      CHECK((add_out.in == relu_out.out || add_out.in == Records().at("rec_q").out));
    }
  }
  CHECK(c->exec->memory_stats().aliased == 2);
}

TEST_CASE("in-place writes are refused where the input is still needed or not the arena's",
          "[graph][executor][inplace]") {
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {2, 4}).Output("y", kFloat, {2, 4}).Output("g", kFloat, {2, 4});
  b.FloatInitializer("w", {2, 4}, {1, -1, 2, -2, 3, -3, 4, -4});
  Int64Initializer(b, "flat", {8});
  Int64Initializer(b, "back", {2, 4});
  b.Node("Mul", {"x", "w"}, {"m"});
  Record(b, "m", "a");
  b.Node("Reshape", {"a", "flat"}, {"v"});  // a view of a, read after the Relu below
  b.Node("Relu", {"a"}, {"r"});             // must not overwrite a: v still holds a's bytes
  Record(b, "r", "p");
  b.Node("Reshape", {"v", "back"}, {"v2"});
  b.Node("Add", {"p", "v2"}, {"s"});
  b.Node("Relu", {"x"}, {"rx"});            // x belongs to the caller
  b.Node("Add", {"s", "rx"}, {"t"});
  b.Node("Neg", {"w"}, {"nw"});             // w is a constant
  b.Node("Add", {"t", "nw"}, {"y"});
  b.Node("Relu", {"t"}, {"g"});             // a graph output: its own memory, whatever t's last use
  auto c = Compile(b.Bytes());
  Tensor x = Floats(Shape{2, 4}, -4, 1);
  Tensor x_copy = x.Clone().value();
  NamedTensors kept;
  for (int run = 0; run < 4; ++run) {
    INFO("run " << run);
    NamedTensors out = MustRun(*c, {{"x", x}});
    if (run == 1) kept = out;
    CHECK(Records().at("rec_p").in != Records().at("rec_a").out);
    for (int k = 0; k < 8; ++k) {
      float xv = x.data<float>()[k], wv = c->graph->values[c->graph->FindValue("w")].constant.data<float>()[k];
      float t = std::max(0.0f, xv * wv) + xv * wv + std::max(0.0f, xv);
      CHECK(out.at("y").data<float>()[k] == t - wv);
      CHECK(out.at("g").data<float>()[k] == std::max(0.0f, t));
      CHECK(x.data<float>()[k] == x_copy.data<float>()[k]);
    }
    CHECK(out.at("g").owns_data());
  }
  // The earlier run's outputs were not written over by the later runs.
  for (int k = 0; k < 8; ++k) {
    float xv = x.data<float>()[k], wv = c->graph->values[c->graph->FindValue("w")].constant.data<float>()[k];
    float t = std::max(0.0f, xv * wv) + xv * wv + std::max(0.0f, xv);
    CHECK(kept.at("y").data<float>()[k] == t - wv);
  }
}

TEST_CASE("shared buffers follow data-dependent shapes that change between planned runs",
          "[graph][executor][inplace]") {
  // NonZero's output size depends on the data, not on the input shape, so runs with the same input shape
  // reuse a plan made for another size.
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {8}).Output("y", kInt64, {-1});
  Int64Initializer(b, "flat", {-1});
  b.Node("NonZero", {"x"}, {"nz"});
  Record(b, "nz", "a");
  b.Node("Neg", {"a"}, {"n"});
  b.Node("Reshape", {"n", "flat"}, {"r"});
  b.Node("Add", {"r", "r"}, {"s"});
  Record(b, "s", "y");
  auto c = Compile(b.Bytes());
  const std::vector<std::vector<float>> inputs = {
      {0, 1, 0, 2, 0, 3, 0, 0}, {0, 1, 0, 2, 0, 3, 0, 0}, {1, 1, 1, 0, 0, 1, 1, 0},
      {0, 0, 0, 0, 0, 0, 7, 0}, {5, 0, 0, 0, 0, 0, 7, 0}, {1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& values : inputs) {
    Tensor x = Tensor::FromVector<float>(Shape{8}, values);
    NamedTensors out = MustRun(*c, {{"x", x}});
    std::vector<int64_t> expected;
    for (int64_t k = 0; k < 8; ++k) {
      if (values[k] != 0) expected.push_back(-2 * k);
    }
    const Tensor& y = out.at("y");
    REQUIRE(y.NumElements() == static_cast<int64_t>(expected.size()));
    for (size_t k = 0; k < expected.size(); ++k) CHECK(y.data<int64_t>()[k] == expected[k]);
  }
}

TEST_CASE("an input planned full-sized but broadcast in a later run is not written over",
          "[graph][executor][inplace]") {
  // Add(a, c) is planned to write over a (as large as c when planned). Later a is [2,1] and broadcast along
  // rows: writing row 0's sums over a's bytes would clobber a[1] before row 1 reads it.
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {2, 4}).Input("x2", kFloat, {2, 4}).Output("y", kInt64, {2, -1});
  b.Node("NonZero", {"x"}, {"nz"});
  Record(b, "nz", "a");
  b.Node("NonZero", {"x2"}, {"nz2"});
  Record(b, "nz2", "c");
  b.Node("Add", {"a", "c"}, {"s"});
  Record(b, "s", "y");
  auto c = Compile(b.Bytes());
  Tensor x2 = Tensor::FromVector<float>(Shape{2, 4}, {0, 1, 1, 0, 1, 0, 0, 0});  // [[0,0,1],[1,2,0]]
  const std::vector<std::vector<float>> xs = {
      {1, 0, 1, 0, 0, 0, 0, 1}, {1, 0, 1, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 1, 0}};
  const std::vector<std::vector<int64_t>> expected = {
      {0, 0, 2, 1, 4, 3}, {0, 0, 2, 1, 4, 3}, {1, 1, 2, 3, 4, 2}, {1, 1, 2, 3, 4, 2}};
  for (size_t run = 0; run < xs.size(); ++run) {
    INFO("run " << run);
    NamedTensors out = MustRun(*c, {{"x", Tensor::FromVector<float>(Shape{2, 4}, xs[run])}, {"x2", x2}});
    const Tensor& y = out.at("y");
    REQUIRE(y.shape() == Shape{2, 3});
    for (int k = 0; k < 6; ++k) CHECK(y.data<int64_t>()[k] == expected[run][k]);
    if (run == 1) CHECK(Records().at("rec_y").in == Records().at("rec_a").out);  // in place when sizes match
  }
}

TEST_CASE("turning memory reuse off turns sharing off", "[graph][executor][inplace]") {
  RunLimits limits;
  limits.reuse_memory = false;
  auto c = Compile(ViewModel(), limits);
  Tensor x = Floats(Shape{2, 3, 4}, 0, 1);
  for (int run = 0; run < 2; ++run) {
    NamedTensors out = MustRun(*c, {{"x", x}});
    CheckTimesW(out.at("y"), 0);
    CHECK(Records().at("rec_y").in != Records().at("rec_a").out);
  }
  CHECK(c->exec->memory_stats().aliased == 0);
}

TEST_CASE("concurrent planned runs with shared buffers match", "[graph][executor][inplace][concurrency]") {
  auto c = Compile(ViewModel());
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int run = 0; run < 50; ++run) {
        float start = static_cast<float>(100 * i + run);
        Result<NamedTensors> out = c->exec->Run({{"x", Floats(Shape{2, 3, 4}, start, 1)}});
        if (!out.ok()) {
          ++bad[i];
          continue;
        }
        const float w[4] = {1, -2, 3, -4};
        for (const char* name : {"y", "z"}) {
          const Tensor& t = out->at(name);
          for (int64_t k = 0; k < t.NumElements(); ++k) {
            if (t.data<float>()[k] != (start + static_cast<float>(k)) * w[k % 4]) ++bad[i];
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) CHECK(bad[i] == 0);
}

namespace {

// Planned runs (which share buffers) must give exactly the recording run's outputs, and ONNX Runtime's.
void CheckPlannedRunsMatch(const std::string& model, const std::string& level) {
  EngineOptions options;
  options.threads = 1;
  options.optimization_level = level;
  EdgeAIEngine engine(options);
  REQUIRE(engine.LoadModel(edgeai::test::TestDataDir() + "/" + model + ".onnx").ok());
  NamedTensors inputs = edgeai::test::ReadReferenceTensors(model, "in");
  NamedTensors expected = edgeai::test::ReadReferenceTensors(model, "ort");
  Result<NamedTensors> recorded = engine.Run(inputs);
  REQUIRE(recorded.ok());
  for (int run = 0; run < 2; ++run) {
    Result<NamedTensors> planned = engine.Run(inputs);
    REQUIRE(planned.ok());
    for (const auto& [name, ref] : expected) {
      INFO(model << " at " << level << ", output " << name << ", planned run " << run);
      const Tensor& got = planned->at(name);
      const Tensor& first = recorded->at(name);
      REQUIRE(got.shape() == ref.shape());
      int64_t differ = 0, far = 0;
      for (int64_t k = 0; k < ref.NumElements(); ++k) {
        float g = got.data<float>()[k], e = ref.data<float>()[k];
        differ += g != first.data<float>()[k];
        far += !(std::fabs(g - e) <= 1e-4f + 1e-3f * std::fabs(e));
      }
      CHECK(differ == 0);
      CHECK(far == 0);
    }
  }
}

}  // namespace

TEST_CASE("planned runs of the reference models match the recording run", "[graph][executor][inplace][e2e]") {
  for (const char* level : {"none", "all"}) {
    CheckPlannedRunsMatch("mlp", level);
    CheckPlannedRunsMatch("squeezenet1_1", level);
    CheckPlannedRunsMatch("transformer_enc4", level);
  }
}

namespace {

// x -> Mul(w) -> a -> b -> c -> y, each arrow but the first a Record: c's bytes may be a's (dead after b).
std::string ChainModel() {
  ModelBuilder b = NewModel();
  b.Input("x", kFloat, {2, 3, 4}).Output("y", kFloat, {2, 3, 4});
  b.FloatInitializer("w", {4}, {1, -2, 3, -4});
  b.Node("Mul", {"x", "w"}, {"m"});
  Record(b, "m", "a");
  Record(b, "a", "b");
  Record(b, "b", "c");
  Record(b, "c", "y");
  return b.Bytes();
}

// The planned bytes of a, b and c in the last run, pairwise apart.
bool ChainSpread() {
  const void* a = Records().at("rec_a").out;
  const void* b = Records().at("rec_b").out;
  const void* c = Records().at("rec_c").out;
  return a != b && b != c && a != c;
}

}  // namespace

TEST_CASE("runs whose threads share no cache give every tensor bytes of its own", "[graph][executor][inplace]") {
  auto c = Compile(ChainModel(), RunLimits{}, 2);
  Tensor x = Floats(Shape{2, 3, 4}, 0, 1);
  c->pool.SetCacheSharing(CacheSharing::kShared);
  MustRun(*c, {{"x", x}});  // records the sizes
  NamedTensors reused = MustRun(*c, {{"x", x}});
  CheckTimesW(reused.at("y"), 0);
  // The reused layout puts c over a, which b has consumed.
  CHECK(Records().at("rec_c").out == Records().at("rec_a").out);
  const void* reused_a = Records().at("rec_a").out;

  c->pool.SetCacheSharing(CacheSharing::kSplit);
  for (int run = 0; run < 2; ++run) {
    NamedTensors spread = MustRun(*c, {{"x", Floats(Shape{2, 3, 4}, 10.0f * run, 1)}});
    CheckTimesW(spread.at("y"), 10.0f * run);
    CHECK(ChainSpread());
    CHECK(Records().at("rec_a").out != reused_a);
  }
  // And back: the two layouts alternate run by run with the finding.
  c->pool.SetCacheSharing(CacheSharing::kShared);
  NamedTensors again = MustRun(*c, {{"x", Floats(Shape{2, 3, 4}, 5, 1)}});
  CheckTimesW(again.at("y"), 5);
  CHECK(Records().at("rec_a").out == reused_a);
  CHECK(Records().at("rec_c").out == reused_a);
}

namespace {

// ChainModel compiled with `layout` on `threads`, the pool's cache finding fixed to `sharing`, after a recording
// run and a planned one whose result is checked.
std::unique_ptr<Compiled> PlannedChain(MemoryLayout layout, int threads, CacheSharing sharing) {
  RunLimits limits;
  limits.memory_layout = layout;
  auto c = Compile(ChainModel(), limits, threads);
  c->pool.SetCacheSharing(sharing);
  Tensor x = Floats(Shape{2, 3, 4}, 0, 1);
  MustRun(*c, {{"x", x}});
  CheckTimesW(MustRun(*c, {{"x", x}}).at("y"), 0);
  return c;
}

}  // namespace

TEST_CASE("memory_layout fixes the layout; one-thread runs always reuse", "[graph][executor][inplace]") {
  SECTION("reuse keeps the plan's sharing even without a shared cache") {
    auto c = PlannedChain(MemoryLayout::kReuse, 2, CacheSharing::kSplit);
    CHECK(Records().at("rec_c").out == Records().at("rec_a").out);
  }
  SECTION("spread spreads with a shared cache too") {
    auto c = PlannedChain(MemoryLayout::kSpread, 2, CacheSharing::kShared);
    CHECK(ChainSpread());
  }
  SECTION("a one-thread pool has one core's cache: spread does not apply") {
    auto c = PlannedChain(MemoryLayout::kSpread, 1, CacheSharing::kProbe);
    CHECK(Records().at("rec_c").out == Records().at("rec_a").out);
  }
}

TEST_CASE("the spread layout keeps views on their input's bytes", "[graph][executor][inplace]") {
  RunLimits limits;
  limits.memory_layout = MemoryLayout::kSpread;
  auto c = Compile(ViewModel(), limits, 2);
  Tensor x = Floats(Shape{2, 3, 4}, 0, 1);
  MustRun(*c, {{"x", x}});
  NamedTensors out = MustRun(*c, {{"x", x}});
  CHECK(Records().at("rec_y").in == Records().at("rec_a").out);
  CheckTimesW(out.at("y"), 0);
  CheckTimesW(out.at("z"), 0);
}

TEST_CASE("memory_layout names are checked", "[graph][executor]") {
  CHECK(ParseMemoryLayout("auto").value() == MemoryLayout::kAuto);
  CHECK(ParseMemoryLayout("reuse").value() == MemoryLayout::kReuse);
  CHECK(ParseMemoryLayout("spread").value() == MemoryLayout::kSpread);
  Result<MemoryLayout> bad = ParseMemoryLayout("compact");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("'compact'") != std::string::npos);
  EngineOptions options;
  options.memory_layout = "compact";
  EdgeAIEngine engine(options);
  Status loaded = engine.LoadModelFromBytes(ChainModel());
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.code() == StatusCode::kInvalidArgument);
  CHECK(loaded.message().find("memory_layout") != std::string::npos);
}
