// PassManager: runs a list of passes to a fixed point. After every pass that changed the graph it checks the
// graph's invariants and re-runs shape inference, so that the next pass sees current types (a folded constant
// may make a Reshape's output shape known, for instance). Iterations are bounded: a pass pair that kept undoing
// each other's work would stop after kMaxIterations instead of looping.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/passes/pass.h"

namespace edgeai {

struct PassRunStats {
  int iterations = 0;
  std::vector<std::string> changed;  // the name of each pass run that changed the graph, in order
};

class PassManager {
 public:
  static constexpr int kMaxIterations = 8;

  PassManager() = default;
  // The standard passes of `level` (see passes.h), dead code elimination last.
  explicit PassManager(OptLevel level);

  void Add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  const std::vector<std::unique_ptr<Pass>>& passes() const { return passes_; }

  // Runs the passes until one full round changes nothing (or kMaxIterations rounds), then removes dead nodes
  // and values. `graph` must have been through InferGraphShapes.
  Status Run(Graph& graph, const PassContext& ctx, PassRunStats* stats = nullptr) const;

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
};

// Re-infers every node's output types, in topological order.
Status ReinferShapes(Graph& graph, const OpRegistry& registry);

}  // namespace edgeai
