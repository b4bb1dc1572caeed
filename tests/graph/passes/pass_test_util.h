// Shared by the pass tests: build a tiny model with ModelBuilder, import and infer it, run one pass alone, and
// check that the engine computes the same outputs at every optimisation level.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/thread_pool.h"
#include "edgeai/engine.h"
#include "graph/onnx_importer.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"
#include "graph/shape_inference.h"
#include "tests/graph/model_builder.h"

namespace edgeai::testing {

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;

inline onnx::AttributeProto* AddAttr(onnx::NodeProto& node, const std::string& name,
                                     onnx::AttributeProto::AttributeType type) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
inline void AttrF(onnx::NodeProto& node, const std::string& name, float v) {
  AddAttr(node, name, onnx::AttributeProto::FLOAT)->set_f(v);
}
inline void AttrI(onnx::NodeProto& node, const std::string& name, int64_t v) {
  AddAttr(node, name, onnx::AttributeProto::INT)->set_i(v);
}
inline void AttrInts(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = AddAttr(node, name, onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline void Int64Initializer(ModelBuilder& b, const std::string& name, const std::vector<int64_t>& dims,
                             const std::vector<int64_t>& values) {
  auto* t = b.proto().mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
}
inline void BoolInitializer(ModelBuilder& b, const std::string& name, bool value) {
  auto* t = b.proto().mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::BOOL);
  t->add_int32_data(value ? 1 : 0);
}
inline void ScalarInitializer(ModelBuilder& b, const std::string& name, float value) {
  b.FloatInitializer(name, {}, {value});
}

// Deterministic pseudo-random values in [-1, 1).
inline std::vector<float> Values(int64_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}
inline Tensor RandomTensor(const Shape& shape, unsigned seed) {
  return Tensor::FromVector<float>(shape, Values(shape.NumElements(), seed));
}

// The model imported and inferred, as the engine has it before the passes.
inline Graph LoadGraph(const std::string& bytes) {
  ImportOptions options;
  Result<ImportedModel> model = ImportOnnxModel(bytes, options, CpuOpRegistry());
  INFO(model.status().ToString());
  REQUIRE(model.ok());
  Graph graph = std::move(model->graph);
  Status inferred = ReinferShapes(graph, CpuOpRegistry());
  INFO(inferred.ToString());
  REQUIRE(inferred.ok());
  return graph;
}

// Runs one pass alone and checks that it left a valid graph that still infers.
inline bool RunPass(std::unique_ptr<Pass> pass, Graph& graph, int64_t max_folded_bytes = int64_t{64} << 20) {
  static ThreadPool pool(2);
  PassContext ctx(CpuOpRegistry(), pool);
  ctx.max_folded_bytes = max_folded_bytes;
  Result<bool> changed = pass->Run(graph, ctx);
  INFO(changed.status().ToString());
  REQUIRE(changed.ok());
  Status valid = rewrite::Validate(graph, pass->name());
  INFO(valid.ToString());
  REQUIRE(valid.ok());
  Status inferred = ReinferShapes(graph, CpuOpRegistry());
  INFO(inferred.ToString());
  REQUIRE(inferred.ok());
  return *changed;
}

inline int CountOps(const Graph& graph, const std::string& op, const std::string& domain = "") {
  int n = 0;
  for (const Node& node : graph.nodes) n += node.op_type == op && node.domain == domain;
  return n;
}
inline const Node* FindOp(const Graph& graph, const std::string& op, const std::string& domain = "") {
  for (const Node& node : graph.nodes) {
    if (node.op_type == op && node.domain == domain) return &node;
  }
  return nullptr;
}

inline NamedTensors RunAtLevel(const std::string& bytes, const NamedTensors& inputs, const std::string& level) {
  EngineOptions options;
  options.threads = 2;
  options.optimization_level = level;
  EdgeAIEngine engine(options);
  Status loaded = engine.LoadModelFromBytes(bytes);
  INFO("level " << level << ": " << loaded.ToString());
  REQUIRE(loaded.ok());
  Result<NamedTensors> out = engine.Run(inputs);
  INFO("level " << level << ": " << out.status().ToString());
  REQUIRE(out.ok());
  return std::move(out).value();
}

inline void CheckClose(const std::string& what, const Tensor& expected, const Tensor& actual, double rtol,
                       double atol) {
  INFO(what << ": expected " << expected.Describe() << ", got " << actual.Describe());
  REQUIRE(actual.dtype() == expected.dtype());
  REQUIRE(actual.shape() == expected.shape());
  if (expected.dtype() != DataType::kFloat32) {
    REQUIRE(actual.ByteSize() == expected.ByteSize());
    CHECK(std::memcmp(actual.raw_data(), expected.raw_data(), actual.ByteSize()) == 0);
    return;
  }
  int64_t bad = 0;
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    double e = expected.data<float>()[i], a = actual.data<float>()[i];
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e)) && !(std::isnan(a) && std::isnan(e))) ++bad;
  }
  CHECK(bad == 0);
}

// The engine's outputs at "basic" and "all" match those at "none" (names, dtypes, shapes, values).
inline void CheckLevelsAgree(const std::string& bytes, const NamedTensors& inputs, double rtol = 1e-5,
                             double atol = 1e-6) {
  NamedTensors reference = RunAtLevel(bytes, inputs, "none");
  for (const char* level : {"basic", "all"}) {
    NamedTensors out = RunAtLevel(bytes, inputs, level);
    REQUIRE(out.size() == reference.size());
    for (const auto& [name, tensor] : reference) {
      REQUIRE(out.count(name) == 1);
      CheckClose(std::string(level) + " output " + name, tensor, out.at(name), rtol, atol);
    }
  }
}

}  // namespace edgeai::testing
