// EdgeAIEngine: the public entry point. Load an ONNX model (from a path or bytes), inspect its inputs and
// outputs, and run it on named tensors.
//
// Thread safety: Load/Unload must not race with Run on the same engine. Run may be called from several threads
// at once; each call uses its own execution state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeai/status.h"
#include "edgeai/tensor.h"

namespace edgeai {

struct EngineOptions {
  // Threads for intra-op parallelism; 0 means one per hardware core.
  int threads = 0;
  // Refuse models larger than this many bytes (protobuf file plus external data).
  uint64_t max_model_bytes = uint64_t{4} << 30;
  // Refuse input tensors with more elements than this.
  int64_t max_tensor_elements = int64_t{1} << 31;
  // Time every node of every run (see EdgeAIEngine::OpTimings); off costs nothing.
  bool profile = false;
  // Graph optimisations applied at load: "none"; "basic" (constant and shape folding, Identity/Dropout removal,
  // dead code elimination); "all" (basic, plus BatchNorm folding and fusions into com.edgeai ops: Conv/Gemm/
  // MatMul + activation, MatMul + bias, LayerNorm, GELU, Concat -> 1x1 Conv, Transposes around a MatMul; on
  // AVX-512 the channel-blocked layout). Anything else fails the load (invalid_argument).
  std::string optimization_level = "all";
  // Batches of more than one image (at least one per thread): "auto" runs them image by image (several images
  // side by side, one thread each) where every node treats the leading dimension as independent rows and
  // the activations of one image outweigh the weights, so that each layer's activations stay in cache;
  // "always" wherever the nodes allow it; "off" never. Anything else fails the load (invalid_argument).
  std::string batch_split = "auto";
  // How runs on two or more threads place their intermediate tensors: "reuse" (the memory plan: tensors whose
  // lifetimes do not overlap share bytes); "spread" (every tensor its own bytes, for plans of up to 48 MiB of
  // intermediates, else as reuse); "auto" (spread while the threads are measured to share no cache, as a VM's
  // vCPUs on two CCDs of the host: a reused line then moves between the cores' caches at 2-3x the cost of a
  // local one; else reuse). Anything else fails the load (invalid_argument).
  std::string memory_layout = "auto";
};

// Accumulated time of one node over the runs since load (or the last ResetOpTimings).
struct OpTiming {
  std::string node;
  std::string op_type;
  double total_ms = 0;
  int64_t calls = 0;
};

// One dimension of a declared shape: a fixed size, or a symbolic name ("batch") with value -1.
struct Dim {
  int64_t value = -1;
  std::string symbol;  // empty when fixed or fully unknown
};

struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool rank_known = true;
  std::vector<Dim> dims;
  // "float32[batch,3,224,224]"
  std::string Describe() const;
};

struct ModelInfo {
  std::string producer;
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;  // domain ("" is ai.onnx) -> version
  std::map<std::string, int> op_counts;   // op type -> number of nodes, as imported
  size_t node_count = 0;
  // The top-level graph as it runs, after the optimisation passes: op type ("com.edgeai.FusedConv" outside
  // ai.onnx) -> number of nodes. Constant nodes of the model are folded into constants at import.
  std::map<std::string, int> optimized_op_counts;
  size_t optimized_node_count = 0;
  // Why the optimisation passes were abandoned, if they were (the model then runs as imported); else empty.
  std::string optimization_error;
  // How a batch runs (EngineOptions::batch_split) and why: "image by image: ..." or "whole: ...".
  std::string batch_split;
};

using NamedTensors = std::map<std::string, Tensor>;

class EdgeAIEngine {
 public:
  explicit EdgeAIEngine(EngineOptions options = {});
  ~EdgeAIEngine();
  EdgeAIEngine(const EdgeAIEngine&) = delete;
  EdgeAIEngine& operator=(const EdgeAIEngine&) = delete;

  // Loads a model file. External data files are read relative to the file's folder.
  Status LoadModel(const std::string& path);
  // Loads a model from serialized ModelProto bytes. External data, if any, is resolved against `base_dir`
  // (refused when `base_dir` is empty).
  Status LoadModelFromBytes(const std::string& bytes, const std::string& base_dir = "");
  void Unload();
  bool loaded() const;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const ModelInfo& model_info() const;

  // Runs the model. `inputs` must name every graph input; outputs are returned by name (owning tensors).
  Result<NamedTensors> Run(const NamedTensors& inputs) const;

  // Same, writing into `outputs`: an entry that already holds a tensor of the output's dtype and shape is filled
  // in place. With every output provided this way, a warm run (same input shapes as the previous run on this
  // thread's context) performs no heap allocation.
  Status Run(const NamedTensors& inputs, NamedTensors* outputs) const;

  // Bytes of the intermediate-tensor arena planned by the last run with new input shapes, against the sum of
  // all intermediate tensors (0 before the first run).
  struct MemoryInfo {
    int64_t planned_bytes = 0;
    int64_t intermediate_bytes = 0;
    int64_t tensors = 0;
  };
  MemoryInfo memory_info() const;

  // The nodes of the optimised top-level graph in execution order, one line each:
  // "OpType 'node name': input, input -> output" (domain-qualified outside ai.onnx; absent inputs as "").
  std::vector<std::string> DescribeNodes() const;

  // Per-node timings in execution order (empty unless EngineOptions::profile).
  std::vector<OpTiming> OpTimings() const;
  void ResetOpTimings();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeai
