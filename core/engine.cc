#include "edgeai/engine.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/cpu/cpu_ops.h"
#include "backend/thread_pool.h"
#include "graph/batch_split.h"
#include "graph/executor.h"
#include "graph/onnx_importer.h"
#include "graph/passes/pass_manager.h"
#include "graph/shape_inference.h"

namespace edgeai {

std::string TensorInfo::Describe() const {
  std::string out = std::string(DataTypeName(dtype));
  if (!rank_known) return out + "[*]";
  out += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ",";
    if (dims[i].value >= 0) {
      out += std::to_string(dims[i].value);
    } else {
      out += dims[i].symbol.empty() ? "?" : dims[i].symbol;
    }
  }
  return out + "]";
}

struct EdgeAIEngine::Impl {
  explicit Impl(const EngineOptions& opts) : options(opts), pool(opts.threads) {}

  EngineOptions options;
  ThreadPool pool;
  std::shared_ptr<const Graph> graph;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<BatchSplitRunner> batch_split;  // null when batches run whole
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  ModelInfo info;
  std::string model_name;

  Status Load(const std::string& bytes, const std::string& base_dir, const std::string& name);
  // Returns why the passes were abandoned, or "".
  std::string Optimize(OptLevel level, Graph* graph);
  // Sets up batch_split; returns the decision and its reason.
  std::string ChooseBatchSplit(BatchSplitMode mode);
  void Unload() {
    batch_split.reset();
    executor.reset();
    graph.reset();
    inputs.clear();
    outputs.clear();
    info = ModelInfo{};
    model_name.clear();
  }
};

EdgeAIEngine::EdgeAIEngine(EngineOptions options) : impl_(std::make_unique<Impl>(options)) {}
EdgeAIEngine::~EdgeAIEngine() = default;

Status EdgeAIEngine::LoadModel(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFound("model file '" + path + "' does not exist or is not a file");
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return NotFound("cannot stat model file '" + path + "'");
  if (size > impl_->options.max_model_bytes) {
    return ResourceExhausted("model file '" + path + "' is " + std::to_string(size) + " bytes, over the limit of " +
                             std::to_string(impl_->options.max_model_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open model file '" + path + "'");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) return Unavailable("failed reading model file '" + path + "'");
  fs::path p(path);
  std::string base = p.parent_path().string();
  return impl_->Load(bytes, base.empty() ? "." : base, p.filename().string());
}

Status EdgeAIEngine::LoadModelFromBytes(const std::string& bytes, const std::string& base_dir) {
  return impl_->Load(bytes, base_dir, "<bytes>");
}

Status EdgeAIEngine::Impl::Load(const std::string& bytes, const std::string& base_dir, const std::string& name) {
  Unload();
  EDGEAI_ASSIGN_OR_RETURN(OptLevel level, ParseOptLevel(options.optimization_level));
  EDGEAI_ASSIGN_OR_RETURN(BatchSplitMode split_mode, ParseBatchSplitMode(options.batch_split));
  EDGEAI_ASSIGN_OR_RETURN(MemoryLayout memory_layout, ParseMemoryLayout(options.memory_layout));
  model_name = name;
  ImportOptions import_options;
  import_options.model_name = name;
  import_options.base_dir = base_dir;
  import_options.max_model_bytes = options.max_model_bytes;
  const OpRegistry& registry = CpuOpRegistry();
  EDGEAI_ASSIGN_OR_RETURN(ImportedModel model, ImportOnnxModel(bytes, import_options, registry));
  const std::string context = "model '" + name + "'";
  Result<std::vector<int>> order = model.graph.TopologicalOrder();
  if (!order.ok()) return order.status().WithContext(context);
  Status inferred = InferGraphShapes(model.graph, *order, registry);
  if (!inferred.ok()) return inferred.WithContext(context);
  std::string optimization_error = Optimize(level, &model.graph);
  auto shared_graph = std::make_shared<const Graph>(std::move(model.graph));
  RunLimits limits;
  limits.max_tensor_elements = options.max_tensor_elements;
  limits.profile = options.profile;
  limits.memory_layout = memory_layout;
  Result<std::unique_ptr<Executor>> created = Executor::Create(shared_graph, registry, pool, limits);
  if (!created.ok()) return created.status().WithContext(context);
  executor = std::move(created).value();
  graph = shared_graph;
  info = std::move(model.info);
  info.optimization_error = std::move(optimization_error);
  info.batch_split = ChooseBatchSplit(split_mode);
  for (const Node& node : graph->nodes) {
    ++info.optimized_op_counts[node.domain.empty() ? node.op_type : node.domain + "." + node.op_type];
  }
  info.optimized_node_count = graph->nodes.size();
  for (int id : graph->inputs) inputs.push_back(graph->Describe(id));
  for (int id : graph->outputs) outputs.push_back(graph->Describe(id));
  return Status::Ok();
}

// A pass that fails leaves the model as imported: optimisation is never a reason to refuse a model that runs.
// The copy is cheap: constants share their data.
std::string EdgeAIEngine::Impl::Optimize(OptLevel level, Graph* graph) {
  if (level == OptLevel::kNone) return "";
  Graph original = *graph;
  PassContext pass_context(CpuOpRegistry(), pool);
  pass_context.blocked_layout = cpu::BlockedLayoutPays();
  Status status = PassManager(level).Run(*graph, pass_context);
  if (status.ok()) return "";
  *graph = std::move(original);
  return status.ToString();
}

std::string EdgeAIEngine::Impl::ChooseBatchSplit(BatchSplitMode mode) {
  if (mode == BatchSplitMode::kOff) return "whole: batch_split is off";
  const BatchSplitAnalysis split = AnalyzeBatchSplit(*graph);
  if (!split.separable) return "whole: " + split.reason;
  auto mib = [](int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return std::string(text);
  };
  const std::string sizes = "one image's intermediates " + mib(split.image_intermediate_bytes) + ", weights " +
                            mib(split.weight_bytes);
  if (mode == BatchSplitMode::kAuto && !split.pays()) {
    return "whole: the weights outweigh the activations (" + sizes + ")";
  }
  batch_split = std::make_unique<BatchSplitRunner>(*executor, pool);
  return "image by image (" + sizes + ")";
}

void EdgeAIEngine::Unload() { impl_->Unload(); }

bool EdgeAIEngine::loaded() const { return impl_->executor != nullptr; }
const std::vector<TensorInfo>& EdgeAIEngine::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& EdgeAIEngine::outputs() const { return impl_->outputs; }
const ModelInfo& EdgeAIEngine::model_info() const { return impl_->info; }

std::vector<std::string> EdgeAIEngine::DescribeNodes() const {
  std::vector<std::string> lines;
  if (!impl_->executor) return lines;
  const Graph& graph = *impl_->graph;
  auto names = [&](const std::vector<int>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
      out += (i ? ", " : "") + (ids[i] < 0 ? std::string("\"\"") : graph.values[ids[i]].name);
    }
    return out;
  };
  for (const Executor::Step& step : impl_->executor->steps()) {
    const Node& node = graph.nodes[step.node];
    std::string op = node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
    lines.push_back(op + " '" + node.name + "': " + names(node.inputs) + " -> " + names(node.outputs));
  }
  return lines;
}

std::vector<OpTiming> EdgeAIEngine::OpTimings() const {
  return impl_->executor ? impl_->executor->Timings() : std::vector<OpTiming>{};
}

void EdgeAIEngine::ResetOpTimings() {
  if (impl_->executor) impl_->executor->ResetTimings();
}

Status EdgeAIEngine::Run(const NamedTensors& inputs, NamedTensors* outputs) const {
  if (!impl_->executor) return InvalidArgument("no model is loaded");
  if (impl_->batch_split != nullptr) {
    bool handled = false;
    Status status = impl_->batch_split->Run(inputs, outputs, &handled);
    if (handled) return status.ok() ? status : status.WithContext("model '" + impl_->model_name + "'");
  }
  Status status = impl_->executor->Run(inputs, outputs);
  if (!status.ok()) return status.WithContext("model '" + impl_->model_name + "'");
  return status;
}

EdgeAIEngine::MemoryInfo EdgeAIEngine::memory_info() const {
  if (!impl_->executor) return MemoryInfo{};
  MemoryPlanStats stats = impl_->executor->memory_stats();
  return MemoryInfo{stats.planned_bytes, stats.intermediate_bytes, stats.tensors};
}

Result<NamedTensors> EdgeAIEngine::Run(const NamedTensors& inputs) const {
  NamedTensors outputs;
  EDGEAI_RETURN_IF_ERROR(Run(inputs, &outputs));
  return outputs;
}

}  // namespace edgeai
