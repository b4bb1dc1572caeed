// The executor: runs a compiled graph's steps in topological order. A compiled Executor is immutable; the
// state of a run lives in an ExecutionContext taken from a small pool, so Run may be called from several
// threads at once.
//
// Memory: the first run with a given set of input shapes records every intermediate tensor's size and
// lifetime; the buffer planner then gives each an offset in the context's arena. Later runs with the same
// shapes carve intermediates out of the arena and skip shape inference for steps whose output shapes depend
// only on the input shapes, so a warm run allocates nothing when the caller also provides the output tensors
// (Run with an outputs map).
//
// Aliasing: an op's OpDef may let an output share an input's buffer (InPlace: a view such as Reshape, or an
// elementwise op writing over its input). Create keeps the candidates whose tensors can live in the arena (not
// graph inputs, captures, constants or graph outputs); each context's plan then decides per signature which
// hold (an in-place write needs the input's last reader to be this step), and the planner gives each aliased
// group one buffer spanning all its members' lifetimes.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/op_registry.h"
#include "backend/thread_pool.h"
#include "edgeai/engine.h"
#include "graph/ir.h"

namespace edgeai {

// kAuto: the spread layout while the pool's threads share no cache (ThreadPool::ThreadsShareCache), else the
// reused one; kReuse: always the reused one; kSpread: the spread one on every multi-threaded run.
enum class MemoryLayout { kAuto, kReuse, kSpread };
// "auto", "reuse", "spread"; anything else is invalid_argument.
Result<MemoryLayout> ParseMemoryLayout(const std::string& text);

struct RunLimits {
  int64_t max_tensor_elements = int64_t{1} << 31;
  bool profile = false;  // accumulate per-step time
  bool reuse_memory = true;  // false gives every planned tensor its own bytes (for debugging kernels)
  // When runs on a multi-threaded pool lay their tensors out without reusing bytes (ExecutionContext::BuildPlan).
  MemoryLayout memory_layout = MemoryLayout::kAuto;
};

// Sizes of the last memory plan made by any context of an executor.
struct MemoryPlanStats {
  int64_t planned_bytes = 0;       // the arena
  int64_t intermediate_bytes = 0;  // the sum of all planned tensors
  int64_t tensors = 0;
  int64_t aliased = 0;             // planned tensors that share another's buffer (views, in-place outputs)
};

class ExecutionContext;

class Executor {
 public:
  struct Step {
    int node = 0;
    const OpDef* def = nullptr;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> release_after;  // values whose last use is this step
    std::vector<int> output_slots;   // value id per output; absent outputs get slots past the graph's values
    bool shape_only = false;         // Shape/Size: the output depends on the input's shape, not its data
    std::vector<InPlace> in_place;   // the OpDef's sharings whose input and output may both be in the arena
    // Profiling accumulators; atomics because runs may be concurrent.
    std::unique_ptr<std::atomic<int64_t>[]> stats = std::make_unique<std::atomic<int64_t>[]>(2);
  };

  // Resolves each node's OpDef and creates its kernel (attributes validated here). `graph` must have been
  // through InferGraphShapes.
  static Result<std::unique_ptr<Executor>> Create(std::shared_ptr<const Graph> graph, const OpRegistry& registry,
                                                  const ThreadPool& pool, RunLimits limits);
  ~Executor();

  // Checks the inputs against the graph's declared inputs (names, dtypes, ranks, fixed dims), then runs.
  Result<NamedTensors> Run(const NamedTensors& inputs) const;
  // Same, writing into `outputs`: an entry already holding a tensor of the output's dtype and shape is filled
  // in place (no allocation); other outputs are (re)assigned fresh tensors.
  Status Run(const NamedTensors& inputs, NamedTensors* outputs) const;
  // Same, with the kernels' loops on `pool` instead of the executor's (a batch split runs images side by side,
  // each on one thread).
  Status Run(const NamedTensors& inputs, NamedTensors* outputs, const ThreadPool& pool) const;

  std::vector<OpTiming> Timings() const;
  void ResetTimings();
  MemoryPlanStats memory_stats() const;

  const Graph& graph() const { return *graph_; }
  const std::vector<Step>& steps() const { return steps_; }
  size_t num_slots() const { return num_slots_; }
  const ThreadPool& pool() const { return pool_; }
  const RunLimits& limits() const { return limits_; }
  void RecordPlan(const MemoryPlanStats& stats) const;

 private:
  Executor(std::shared_ptr<const Graph> graph, const ThreadPool& pool, RunLimits limits);
  std::unique_ptr<ExecutionContext> AcquireContext() const;
  void ReleaseContext(std::unique_ptr<ExecutionContext> context) const;

  std::shared_ptr<const Graph> graph_;
  const ThreadPool& pool_;
  RunLimits limits_;
  std::vector<Step> steps_;
  size_t num_slots_ = 0;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<ExecutionContext>> idle_contexts_;
  mutable MemoryPlanStats last_plan_;
};

}  // namespace edgeai
