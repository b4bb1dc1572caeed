#include "tests/graph/passes/pass_test_util.h"

#include <set>

using namespace edgeai;
using namespace edgeai::testing;

namespace {

std::set<std::string> PassNames(OptLevel level) {
  std::set<std::string> names;
  PassManager manager(level);
  for (const auto& pass : manager.passes()) names.insert(pass->name());
  return names;
}

// Conv -> Relu and a constant chain behind an Identity: needs folding, Identity removal and fusion.
std::string MixedModel() {
  ModelBuilder b(13);
  b.Input("x", kFloat, {1, 1, 4, 4}).Output("y", kFloat, {1, 2, 4, 4});
  b.FloatInitializer("w", {2, 1, 1, 1}, {1, -1});
  b.FloatInitializer("k", {2}, {1, 2});
  b.Node("Identity", {"k"}, {"k2"}, "identity");
  b.Node("Mul", {"k2", "k2"}, {"bias"}, "square");
  b.Node("Conv", {"x", "w", "bias"}, {"c"}, "conv");
  b.Node("Relu", {"c"}, {"y"}, "relu");
  return b.Bytes();
}

}  // namespace

TEST_CASE("optimisation levels parse and select their passes", "[passes][pass_manager]") {
  CHECK(*ParseOptLevel("none") == OptLevel::kNone);
  CHECK(*ParseOptLevel("basic") == OptLevel::kBasic);
  CHECK(*ParseOptLevel("all") == OptLevel::kAll);
  Result<OptLevel> bad = ParseOptLevel("fast");
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("'fast'") && Catch::Contains("none, basic or all"));
  CHECK(std::string(OptLevelName(OptLevel::kBasic)) == "basic");

  CHECK(PassNames(OptLevel::kNone).empty());
  CHECK(PassNames(OptLevel::kBasic) == std::set<std::string>{"constant_folding", "shape_folding",
                                                              "identity_elimination", "dead_code_elimination"});
  std::set<std::string> all = PassNames(OptLevel::kAll);
  CHECK(all.size() == 12);
  for (const char* p : {"batchnorm_folding", "matmul_add_fusion", "activation_fusion", "layer_norm_fusion",
                        "gelu_fusion", "transpose_matmul_fusion", "concat_conv_fusion", "blocked_layout"}) {
    CHECK(all.count(p) == 1);
  }
}

TEST_CASE("the pass manager runs to a fixed point", "[passes][pass_manager]") {
  Graph graph = LoadGraph(MixedModel());
  ThreadPool pool(1);
  PassContext ctx(CpuOpRegistry(), pool);
  PassRunStats stats;
  Status status = PassManager(OptLevel::kAll).Run(graph, ctx, &stats);
  INFO(status.ToString());
  REQUIRE(status.ok());
  CHECK(stats.iterations >= 2);  // the last round changes nothing
  CHECK(stats.iterations <= PassManager::kMaxIterations);
  REQUIRE(graph.nodes.size() == 1);
  CHECK(graph.nodes[0].op_type == "FusedConv");
  CHECK(graph.FindValue("k") < 0);  // dead constants are dropped
  const Tensor& bias = graph.values[graph.nodes[0].inputs[2]].constant;
  REQUIRE(bias.defined());
  CHECK(bias.data<float>()[1] == 4.0f);

  Graph basic = LoadGraph(MixedModel());
  REQUIRE(PassManager(OptLevel::kBasic).Run(basic, ctx).ok());
  CHECK(basic.nodes.size() == 2);  // Conv, Relu
  CheckLevelsAgree(MixedModel(), {{"x", RandomTensor(Shape{1, 1, 4, 4}, 60)}});
}

TEST_CASE("the engine validates optimization_level and reports the optimised graph", "[passes][pass_manager]") {
  EngineOptions options;
  options.optimization_level = "fastest";
  EdgeAIEngine bad(options);
  Status loaded = bad.LoadModelFromBytes(MixedModel());
  CHECK(loaded.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(loaded.message(), Catch::Contains("optimization level 'fastest'"));
  CHECK_FALSE(bad.loaded());

  EdgeAIEngine engine;  // default: all
  REQUIRE(engine.LoadModelFromBytes(MixedModel()).ok());
  const ModelInfo& info = engine.model_info();
  CHECK(info.node_count == 4);
  CHECK(info.op_counts.at("Relu") == 1);
  CHECK(info.optimized_node_count == 1);
  CHECK(info.optimization_error.empty());
  CHECK(info.optimized_op_counts.at("com.edgeai.FusedConv") == 1);
  std::vector<std::string> nodes = engine.DescribeNodes();
  REQUIRE(nodes.size() == 1);
  CHECK_THAT(nodes[0], Catch::StartsWith("com.edgeai.FusedConv 'conv': x, w, ") && Catch::EndsWith(" -> y"));

  options.optimization_level = "none";
  EdgeAIEngine plain(options);
  REQUIRE(plain.LoadModelFromBytes(MixedModel()).ok());
  CHECK(plain.model_info().optimized_node_count == 4);
  CHECK(plain.DescribeNodes().size() == 4);
  CHECK(EdgeAIEngine().DescribeNodes().empty());
}
