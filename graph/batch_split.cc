#include "graph/batch_split.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "backend/shape_util.h"

namespace edgeai {
namespace {

bool IsOneOf(std::string_view op, std::initializer_list<std::string_view> ops) {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

// Ops whose first input is the batched tensor, whose other inputs are parameters (weights, bounds, scales), and
// which compute each output row from the same input row, whatever their attributes.
bool IsRowWise(const Node& node) {
  if (node.domain == "com.edgeai") {
    return IsOneOf(node.op_type, {"FusedConv", "BlockedConv", "ReorderToBlocked", "ReorderFromBlocked", "Gelu"});
  }
  if (!node.domain.empty()) return false;
  return IsOneOf(node.op_type,
                 {"Relu",          "Sigmoid",     "Tanh",        "HardSigmoid", "HardSwish",    "LeakyRelu",
                  "Elu",           "Selu",        "Celu",        "Softplus",    "Softsign",     "Exp",
                  "Log",           "Sqrt",        "Neg",         "Abs",         "Erf",          "Floor",
                  "Ceil",          "Round",       "Reciprocal",  "Sign",        "Sin",          "Cos",
                  "Not",           "Identity",    "Cast",        "Clip",        "Gelu",         "Mish",
                  "ThresholdedRelu", "Shrink",    "IsNaN",       "IsInf",       "Conv",         "ConvTranspose",
                  "AveragePool",   "LpPool",      "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
                  "InstanceNormalization", "LRN", "DepthToSpace", "SpaceToDepth"});
}

// Elementwise ops with multidirectional broadcasting.
bool IsBroadcast(const Node& node) {
  return node.domain.empty() &&
         IsOneOf(node.op_type, {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Where",
                                "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor",
                                "Mod", "BitShift"});
}

bool IsReduce(const Node& node) {
  return node.domain.empty() &&
         IsOneOf(node.op_type, {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                                "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"});
}

class Analyzer {
 public:
  explicit Analyzer(const Graph& graph) : g_(graph), batched_(graph.values.size(), 0) {}

  BatchSplitAnalysis Run() {
    BatchSplitAnalysis result;
    result.reason = Check();
    result.separable = result.reason.empty();
    for (size_t id = 0; id < g_.values.size(); ++id) {
      const Value& v = g_.values[id];
      if (v.is_constant()) {
        result.weight_bytes += static_cast<int64_t>(v.constant.ByteSize());
      } else if (batched_[id] && !g_.IsBound(static_cast<int>(id))) {
        result.image_intermediate_bytes += ImageBytes(v.type);
      }
    }
    return result;
  }

 private:
  std::string Check() {
    if (g_.inputs.empty()) return "the graph has no inputs";
    for (int id : g_.inputs) {
      const ValueType& t = g_.values[id].type;
      if (!t.rank_known || t.dims.rank() == 0) return "input '" + g_.values[id].name + "' has no leading dimension";
      if (t.dims[0] >= 0) return "input '" + g_.values[id].name + "' has a fixed leading dimension";
      batched_[id] = 1;
    }
    Result<std::vector<int>> order = g_.TopologicalOrder();
    if (!order.ok()) return order.status().message();
    for (int n : *order) {
      const Node& node = g_.nodes[n];
      bool any = false;
      for (int id : node.inputs) any = any || (id >= 0 && batched_[id]);
      if (!any) continue;  // computed from constants only: the same for every image
      if (std::string why = CheckNode(node); !why.empty()) return node.Label() + " " + why;
      for (int id : node.outputs) {
        if (id >= 0) batched_[id] = 1;
      }
    }
    for (int id : g_.outputs) {
      if (!batched_[id]) return "output '" + g_.values[id].name + "' is not batched along its first axis";
    }
    return "";
  }

  int Rank(int id) const {
    const ValueType& t = g_.values[id].type;
    return t.rank_known ? static_cast<int>(t.dims.rank()) : -1;
  }
  bool Batched(const Node& node, size_t i) const {
    return i < node.inputs.size() && node.inputs[i] >= 0 && batched_[node.inputs[i]];
  }
  // Inputs [from, to) are all batched (want true) or all unbatched/absent (want false).
  bool InputsAre(const Node& node, size_t from, size_t to, bool want) const {
    for (size_t i = from; i < std::min(to, node.inputs.size()); ++i) {
      if (node.inputs[i] >= 0 && static_cast<bool>(batched_[node.inputs[i]]) != want) return false;
    }
    return true;
  }
  // A constant integer input, or false.
  bool ConstInts(const Node& node, size_t i, std::vector<int64_t>* out) const {
    if (i >= node.inputs.size() || node.inputs[i] < 0) return false;
    const Value& v = g_.values[node.inputs[i]];
    return v.is_constant() && ReadInt64s(v.constant, out).ok();
  }
  // The node's axes (attribute before `input_from_opset`, else input 1), or false when absent.
  bool Axes(const Node& node, int input_from_opset, std::vector<int64_t>* axes) const {
    if (node.opset < input_from_opset || node.attrs.Has("axes")) {
      if (!node.attrs.Has("axes")) return false;
      *axes = node.attrs.GetInts("axes");
      return true;
    }
    return ConstInts(node, 1, axes);
  }
  // The leading axis of a rank-r tensor is `axis` (possibly negative).
  static bool IsAxis0(int64_t axis, int rank) { return axis == 0 || axis + rank == 0; }
  static bool TouchesAxis0(const std::vector<int64_t>& axes, int rank) {
    return std::any_of(axes.begin(), axes.end(), [rank](int64_t a) { return IsAxis0(a, rank); });
  }

  std::string CheckNode(const Node& node) const {
    const std::string& op = node.op_type;
    const int in_rank = Batched(node, 0) ? Rank(node.inputs[0]) : -1;
    if (IsBroadcast(node)) return CheckBroadcast(node);
    if (!Batched(node, 0) && !(node.domain == "com.edgeai" && op == "ConcatConv")) {
      return "reads the batch through an input other than its first";
    }
    if (in_rank < 1 && !(node.domain == "com.edgeai" && op == "ConcatConv")) return "has an input of unknown rank";
    if (IsRowWise(node)) {
      return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes a batched parameter";
    }
    const bool onnx = node.domain.empty();
    if (node.domain == "com.edgeai" && op == "ConcatConv") {
      return InputsAre(node, 0, 2, false) && InputsAre(node, 2, node.inputs.size(), true)
                 ? ""
                 : "mixes batched and unbatched parts";
    }
    if (onnx && op == "Dropout") return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes a batched ratio";
    if (onnx && (op == "BatchNormalization" || op == "MaxPool")) {
      // BatchNormalization's training outputs and MaxPool's indices span the whole batch.
      if (node.outputs.size() > 1 && node.outputs[1] >= 0) return "has an output that spans the batch";
      return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes a batched parameter";
    }
    if ((onnx && (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax" || op == "LayerNormalization")) ||
        (node.domain == "com.edgeai" && op == "LayerNormalization")) {
      const int64_t fallback = op == "LayerNormalization" || node.opset >= 13 ? -1 : 1;
      if (IsAxis0(node.attrs.GetInt("axis", fallback), in_rank)) return "normalises across the batch";
      return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes a batched parameter";
    }
    if (onnx && op == "Flatten") return IsAxis0(node.attrs.GetInt("axis", 1), in_rank) ? "flattens the batch" : "";
    if (onnx && op == "Transpose") {
      std::vector<int64_t> perm = node.attrs.GetInts("perm");
      const bool keeps = perm.empty() ? in_rank == 1 : perm[0] == 0;
      return keeps ? "" : "moves the batch axis";
    }
    if (onnx && op == "Concat") {
      if (IsAxis0(node.attrs.GetInt("axis", 0), in_rank)) return "concatenates along the batch";
      return InputsAre(node, 0, node.inputs.size(), true) ? "" : "mixes batched and unbatched inputs";
    }
    if (onnx && op == "Split") {
      if (IsAxis0(node.attrs.GetInt("axis", 0), in_rank)) return "splits the batch";
      return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes batched split sizes";
    }
    if ((onnx && (op == "Gemm")) || (node.domain == "com.edgeai" && op == "FusedGemm")) {
      if (node.attrs.GetInt("transA", 0) != 0) return "reads A transposed";
      if (!InputsAre(node, 1, 3, false)) return "takes a batched B or C";
      if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
        const ValueType& c = g_.values[node.inputs[2]].type;
        if (!c.rank_known || (c.dims.rank() == 2 && c.dims[0] != 1)) return "adds a C with rows of its own";
      }
      return "";
    }
    if ((onnx && op == "MatMul") || (node.domain == "com.edgeai" && op == "FusedMatMul")) {
      const int b_rank = node.inputs.size() > 1 && node.inputs[1] >= 0 ? Rank(node.inputs[1]) : -1;
      if (in_rank < 2 || b_rank < 1 || b_rank > 2) return "is not a batch of rows times a matrix";
      return InputsAre(node, 1, node.inputs.size(), false) ? "" : "takes a batched B";
    }
    if (onnx && op == "Reshape") return CheckReshape(node, in_rank);
    if (onnx && (op == "Squeeze" || op == "Unsqueeze")) {
      std::vector<int64_t> axes;
      if (!Axes(node, 13, &axes)) return "has no constant axes";
      const int rank = op == "Squeeze" ? in_rank : in_rank + static_cast<int>(axes.size());
      return TouchesAxis0(axes, rank) ? "changes the batch axis" : "";
    }
    if (IsReduce(node)) {
      std::vector<int64_t> axes;
      const int from = op == "ReduceSum" ? 13 : 18;
      if (!Axes(node, from, &axes) || axes.empty()) return "has no constant axes";
      return TouchesAxis0(axes, in_rank) ? "reduces across the batch" : "";
    }
    if (onnx && op == "Slice" && node.opset >= 10) {
      std::vector<int64_t> axes, bounds;
      if (!ConstInts(node, 1, &bounds) || !ConstInts(node, 2, &bounds)) return "has bounds that are not constant";
      if (!ConstInts(node, 3, &axes)) return "has no constant axes";
      if (node.inputs.size() > 4 && node.inputs[4] >= 0 && !ConstInts(node, 4, &bounds)) return "has dynamic steps";
      return TouchesAxis0(axes, in_rank) ? "slices the batch" : "";
    }
    return "is not known to treat the batch rows independently";
  }

  std::string CheckBroadcast(const Node& node) const {
    if (node.outputs.empty() || node.outputs[0] < 0) return "has no output";
    const int rank = Rank(node.outputs[0]);
    if (rank < 1) return "has an output of unknown rank";
    for (int id : node.inputs) {
      if (id < 0) continue;
      const ValueType& t = g_.values[id].type;
      if (!t.rank_known) return "has an input of unknown rank";
      const int r = static_cast<int>(t.dims.rank());
      if (batched_[id] ? r != rank : (r == rank && t.dims[0] != 1)) {
        return "broadcasts a batched input against one with rows of its own";
      }
    }
    return "";
  }

  std::string CheckReshape(const Node& node, int in_rank) const {
    std::vector<int64_t> target;
    if (!ConstInts(node, 1, &target) || target.empty()) return "has a target shape that is not constant";
    if (!InputsAre(node, 1, 2, false)) return "takes a batched shape";
    if (target[0] == 0 && node.attrs.GetInt("allowzero", 0) == 0) return "";  // copies the batch dimension
    if (target[0] != -1) return "sets the batch dimension";
    // -1 first: the batch is preserved when the other target dims hold exactly one image.
    const ValueType& in = g_.values[node.inputs[0]].type;
    int64_t image = 1, rest = 1;
    for (int d = 1; d < in_rank; ++d) {
      if (in.dims[d] < 0) return "reshapes an image of unknown size";
      image *= in.dims[d];
    }
    for (size_t d = 1; d < target.size(); ++d) {
      const int64_t dim = target[d] == 0 ? (static_cast<int>(d) < in_rank ? in.dims[d] : -1) : target[d];
      if (dim < 0) return "infers a second dimension";
      rest *= dim;
    }
    return rest == image ? "" : "folds the batch into other dimensions";
  }

  static int64_t ImageBytes(const ValueType& t) {
    if (!t.rank_known || t.dims.rank() == 0) return 0;
    int64_t n = 1;
    for (size_t d = 1; d < t.dims.rank(); ++d) {
      if (t.dims[d] < 0) return 0;
      n *= t.dims[d];
    }
    return n * static_cast<int64_t>(DataTypeSize(t.dtype));
  }

  const Graph& g_;
  std::vector<char> batched_;
};

// One image's shape: the batch dimension set to 1.
Shape RowShape(const Shape& whole) {
  Shape row = whole;
  row[0] = 1;
  return row;
}

// Same dtype, the per-image view of `whole` at `image`.
Tensor ImageView(const Tensor& whole, int64_t image) {
  const size_t bytes = whole.ByteSize() / static_cast<size_t>(whole.shape()[0]);
  auto* base = static_cast<char*>(const_cast<void*>(whole.raw_data()));
  return Tensor::View(whole.dtype(), RowShape(whole.shape()), base + bytes * static_cast<size_t>(image));
}

}  // namespace

BatchSplitAnalysis AnalyzeBatchSplit(const Graph& graph) { return Analyzer(graph).Run(); }

Result<BatchSplitMode> ParseBatchSplitMode(const std::string& text) {
  if (text == "auto") return BatchSplitMode::kAuto;
  if (text == "off") return BatchSplitMode::kOff;
  if (text == "always") return BatchSplitMode::kAlways;
  return InvalidArgument("batch split mode '" + text + "' is not one of auto, off, always");
}

BatchSplitRunner::BatchSplitRunner(const Executor& executor, const ThreadPool& pool)
    : exec_(executor), pool_(pool) {}

BatchSplitRunner::~BatchSplitRunner() = default;

std::unique_ptr<BatchSplitRunner::Scratch> BatchSplitRunner::AcquireScratch() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Scratch> scratch = std::move(idle_.back());
      idle_.pop_back();
      return scratch;
    }
  }
  auto scratch = std::make_unique<Scratch>();
  scratch->image_inputs.resize(static_cast<size_t>(pool_.threads()));
  scratch->image_outputs.resize(static_cast<size_t>(pool_.threads()));
  return scratch;
}

void BatchSplitRunner::ReleaseScratch(std::unique_ptr<Scratch> scratch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(scratch));
}

// Runs one image into rows of the caller's whole-batch outputs; *mismatch when an output's rows are not the
// image's shape (the executor then gave the image a fresh tensor instead).
Status BatchSplitRunner::RunImage(int64_t image, const NamedTensors& inputs, NamedTensors* outputs,
                                  NamedTensors& image_inputs, NamedTensors& image_outputs, const ThreadPool& pool,
                                  bool* mismatch) const {
  for (const auto& [name, whole] : inputs) image_inputs[name] = ImageView(whole, image);
  for (auto& [name, slot] : image_outputs) slot = ImageView(outputs->at(name), image);
  Status status = exec_.Run(image_inputs, &image_outputs, pool);
  if (!status.ok()) return status.WithContext("image " + std::to_string(image) + " of the batch");
  for (auto& [name, slot] : image_outputs) {
    if (slot.raw_data() != ImageView(outputs->at(name), image).raw_data()) *mismatch = true;
  }
  return Status::Ok();
}

// The first image alone, into fresh tensors, to learn the outputs' shapes: the batch's outputs are then
// allocated and that image's rows copied in.
Status BatchSplitRunner::RunFirstImage(const NamedTensors& inputs, NamedTensors* outputs, int64_t batch,
                                       NamedTensors& image_inputs) const {
  NamedTensors one;
  for (const auto& [name, whole] : inputs) image_inputs[name] = ImageView(whole, 0);
  EDGEAI_RETURN_IF_ERROR(exec_.Run(image_inputs, &one, pool_).WithContext("image 0 of the batch"));
  const Graph& graph = exec_.graph();
  for (int id : graph.outputs) {
    const std::string& name = graph.values[id].name;
    const Tensor& row = one.at(name);
    if (row.rank() == 0 || row.shape()[0] != 1) {
      return Internal("batch split: output '" + name + "' of one image is " + row.Describe());
    }
    Shape shape = row.shape();
    shape[0] = batch;
    EDGEAI_ASSIGN_OR_RETURN(Tensor whole, Tensor::Allocate(row.dtype(), shape));
    if (row.ByteSize() != 0) std::memcpy(whole.raw_data(), row.raw_data(), row.ByteSize());
    (*outputs)[name] = std::move(whole);
  }
  return Status::Ok();
}

// Images [first, batch): one image per thread at a time, each computing on one thread, claimed in order (with
// one thread, simply in order).
Status BatchSplitRunner::RunImages(const NamedTensors& inputs, NamedTensors* outputs, int64_t first,
                                   int64_t batch, Scratch& scratch, bool* mismatch) const {
  const int workers = pool_.threads();
  Status status = Status::Ok();
  std::atomic<int64_t> next{first};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  pool_.Execute([&] {
    pool_.ParallelFor(workers, 1, [&](int64_t w0, int64_t w1) {
      for (int64_t w = w0; w < w1; ++w) {
        bool own_mismatch = false;
        for (int64_t image = next.fetch_add(1); image < batch && !stop.load(); image = next.fetch_add(1)) {
          Status s = RunImage(image, inputs, outputs, scratch.image_inputs[w], scratch.image_outputs[w],
                              ThreadPool::Serial(), &own_mismatch);
          if (s.ok() && !own_mismatch) continue;
          std::lock_guard<std::mutex> lock(mutex);
          if (!s.ok() && status.ok()) status = s;
          *mismatch = *mismatch || own_mismatch;
          stop.store(true);
        }
      }
    });
  });
  return status;
}

bool BatchSplitRunner::AllocateKnownOutputs(const NamedTensors& inputs, int64_t batch,
                                            NamedTensors* outputs) const {
  const Graph& graph = exec_.graph();
  std::vector<Shape> rows;
  std::vector<DataType> dtypes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (input_rows_.size() != graph.inputs.size()) return false;
    for (size_t i = 0; i < graph.inputs.size(); ++i) {
      if (RowShape(inputs.at(graph.values[graph.inputs[i]].name).shape()) != input_rows_[i]) return false;
    }
    rows = output_rows_;
    dtypes = output_dtypes_;
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    rows[i][0] = batch;
    Result<Tensor> whole = Tensor::Allocate(dtypes[i], rows[i]);
    if (!whole.ok()) return false;
    (*outputs)[graph.values[graph.outputs[i]].name] = std::move(whole).value();
  }
  return true;
}

void BatchSplitRunner::RememberRows(const NamedTensors& inputs, const NamedTensors& outputs) const {
  const Graph& graph = exec_.graph();
  std::lock_guard<std::mutex> lock(mutex_);
  input_rows_.resize(graph.inputs.size());
  output_rows_.resize(graph.outputs.size());
  output_dtypes_.resize(graph.outputs.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    input_rows_[i] = RowShape(inputs.at(graph.values[graph.inputs[i]].name).shape());
  }
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const Tensor& whole = outputs.at(graph.values[graph.outputs[i]].name);
    output_rows_[i] = RowShape(whole.shape());
    output_dtypes_[i] = whole.dtype();
  }
}

Status BatchSplitRunner::Run(const NamedTensors& inputs, NamedTensors* outputs, bool* handled) const {
  *handled = false;
  const Graph& graph = exec_.graph();
  if (inputs.size() != graph.inputs.size()) return Status::Ok();
  int64_t batch = -1;
  for (int id : graph.inputs) {
    auto it = inputs.find(graph.values[id].name);
    if (it == inputs.end() || it->second.rank() == 0) return Status::Ok();
    // The size limits hold for the caller's tensors, not for one image's view of them.
    if (it->second.NumElements() > exec_.limits().max_tensor_elements) return Status::Ok();
    const int64_t b = it->second.shape()[0];
    if (batch >= 0 && b != batch) return Status::Ok();
    batch = b;
  }
  if (batch <= 1 || batch < pool_.threads()) return Status::Ok();
  *handled = true;

  bool provided = true;  // every output already a whole-batch tensor (rows of the right shape are checked later)
  for (int id : graph.outputs) {
    auto it = outputs->find(graph.values[id].name);
    provided = provided && it != outputs->end() && it->second.defined() && it->second.rank() > 0 &&
               it->second.shape()[0] == batch;
  }
  const bool known = !provided && AllocateKnownOutputs(inputs, batch, outputs);
  provided = provided || known;
  std::unique_ptr<Scratch> scratch = AcquireScratch();
  for (NamedTensors& image_outputs : scratch->image_outputs) {
    for (int id : graph.outputs) image_outputs[graph.values[id].name];  // keys only: views are set per image
  }
  Status status = Status::Ok();
  for (int attempt = 0; attempt < 2 && status.ok(); ++attempt) {
    int64_t first = 0;
    if (!provided) {
      status = RunFirstImage(inputs, outputs, batch, scratch->image_inputs[0]);
      first = 1;
    }
    bool mismatch = false;
    if (status.ok()) status = RunImages(inputs, outputs, first, batch, *scratch, &mismatch);
    if (!mismatch) break;
    // The caller's outputs had the batch's leading dimension but not an image's rows: start over into fresh
    // tensors (a fresh allocation cannot mismatch, so this happens at most once).
    if (!provided) status = Internal("batch split: an image's outputs changed shape within one batch");
    provided = false;
  }
  ReleaseScratch(std::move(scratch));
  if (status.ok()) RememberRows(inputs, *outputs);
  return status;
}

}  // namespace edgeai
