#include "graph/passes/pass_manager.h"

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"
#include "graph/shape_inference.h"

namespace edgeai {

Result<OptLevel> ParseOptLevel(const std::string& name) {
  if (name == "none") return OptLevel::kNone;
  if (name == "basic") return OptLevel::kBasic;
  if (name == "all") return OptLevel::kAll;
  return InvalidArgument("unknown optimization level '" + name + "' (expected none, basic or all)");
}

const char* OptLevelName(OptLevel level) {
  switch (level) {
    case OptLevel::kNone: return "none";
    case OptLevel::kBasic: return "basic";
    case OptLevel::kAll: return "all";
  }
  return "?";
}

PassManager::PassManager(OptLevel level) {
  std::vector<std::unique_ptr<Pass>> all;
  all.push_back(MakeConstantFoldingPass());
  all.push_back(MakeShapeFoldingPass());
  all.push_back(MakeIdentityEliminationPass());
  // BatchNorm folding first, so that Conv -> BN -> Relu still meets the activation fusion as Conv -> Relu.
  all.push_back(MakeBatchNormFoldingPass());
  all.push_back(MakeMatMulAddFusionPass());
  all.push_back(MakeActivationFusionPass());
  all.push_back(MakeLayerNormFusionPass());
  all.push_back(MakeGeluFusionPass());
  all.push_back(MakeTransposeMatMulFusionPass());
  all.push_back(MakeConcatConvFusionPass());
  // After the fusions: blocked convolutions take their activation along.
  all.push_back(MakeBlockedLayoutPass());
  all.push_back(MakeDeadCodeEliminationPass());
  for (auto& pass : all) {
    if (level != OptLevel::kNone && pass->level() <= level) passes_.push_back(std::move(pass));
  }
}

Status ReinferShapes(Graph& graph, const OpRegistry& registry) {
  EDGEAI_ASSIGN_OR_RETURN(std::vector<int> order, graph.TopologicalOrder());
  return InferGraphShapes(graph, order, registry);
}

Status PassManager::Run(Graph& graph, const PassContext& ctx, PassRunStats* stats) const {
  PassRunStats local;
  PassRunStats& s = stats ? *stats : local;
  auto run_one = [&](Pass& pass, bool* changed) -> Status {
    Result<bool> result = pass.Run(graph, ctx);
    if (!result.ok()) return result.status().WithContext(std::string("pass ") + pass.name());
    if (!*result) return Status::Ok();
    *changed = true;
    s.changed.push_back(pass.name());
    EDGEAI_RETURN_IF_ERROR(rewrite::Validate(graph, pass.name()));
    Status inferred = ReinferShapes(graph, ctx.registry);
    if (!inferred.ok()) return inferred.WithContext(std::string("after pass ") + pass.name());
    return Status::Ok();
  };
  for (int round = 0; round < kMaxIterations; ++round) {
    ++s.iterations;
    bool changed = false;
    for (const auto& pass : passes_) EDGEAI_RETURN_IF_ERROR(run_one(*pass, &changed));
    if (!changed) return Status::Ok();
  }
  // Out of rounds: the graph is still valid after every pass; only dead code may remain.
  std::unique_ptr<Pass> dce = MakeDeadCodeEliminationPass();
  bool ignored = false;
  return run_one(*dce, &ignored);
}

}  // namespace edgeai
