// If, Loop and Scan through the whole engine: bodies only exist as graph attributes imported from a model, so
// each test builds a tiny ONNX model and runs it.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "edgeai/engine.h"
#include "tests/graph/model_builder.h"

using namespace edgeai;
using edgeai::testing::ModelBuilder;

namespace {
constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;
constexpr int kInt32 = onnx::TensorProto::INT32;
constexpr int kBool = onnx::TensorProto::BOOL;

void SetGraph(onnx::NodeProto& node, const std::string& name, ModelBuilder& body) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::GRAPH);
  *attr->mutable_g() = body.proto().graph();
}

void SetInt(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(value);
}

void SetInts(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) attr->add_ints(v);
}

// A Constant node producing a float or int64 tensor.
void Constant(ModelBuilder& b, const std::string& name, int dtype, const std::vector<int64_t>& dims,
              const std::vector<double>& values) {
  onnx::NodeProto& node = b.Node("Constant", {}, {name}, "const_" + name);
  auto* attr = node.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto* t = attr->mutable_t();
  t->set_data_type(dtype);
  for (int64_t d : dims) t->add_dims(d);
  for (double v : values) {
    if (dtype == kFloat) t->add_float_data(static_cast<float>(v));
    if (dtype == kInt64) t->add_int64_data(static_cast<int64_t>(v));
  }
}

// Drops the declared shape of graph output i, so that what the engine reports is what inference found.
void ForgetOutputShape(ModelBuilder& b, int i) {
  b.proto().mutable_graph()->mutable_output(i)->mutable_type()->mutable_tensor_type()->clear_shape();
}

Result<NamedTensors> LoadAndRun(EdgeAIEngine& engine, ModelBuilder& b, const NamedTensors& inputs) {
  Status loaded = engine.LoadModelFromBytes(b.Bytes());
  if (!loaded.ok()) return loaded;
  return engine.Run(inputs);
}

Status LoadStatus(ModelBuilder& b) {
  EdgeAIEngine engine(EngineOptions{1});
  return engine.LoadModelFromBytes(b.Bytes());
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

Tensor Bool(bool v) { return Tensor::Scalar<bool>(v); }
Tensor Int64(int64_t v) { return Tensor::Scalar<int64_t>(v); }

// --------------------------------------------------------------------------------------------------- If

// out = cond ? x + x : x * w, where x is an outer input and w an outer initializer.
ModelBuilder IfModel() {
  ModelBuilder then_body;
  then_body.Output("t", kFloat, {3});
  then_body.Node("Add", {"x", "x"}, {"t"});
  ModelBuilder else_body;
  else_body.Output("e", kFloat, {3});
  else_body.Node("Mul", {"x", "w"}, {"e"});
  ModelBuilder b;
  b.Input("cond", kBool, {}).Input("x", kFloat, {3}).Output("out", kFloat, {3});
  b.FloatInitializer("w", {3}, {10, 20, 30});
  onnx::NodeProto& node = b.Node("If", {"cond"}, {"out"}, "if");
  SetGraph(node, "then_branch", then_body);
  SetGraph(node, "else_branch", else_body);
  ForgetOutputShape(b, 0);
  return b;
}
}  // namespace

TEST_CASE("If runs the chosen branch, reading outer values", "[cpu][control_flow]") {
  ModelBuilder b = IfModel();
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[0].Describe() == "float32[3]");
  Tensor x = Tensor::FromVector<float>(Shape{3}, {1, 2, 3});
  Result<NamedTensors> yes = engine.Run({{"cond", Bool(true)}, {"x", x}});
  REQUIRE(yes.ok());
  CHECK(Values<float>(yes->at("out")) == std::vector<float>{2, 4, 6});
  Result<NamedTensors> no = engine.Run({{"cond", Bool(false)}, {"x", x}});
  REQUIRE(no.ok());
  CHECK(Values<float>(no->at("out")) == std::vector<float>{10, 40, 90});
}

TEST_CASE("If branches may return different shapes; inference merges them", "[cpu][control_flow]") {
  ModelBuilder then_body;
  then_body.Output("t", kFloat, {-1, 2});
  Constant(then_body, "t", kFloat, {1, 2}, {1, 2});
  ModelBuilder else_body;
  else_body.Output("e", kFloat, {-1, 2});
  Constant(else_body, "e", kFloat, {3, 2}, {1, 2, 3, 4, 5, 6});
  ModelBuilder b(16);
  b.Input("cond", kBool, {}).Output("out", kFloat, {});
  onnx::NodeProto& node = b.Node("If", {"cond"}, {"out"}, "if");
  SetGraph(node, "then_branch", then_body);
  SetGraph(node, "else_branch", else_body);
  ForgetOutputShape(b, 0);
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[0].Describe() == "float32[?,2]");
  Result<NamedTensors> yes = engine.Run({{"cond", Bool(true)}});
  REQUIRE(yes.ok());
  CHECK(yes->at("out").shape() == Shape{1, 2});
  Result<NamedTensors> no = engine.Run({{"cond", Bool(false)}});
  REQUIRE(no.ok());
  CHECK(no->at("out").shape() == Shape{3, 2});
  CHECK(Values<float>(no->at("out")) == std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("If rejects a non-bool cond and branches with the wrong output count", "[cpu][control_flow]") {
  ModelBuilder bad_cond = IfModel();
  bad_cond.proto().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
  Status s = LoadStatus(bad_cond);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("cond must be bool"));

  ModelBuilder two_outputs = IfModel();
  auto* then_graph = two_outputs.proto().mutable_graph()->mutable_node(0)->mutable_attribute(0)->mutable_g();
  *then_graph->add_output() = then_graph->output(0);
  s = LoadStatus(two_outputs);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("then_branch has 2 outputs but the node has 1"));
}

// --------------------------------------------------------------------------------------------------- Loop

namespace {
// Loop(M, cond, acc): acc += x each iteration (x captured from outside); scans the iteration number as float.
// `m` / `cond` name the node's inputs ("" to omit).
ModelBuilder CountingLoop(const std::string& m, const std::string& cond) {
  ModelBuilder body;
  body.Input("i", kInt64, {}).Input("c_in", kBool, {}).Input("acc", kFloat, {2});
  body.Output("c_out", kBool, {}).Output("acc_out", kFloat, {2}).Output("i_f", kFloat, {});
  body.Node("Identity", {"c_in"}, {"c_out"});
  body.Node("Add", {"acc", "x"}, {"acc_out"});
  SetInt(body.Node("Cast", {"i"}, {"i_f"}), "to", kFloat);
  ModelBuilder b(11);
  b.Input("M", kInt64, {}).Input("cond", kBool, {}).Input("x", kFloat, {2});
  b.Output("acc_final", kFloat, {}).Output("iters", kFloat, {});
  b.FloatInitializer("acc0", {2}, {100, 200});
  SetGraph(b.Node("Loop", {m, cond, "acc0"}, {"acc_final", "iters"}, "loop"), "body", body);
  ForgetOutputShape(b, 0);
  ForgetOutputShape(b, 1);
  return b;
}
}  // namespace

TEST_CASE("Loop with a trip count only runs M times and stacks scan outputs", "[cpu][control_flow]") {
  ModelBuilder b = CountingLoop("M", "");
  b.proto().mutable_graph()->mutable_input()->DeleteSubrange(1, 1);  // cond is not a graph input here
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[0].Describe() == "float32[2]");
  CHECK(engine.outputs()[1].Describe() == "float32[?]");
  Tensor x = Tensor::FromVector<float>(Shape{2}, {1, -1});
  Result<NamedTensors> out = engine.Run({{"M", Int64(4)}, {"x", x}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("acc_final")) == std::vector<float>{104, 196});
  CHECK(out->at("iters").shape() == Shape{4});
  CHECK(Values<float>(out->at("iters")) == std::vector<float>{0, 1, 2, 3});

  // No iteration: the carried value is the initial one and scan outputs are empty.
  for (int64_t m : {0, -3}) {
    Result<NamedTensors> none = engine.Run({{"M", Int64(m)}, {"x", x}});
    REQUIRE(none.ok());
    CHECK(Values<float>(none->at("acc_final")) == std::vector<float>{100, 200});
    CHECK(none->at("iters").shape() == Shape{0});
  }
}

TEST_CASE("Loop with both M and cond stops at whichever ends first", "[cpu][control_flow]") {
  ModelBuilder b = CountingLoop("M", "cond");
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  Tensor x = Tensor::FromVector<float>(Shape{2}, {1, 2});
  Result<NamedTensors> out = engine.Run({{"M", Int64(3)}, {"cond", Bool(true)}, {"x", x}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("acc_final")) == std::vector<float>{103, 206});
  CHECK(Values<float>(out->at("iters")) == std::vector<float>{0, 1, 2});
  Result<NamedTensors> never = engine.Run({{"M", Int64(3)}, {"cond", Bool(false)}, {"x", x}});
  REQUIRE(never.ok());
  CHECK(Values<float>(never->at("acc_final")) == std::vector<float>{100, 200});
  CHECK(never->at("iters").shape() == Shape{0});
}

TEST_CASE("Loop with cond only runs until the body says stop", "[cpu][control_flow]") {
  // v doubles while it stays below the outer `limit`; the last value (the first >= limit) is kept.
  ModelBuilder body;
  body.Input("i", kInt64, {}).Input("c_in", kBool, {}).Input("v", kFloat, {});
  body.Output("c_out", kBool, {}).Output("v_out", kFloat, {}).Output("trace", kFloat, {});
  Constant(body, "two", kFloat, {}, {2});
  body.Node("Mul", {"v", "two"}, {"v_out"});
  body.Node("Less", {"v_out", "limit"}, {"c_out"});
  body.Node("Identity", {"v_out"}, {"trace"});
  ModelBuilder b(13);
  b.Input("cond", kBool, {}).Input("v0", kFloat, {}).Input("limit", kFloat, {});
  b.Output("v_final", kFloat, {}).Output("trace_all", kFloat, {-1});
  SetGraph(b.Node("Loop", {"", "cond", "v0"}, {"v_final", "trace_all"}, "loop"), "body", body);
  EdgeAIEngine engine(EngineOptions{1});
  Tensor one = Tensor::Scalar<float>(1);
  Tensor limit = Tensor::Scalar<float>(20);
  Result<NamedTensors> out = LoadAndRun(engine, b, {{"cond", Bool(true)}, {"v0", one}, {"limit", limit}});
  REQUIRE(out.ok());
  CHECK(out->at("v_final").data<float>()[0] == 32);
  CHECK(Values<float>(out->at("trace_all")) == std::vector<float>{2, 4, 8, 16, 32});
}

TEST_CASE("Loop-carried values may change shape between iterations", "[cpu][control_flow]") {
  ModelBuilder body;
  body.Input("i", kInt64, {}).Input("c_in", kBool, {}).Input("seq", kFloat, {-1}, "n");
  body.Output("c_out", kBool, {}).Output("seq_out", kFloat, {-1});
  body.Node("Identity", {"c_in"}, {"c_out"});
  SetInt(body.Node("Cast", {"i"}, {"i_f"}), "to", kFloat);
  body.Node("Unsqueeze", {"i_f", "zero"}, {"i_vec"});
  Constant(body, "zero", kInt64, {1}, {0});
  SetInt(body.Node("Concat", {"seq", "i_vec"}, {"seq_out"}), "axis", 0);
  ModelBuilder b(13);
  b.Input("M", kInt64, {}).Output("seq_final", kFloat, {-1});
  b.FloatInitializer("seq0", {1}, {-1});
  SetGraph(b.Node("Loop", {"M", "", "seq0"}, {"seq_final"}, "loop"), "body", body);
  EdgeAIEngine engine(EngineOptions{1});
  Result<NamedTensors> out = LoadAndRun(engine, b, {{"M", Int64(3)}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("seq_final")) == std::vector<float>{-1, 0, 1, 2});
}

TEST_CASE("an If nested in a Loop reads values of both enclosing graphs", "[cpu][control_flow]") {
  // Iterations 0 and 1 add the outer x; later ones multiply by the loop body's own constant k.
  ModelBuilder then_body;
  then_body.Output("t", kFloat, {2});
  then_body.Node("Add", {"acc", "x"}, {"t"});
  ModelBuilder else_body;
  else_body.Output("e", kFloat, {2});
  else_body.Node("Mul", {"acc", "k"}, {"e"});
  ModelBuilder body;
  body.Input("i", kInt64, {}).Input("c_in", kBool, {}).Input("acc", kFloat, {2});
  body.Output("c_out", kBool, {}).Output("acc_out", kFloat, {2});
  Constant(body, "two", kInt64, {}, {2});
  Constant(body, "k", kFloat, {}, {3});
  body.Node("Identity", {"c_in"}, {"c_out"});
  body.Node("Less", {"i", "two"}, {"early"});
  onnx::NodeProto& branch = body.Node("If", {"early"}, {"acc_out"}, "inner_if");
  SetGraph(branch, "then_branch", then_body);
  SetGraph(branch, "else_branch", else_body);
  ModelBuilder b(13);
  b.Input("M", kInt64, {}).Input("x", kFloat, {2}).Output("acc_final", kFloat, {2});
  b.FloatInitializer("acc0", {2}, {0, 1});
  SetGraph(b.Node("Loop", {"M", "", "acc0"}, {"acc_final"}, "loop"), "body", body);
  EdgeAIEngine engine(EngineOptions{2});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  Tensor x = Tensor::FromVector<float>(Shape{2}, {1, 2});
  // Concurrent runs share the compiled bodies.
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Result<NamedTensors> out = engine.Run({{"M", Int64(4)}, {"x", x}});
      if (out.ok()) results[t] = Values<float>(out->at("acc_final"));
    });
  }
  for (std::thread& thread : threads) thread.join();
  // [0,1] -> [1,3] -> [2,5] -> [6,15] -> [18,45]
  for (const auto& r : results) CHECK(r == std::vector<float>{18, 45});
}

TEST_CASE("bodies may return their inputs and outer values unchanged", "[cpu][control_flow]") {
  // The Loop body passes `keep` through and returns the outer x as a scan output; If returns x itself.
  ModelBuilder then_body;
  then_body.Output("x", kFloat, {2});
  ModelBuilder else_body;
  else_body.Output("x", kFloat, {2});
  ModelBuilder body;
  body.Input("i", kInt64, {}).Input("c_in", kBool, {}).Input("keep", kFloat, {2});
  body.Output("c_in", kBool, {}).Output("keep", kFloat, {2}).Output("picked", kFloat, {2});
  onnx::NodeProto& branch = body.Node("If", {"c_in"}, {"picked"}, "inner_if");
  SetGraph(branch, "then_branch", then_body);
  SetGraph(branch, "else_branch", else_body);
  ModelBuilder b(13);
  b.Input("M", kInt64, {}).Input("x", kFloat, {2});
  b.Output("keep_final", kFloat, {2}).Output("picked_all", kFloat, {2, 2});
  SetGraph(b.Node("Loop", {"M", "", "x"}, {"keep_final", "picked_all"}, "loop"), "body", body);
  EdgeAIEngine engine(EngineOptions{1});
  Tensor x = Tensor::FromVector<float>(Shape{2}, {5, 6});
  Result<NamedTensors> out = LoadAndRun(engine, b, {{"M", Int64(2)}, {"x", x}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("keep_final")) == std::vector<float>{5, 6});
  CHECK(Values<float>(out->at("picked_all")) == std::vector<float>{5, 6, 5, 6});
  CHECK(out->at("keep_final").raw_data() != x.raw_data());
}

TEST_CASE("Loop rejects a bad trip count and mismatched arity", "[cpu][control_flow]") {
  ModelBuilder float_m = CountingLoop("M", "cond");
  float_m.proto().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(kFloat);
  Status s = LoadStatus(float_m);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("trip count M must be int64"));

  ModelBuilder extra_output = CountingLoop("M", "cond");
  extra_output.proto().mutable_graph()->mutable_node(0)->add_output("extra");
  s = LoadStatus(extra_output);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("node has 3 outputs but its body yields 1 loop-carried values and 1 scan"));

  ModelBuilder vector_cond = CountingLoop("M", "cond");
  auto* cond_shape =
      vector_cond.proto().mutable_graph()->mutable_input(1)->mutable_type()->mutable_tensor_type()->mutable_shape();
  cond_shape->add_dim()->set_dim_value(2);
  s = LoadStatus(vector_cond);
  CHECK_THAT(s.message(), Catch::Contains("cond must hold one element"));
}

// --------------------------------------------------------------------------------------------------- Scan

namespace {
// A running sum body: (sum_in[2], x_t[2]) -> (sum_out, scan_out = sum_out).
ModelBuilder SumBody() {
  ModelBuilder body;
  body.Input("sum_in", kFloat, {2}).Input("next", kFloat, {2});
  body.Output("sum_out", kFloat, {2}).Output("scan_out", kFloat, {2});
  body.Node("Add", {"sum_in", "next"}, {"sum_out"});
  body.Node("Identity", {"sum_out"}, {"scan_out"});
  return body;
}

ModelBuilder ScanModel(const std::vector<int64_t>& x_dims) {
  ModelBuilder body = SumBody();
  ModelBuilder b(11);
  b.Input("init", kFloat, {2}).Input("x", kFloat, x_dims).Output("y", kFloat, {2}).Output("z", kFloat, {});
  onnx::NodeProto& node = b.Node("Scan", {"init", "x"}, {"y", "z"}, "scan");
  SetGraph(node, "body", body);
  SetInt(node, "num_scan_inputs", 1);
  ForgetOutputShape(b, 1);
  return b;
}
}  // namespace

TEST_CASE("Scan sums over axis 0 like the ONNX example", "[cpu][control_flow]") {
  ModelBuilder b = ScanModel({3, 2});
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[1].Describe() == "float32[3,2]");
  Tensor init = Tensor::FromVector<float>(Shape{2}, {0, 0});
  Tensor x = Tensor::FromVector<float>(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  Result<NamedTensors> out = engine.Run({{"init", init}, {"x", x}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("y")) == std::vector<float>{9, 12});
  CHECK(Values<float>(out->at("z")) == std::vector<float>{1, 2, 4, 6, 9, 12});
}

TEST_CASE("Scan honours input and output axes and directions", "[cpu][control_flow]") {
  // Columns of x scanned last to first; each running sum stored as a column, prepended.
  ModelBuilder b = ScanModel({2, 3});
  onnx::NodeProto* node = b.proto().mutable_graph()->mutable_node(0);
  SetInts(*node, "scan_input_axes", {-1});
  SetInts(*node, "scan_input_directions", {1});
  SetInts(*node, "scan_output_axes", {1});
  SetInts(*node, "scan_output_directions", {1});
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[1].Describe() == "float32[2,3]");
  Tensor init = Tensor::FromVector<float>(Shape{2}, {0, 0});
  Tensor x = Tensor::FromVector<float>(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Result<NamedTensors> out = engine.Run({{"init", init}, {"x", x}});
  REQUIRE(out.ok());
  // Columns in order 2, 1, 0: sums [3,6], [5,11], [6,15], stored at columns 2, 1, 0.
  CHECK(Values<float>(out->at("y")) == std::vector<float>{6, 15});
  CHECK(Values<float>(out->at("z")) == std::vector<float>{6, 5, 3, 15, 11, 6});
}

TEST_CASE("Scan zips a forward and a backward input and reads outer values", "[cpu][control_flow]") {
  // No state; out_t = (fwd_t - bwd_t) * scale, with scale from the outer graph.
  ModelBuilder body;
  body.Input("f", kFloat, {}).Input("r", kFloat, {}).Output("d", kFloat, {});
  body.Node("Sub", {"f", "r"}, {"diff"});
  body.Node("Mul", {"diff", "scale"}, {"d"});
  ModelBuilder b(16);
  b.Input("x", kFloat, {4}).Input("scale", kFloat, {}).Output("d_all", kFloat, {4});
  onnx::NodeProto& node = b.Node("Scan", {"x", "x"}, {"d_all"}, "scan");
  SetGraph(node, "body", body);
  SetInt(node, "num_scan_inputs", 2);
  SetInts(node, "scan_input_directions", {0, 1});
  EdgeAIEngine engine(EngineOptions{1});
  Tensor x = Tensor::FromVector<float>(Shape{4}, {1, 2, 4, 8});
  Result<NamedTensors> out = LoadAndRun(engine, b, {{"x", x}, {"scale", Tensor::Scalar<float>(10)}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("d_all")) == std::vector<float>{-70, -20, 20, 70});
}

TEST_CASE("Scan over an empty sequence returns the initial state and empty outputs", "[cpu][control_flow]") {
  ModelBuilder b = ScanModel({-1, 2});
  EdgeAIEngine engine(EngineOptions{1});
  Tensor init = Tensor::FromVector<float>(Shape{2}, {7, 8});
  Result<Tensor> x = Tensor::Allocate(DataType::kFloat32, Shape{0, 2});
  REQUIRE(x.ok());
  Result<NamedTensors> out = LoadAndRun(engine, b, {{"init", init}, {"x", *x}});
  REQUIRE(out.ok());
  CHECK(Values<float>(out->at("y")) == std::vector<float>{7, 8});
  CHECK(out->at("z").shape() == Shape{0, 2});
}

TEST_CASE("Scan-8 scans each batch entry over its own sequence length", "[cpu][control_flow]") {
  ModelBuilder body;
  body.Input("sum_in", kFloat, {1}).Input("next", kFloat, {1});
  body.Output("sum_out", kFloat, {1}).Output("scan_out", kFloat, {1});
  body.Node("Add", {"sum_in", "next"}, {"sum_out"});
  body.Node("Identity", {"sum_out"}, {"scan_out"});
  ModelBuilder b(8);
  b.Input("lens", kInt32, {2}).Input("init", kFloat, {2, 1}).Input("x", kFloat, {2, 3, 1});
  b.Output("y", kFloat, {2, 1}).Output("z", kFloat, {});
  onnx::NodeProto& node = b.Node("Scan", {"lens", "init", "x"}, {"y", "z"}, "scan");
  SetGraph(node, "body", body);
  SetInt(node, "num_scan_inputs", 1);
  SetInts(node, "directions", {1});
  ForgetOutputShape(b, 1);
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(b.Bytes()).ok());
  CHECK(engine.outputs()[1].Describe() == "float32[2,3,1]");
  Tensor lens = Tensor::FromVector<int32_t>(Shape{2}, {3, 2});
  Tensor init = Tensor::FromVector<float>(Shape{2, 1}, {0, 100});
  Tensor x = Tensor::FromVector<float>(Shape{2, 3, 1}, {1, 2, 3, 4, 5, 6});
  Result<NamedTensors> out = engine.Run({{"lens", lens}, {"init", init}, {"x", x}});
  REQUIRE(out.ok());
  // Batch 0 reversed over 3: 3, 5, 6. Batch 1 reversed over its first 2: 105, 109, then zero padding.
  CHECK(Values<float>(out->at("y")) == std::vector<float>{6, 109});
  CHECK(Values<float>(out->at("z")) == std::vector<float>{3, 5, 6, 105, 109, 0});

  Tensor too_long = Tensor::FromVector<int32_t>(Shape{2}, {3, 4});
  Status s = engine.Run({{"lens", too_long}, {"init", init}, {"x", x}}).status();
  CHECK_THAT(s.message(), Catch::Contains("sequence_lens[1] = 4 is outside [0, 3]"));
}

TEST_CASE("Scan rejects bad axes, missing attributes and sequence length mismatches", "[cpu][control_flow]") {
  ModelBuilder bad_axis = ScanModel({3, 2});
  SetInts(*bad_axis.proto().mutable_graph()->mutable_node(0), "scan_input_axes", {2});
  Status s = LoadStatus(bad_axis);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("scan_input_axes entry 2 is out of range for float32[3,2]"));

  ModelBuilder bad_dirs = ScanModel({3, 2});
  SetInts(*bad_dirs.proto().mutable_graph()->mutable_node(0), "scan_output_directions", {0, 1});
  CHECK_THAT(LoadStatus(bad_dirs).message(), Catch::Contains("scan_output_directions has 2 entries, expected 1"));

  ModelBuilder no_count = ScanModel({3, 2});
  no_count.proto().mutable_graph()->mutable_node(0)->mutable_attribute()->RemoveLast();
  CHECK_THAT(LoadStatus(no_count).message(), Catch::Contains("missing attribute 'num_scan_inputs'"));

  ModelBuilder body;
  body.Input("a", kFloat, {}).Input("b", kFloat, {}).Output("s", kFloat, {});
  body.Node("Add", {"a", "b"}, {"s"});
  ModelBuilder zip(11);
  zip.Input("x", kFloat, {-1}, "n").Input("y", kFloat, {-1}, "m").Output("s_all", kFloat, {-1});
  onnx::NodeProto& node = zip.Node("Scan", {"x", "y"}, {"s_all"}, "scan");
  SetGraph(node, "body", body);
  SetInt(node, "num_scan_inputs", 2);
  EdgeAIEngine engine(EngineOptions{1});
  REQUIRE(engine.LoadModelFromBytes(zip.Bytes()).ok());
  Tensor x = Tensor::FromVector<float>(Shape{3}, {1, 2, 3});
  Tensor y = Tensor::FromVector<float>(Shape{2}, {1, 2});
  s = engine.Run({{"x", x}, {"y", y}}).status();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("scan inputs disagree on the sequence length"));
}
