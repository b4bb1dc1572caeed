// The sequential executor: runs a compiled graph's steps in topological order. Each step runs its node's
// shape inference on the concrete inputs, then its kernel. Intermediate tensors are released after their last
// use. A compiled Executor is immutable: Run may be called from several threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "backend/op_registry.h"
#include "backend/thread_pool.h"
#include "edgeai/engine.h"
#include "graph/ir.h"

namespace edgeai {

struct RunLimits {
  int64_t max_tensor_elements = int64_t{1} << 31;
  bool profile = false;  // accumulate per-step time
};

class Executor {
 public:
  // Resolves each node's OpDef and creates its kernel (attributes validated here). `graph` must have been
  // through InferGraphShapes.
  static Result<std::unique_ptr<Executor>> Create(std::shared_ptr<const Graph> graph, const OpRegistry& registry,
                                                  const ThreadPool& pool, RunLimits limits);

  // Checks the inputs against the graph's declared inputs (names, dtypes, ranks, fixed dims), then runs.
  Result<NamedTensors> Run(const NamedTensors& inputs) const;

  // Accumulated step times (RunLimits::profile), in execution order.
  std::vector<OpTiming> Timings() const;
  void ResetTimings();

 private:
  struct Step {
    int node = 0;
    const OpDef* def = nullptr;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> release_after;  // values whose last use is this step
    // Profiling accumulators; atomics because runs may be concurrent.
    std::unique_ptr<std::atomic<int64_t>[]> stats = std::make_unique<std::atomic<int64_t>[]>(2);
  };

  Executor(std::shared_ptr<const Graph> graph, const ThreadPool& pool, RunLimits limits)
      : graph_(std::move(graph)), pool_(pool), limits_(limits) {}
  Status BindInputs(const NamedTensors& inputs, std::vector<Tensor>* values) const;
  Status RunStep(const Step& step, std::vector<Tensor>* values) const;

  std::shared_ptr<const Graph> graph_;
  const ThreadPool& pool_;
  RunLimits limits_;
  std::vector<Step> steps_;
};

}  // namespace edgeai
