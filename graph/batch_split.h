// Batch splitting: running a batch image by image through the same compiled graph.
//
// Why: a convolutional network whose activations outweigh its weights is bound by memory traffic at batch 8
// (SqueezeNet's intermediates are 13 MiB per image against 5 MiB of weights): batching only amortises weight
// reads, while one image at a time keeps each layer's activations in the core's caches. With several threads,
// images run side by side, one per thread, instead of every layer being split across threads.
//
// When: only if every node provably treats the leading dimension of its batched inputs as independent rows
// (AnalyzeBatchSplit: an explicit list of ops and the attribute conditions under which each is row-wise), and
// by default only when it pays: per-image intermediates larger than the weights.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/executor.h"
#include "graph/ir.h"

namespace edgeai {

struct BatchSplitAnalysis {
  bool separable = false;
  std::string reason;                  // why not, naming the node; else empty
  int64_t image_intermediate_bytes = 0;  // intermediates of one image (from the inferred shapes)
  int64_t weight_bytes = 0;              // the graph's constants
  // Splitting pays where activations dominate the memory traffic.
  bool pays() const { return separable && image_intermediate_bytes > weight_bytes; }
};

// Decides whether the graph's leading input dimension is a batch of independent rows: every graph input and
// output is batched along axis 0, and every node is row-wise in it.
BatchSplitAnalysis AnalyzeBatchSplit(const Graph& graph);

enum class BatchSplitMode { kAuto, kOff, kAlways };
Result<BatchSplitMode> ParseBatchSplitMode(const std::string& text);  // "auto", "off", "always"

// Runs batches image by image through an Executor whose graph AnalyzeBatchSplit found separable.
class BatchSplitRunner {
 public:
  BatchSplitRunner(const Executor& executor, const ThreadPool& pool);
  ~BatchSplitRunner();

  // Runs the batch image by image when every graph input is given, all with the same leading dimension B > 1
  // and B >= the pool's threads; sets *handled. Otherwise sets *handled to false and runs nothing (the caller
  // runs the batch whole, which also reports malformed inputs). Outputs follow Executor::Run: an entry already
  // holding the right dtype and shape is filled in place, so a warm run allocates nothing.
  Status Run(const NamedTensors& inputs, NamedTensors* outputs, bool* handled) const;

 private:
  // The per-image tensor maps of each worker, reused from run to run (their keys never change).
  struct Scratch {
    std::vector<NamedTensors> image_inputs, image_outputs;
  };
  std::unique_ptr<Scratch> AcquireScratch() const;
  void ReleaseScratch(std::unique_ptr<Scratch> scratch) const;
  Status RunImage(int64_t image, const NamedTensors& inputs, NamedTensors* outputs, NamedTensors& image_inputs,
                  NamedTensors& image_outputs, const ThreadPool& pool, bool* mismatch) const;
  Status RunFirstImage(const NamedTensors& inputs, NamedTensors* outputs, int64_t batch,
                       NamedTensors& image_inputs) const;
  Status RunImages(const NamedTensors& inputs, NamedTensors* outputs, int64_t first, int64_t batch,
                   Scratch& scratch, bool* mismatch) const;

  // Outputs for a caller that did not provide them, allocated from the last run's row shapes when the inputs'
  // rows have the same shapes; false when there is no such run.
  bool AllocateKnownOutputs(const NamedTensors& inputs, int64_t batch, NamedTensors* outputs) const;
  void RememberRows(const NamedTensors& inputs, const NamedTensors& outputs) const;

  const Executor& exec_;
  const ThreadPool& pool_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Scratch>> idle_;
  // The last run's per-image shapes: inputs and outputs in graph order, the outputs' dtypes.
  mutable std::vector<Shape> input_rows_, output_rows_;
  mutable std::vector<DataType> output_dtypes_;
};

}  // namespace edgeai
