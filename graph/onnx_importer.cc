#include "graph/onnx_importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <set>

#include "graph/onnx_tensor.h"
#include "graph/subgraph.h"
#include "onnx/onnx_pb.h"

namespace edgeai {
namespace {

// Fills `value`'s declared type from a ValueInfoProto; symbolic dims keep their names.
Status ReadValueInfo(const onnx::ValueInfoProto& info, Value* value) {
  const std::string who = "value '" + info.name() + "'";
  if (!info.has_type()) return Status::Ok();
  if (!info.type().has_tensor_type()) {
    return Unimplemented(who + " is not a tensor (sequences, maps and optionals are not supported)");
  }
  const auto& tensor_type = info.type().tensor_type();
  if (tensor_type.has_elem_type()) {
    EDGEAI_ASSIGN_OR_RETURN(value->type.dtype, DataTypeFromOnnx(tensor_type.elem_type(), who));
  }
  if (!tensor_type.has_shape()) return Status::Ok();
  value->type.rank_known = true;
  value->type.dims = Shape{};
  value->dim_symbols.clear();
  for (const auto& dim : tensor_type.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) return InvalidArgument(who + " declares a negative dimension");
      value->type.dims.push_back(dim.dim_value());
      value->dim_symbols.emplace_back();
    } else {
      value->type.dims.push_back(-1);
      value->dim_symbols.push_back(dim.has_dim_param() ? dim.dim_param() : std::string());
    }
  }
  return Status::Ok();
}

Result<Attribute> ReadAttribute(const onnx::AttributeProto& proto, const std::string& node_label) {
  Attribute a;
  const std::string who = node_label + " attribute '" + proto.name() + "'";
  uint64_t no_external = 0;
  switch (proto.type()) {
    case onnx::AttributeProto::FLOAT: a.kind = Attribute::Kind::kFloat; a.f = proto.f(); break;
    case onnx::AttributeProto::INT: a.kind = Attribute::Kind::kInt; a.i = proto.i(); break;
    case onnx::AttributeProto::STRING: a.kind = Attribute::Kind::kString; a.s = proto.s(); break;
    case onnx::AttributeProto::FLOATS:
      a.kind = Attribute::Kind::kFloats;
      a.floats.assign(proto.floats().begin(), proto.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      a.kind = Attribute::Kind::kInts;
      a.ints.assign(proto.ints().begin(), proto.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      a.kind = Attribute::Kind::kStrings;
      a.strings.assign(proto.strings().begin(), proto.strings().end());
      break;
    case onnx::AttributeProto::TENSOR: {
      a.kind = Attribute::Kind::kTensor;
      Result<Tensor> t = TensorFromProto(proto.t(), "", &no_external);
      if (!t.ok()) return t.status().WithContext(who);
      a.t = std::move(t).value();
      break;
    }
    case onnx::AttributeProto::GRAPHS:
      return Unimplemented(who + ": lists of graphs are not supported");
    default:
      return Unimplemented(who + " has an unsupported attribute type " + std::to_string(proto.type()));
  }
  return a;
}

// Constant nodes become constant values, so that shape inference and kernels see their data.
Result<Tensor> ConstantNodeValue(const onnx::NodeProto& node, const std::string& label) {
  uint64_t no_external = 0;
  for (const auto& attr : node.attribute()) {
    const std::string& name = attr.name();
    if (name == "value") {
      Result<Tensor> t = TensorFromProto(attr.t(), "", &no_external);
      if (!t.ok()) return t.status().WithContext(label);
      return t;
    }
    if (name == "value_float") return Tensor::Scalar<float>(attr.f());
    if (name == "value_int") return Tensor::Scalar<int64_t>(attr.i());
    if (name == "value_floats") {
      std::vector<float> v(attr.floats().begin(), attr.floats().end());
      return Tensor::FromVector<float>(Shape{static_cast<int64_t>(v.size())}, v);
    }
    if (name == "value_ints") {
      std::vector<int64_t> v(attr.ints().begin(), attr.ints().end());
      return Tensor::FromVector<int64_t>(Shape{static_cast<int64_t>(v.size())}, v);
    }
    return Unimplemented(label + ": Constant attribute '" + name + "' is not supported");
  }
  return InvalidArgument(label + " has no value attribute");
}

class Importer {
 public:
  Importer(const ImportOptions& options, const OpRegistry& registry, Importer* parent = nullptr)
      : options_(options), registry_(registry), parent_(parent) {
    if (parent) {
      out_.info.opsets = parent->out_.info.opsets;
      budget_ = parent->budget_;
    }
  }

  Result<ImportedModel> Run(const std::string& bytes) {
    if (bytes.size() > options_.max_model_bytes) {
      return ResourceExhausted("model is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                               std::to_string(options_.max_model_bytes));
    }
    onnx::ModelProto model;
    google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT32_MAX);
    if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
      return InvalidArgument("not a valid ONNX model (protobuf parse failed: malformed or truncated file)");
    }
    if (!model.has_graph()) return InvalidArgument("ONNX model has no graph (truncated or not a model file)");
    EDGEAI_RETURN_IF_ERROR(ReadOpsets(model));
    out_.info.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
    out_.info.ir_version = model.ir_version();
    budget_ = options_.max_model_bytes - bytes.size();
    EDGEAI_RETURN_IF_ERROR(ReadGraph(model.graph()));
    return std::move(out_);
  }

 private:
  // Imports a graph attribute of `node` in this importer's scope: names the body does not define are resolved
  // in the enclosing graphs and become captures, appended to `node`'s inputs.
  Result<std::shared_ptr<GraphSubgraph>> ImportSubgraph(const onnx::GraphProto& body, const std::string& label,
                                                        Node* node) {
    Importer sub(options_, registry_, this);
    Status read = sub.ReadGraph(body);
    if (!read.ok()) return read.WithContext(label);
    for (const auto& [op, count] : sub.out_.info.op_counts) out_.info.op_counts[op] += count;
    budget_ = sub.budget_;
    std::vector<int> positions;
    for (int id : sub.out_.graph.captures) {
      int outer = Resolve(sub.out_.graph.values[id].name);
      positions.push_back(static_cast<int>(node->inputs.size()));
      node->inputs.push_back(outer);
    }
    return std::make_shared<GraphSubgraph>(label, std::move(sub.out_.graph), std::move(positions));
  }

  // The value called `name` in this graph or, for subgraphs, captured from an enclosing one; -1 if none.
  int Resolve(const std::string& name) {
    int id = out_.graph.FindValue(name);
    if (id >= 0 || parent_ == nullptr) return id;
    if (parent_->Resolve(name) < 0) return -1;
    id = out_.graph.GetOrAddValue(name);
    out_.graph.captures.push_back(id);
    return id;
  }

  Status ReadOpsets(const onnx::ModelProto& model) {
    if (model.opset_import_size() == 0) return InvalidArgument("model declares no opset_import");
    for (const auto& opset : model.opset_import()) {
      std::string domain = CanonicalDomain(opset.domain());
      out_.info.opsets[domain] = opset.version();
      if (domain.empty() && (opset.version() < 1 || opset.version() > kMaxSupportedOpset)) {
        return Unimplemented("unsupported ai.onnx opset " + std::to_string(opset.version()) + " (supported: 1.." +
                             std::to_string(kMaxSupportedOpset) + ")");
      }
    }
    return Status::Ok();
  }

  Status ReadGraph(const onnx::GraphProto& g) {
    Graph& graph = out_.graph;
    for (const auto& init : g.initializer()) {
      if (init.name().empty()) return InvalidArgument("an initializer has no name");
      int id = graph.GetOrAddValue(init.name());
      if (graph.values[id].is_constant()) return InvalidArgument("initializer '" + init.name() + "' appears twice");
      EDGEAI_ASSIGN_OR_RETURN(graph.values[id].constant, TensorFromProto(init, options_.base_dir, &budget_));
      SetConstantType(&graph.values[id]);
    }
    if (g.sparse_initializer_size() > 0) return Unimplemented("sparse initializers are not supported");
    for (const auto& input : g.input()) {
      int id = graph.GetOrAddValue(input.name());
      if (graph.values[id].is_constant()) continue;  // IR < 4 lists initializers among the inputs
      EDGEAI_RETURN_IF_ERROR(ReadValueInfo(input, &graph.values[id]));
      // Subgraph inputs may leave their type to the op (Loop's carried values): see SeedBodyInputTypes.
      if (graph.values[id].type.dtype == DataType::kUndefined && parent_ == nullptr) {
        return InvalidArgument("graph input '" + input.name() + "' has no element type");
      }
      graph.inputs.push_back(id);
    }
    for (const auto& info : g.value_info()) {
      int id = graph.FindValue(info.name());
      if (id >= 0 && graph.values[id].is_constant()) continue;
      declared_.push_back(info);
    }
    // Outputs first, inputs second: a node may legally appear before the producer of its input only in
    // unsorted graphs, which we accept and order ourselves.
    std::vector<const onnx::NodeProto*> protos;
    for (int i = 0; i < g.node_size(); ++i) {
      bool kept = false;
      EDGEAI_RETURN_IF_ERROR(ReadNodeOutputs(g.node(i), i, &kept));
      if (kept) protos.push_back(&g.node(i));
    }
    for (size_t i = 0; i < protos.size(); ++i) EDGEAI_RETURN_IF_ERROR(ReadNodeInputs(*protos[i], &graph.nodes[i]));
    for (const auto& output : g.output()) {
      int id = Resolve(output.name());
      if (id < 0) return InvalidArgument("graph output '" + output.name() + "' is produced by no node");
      graph.outputs.push_back(id);
      declared_.push_back(output);
    }
    if (graph.outputs.empty()) return InvalidArgument("graph has no outputs");
    return ApplyDeclaredTypes();
  }

  void SetConstantType(Value* v) { v->type = ValueType::Of(v->constant.dtype(), v->constant.shape()); }

  Status ReadNodeOutputs(const onnx::NodeProto& proto, int index, bool* kept) {
    Graph& graph = out_.graph;
    Node node;
    node.name = proto.name().empty() ? proto.op_type() + "_" + std::to_string(index) : proto.name();
    node.op_type = proto.op_type();
    node.domain = CanonicalDomain(proto.domain());
    const std::string label = node.Label();
    auto opset = out_.info.opsets.find(node.domain);
    if (opset == out_.info.opsets.end()) {
      return InvalidArgument(label + " uses domain '" + proto.domain() + "' absent from opset_import");
    }
    node.opset = static_cast<int>(opset->second);
    ++out_.info.op_counts[node.op_type];
    if (!registry_.Knows(node.domain, node.op_type)) {
      std::string op = node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
      return Unimplemented(label + ": unsupported op " + op);
    }
    bool is_constant_node = node.op_type == "Constant" && node.domain.empty() && proto.output_size() == 1;
    Tensor constant;
    if (is_constant_node) {
      EDGEAI_ASSIGN_OR_RETURN(constant, ConstantNodeValue(proto, label));
    } else {
      for (const auto& attr : proto.attribute()) {
        if (attr.type() == onnx::AttributeProto::GRAPH) continue;  // imported with the inputs, in scope
        EDGEAI_ASSIGN_OR_RETURN(Attribute a, ReadAttribute(attr, label));
        node.attrs.Set(attr.name(), std::move(a));
      }
    }
    int node_index = static_cast<int>(graph.nodes.size());
    for (const std::string& name : proto.output()) {
      if (name.empty()) {
        node.outputs.push_back(-1);
        continue;
      }
      int id = graph.GetOrAddValue(name);
      Value& v = graph.values[id];
      bool is_input = std::find(graph.inputs.begin(), graph.inputs.end(), id) != graph.inputs.end();
      if (v.producer >= 0 || v.is_constant() || is_input) {
        return InvalidArgument(label + ": output '" + name + "' is already defined elsewhere");
      }
      if (is_constant_node) {
        v.constant = std::move(constant);
        SetConstantType(&v);
      } else {
        v.producer = node_index;
        node.outputs.push_back(id);
      }
    }
    if (is_constant_node) return Status::Ok();
    graph.nodes.push_back(std::move(node));
    *kept = true;
    return Status::Ok();
  }

  Status ReadNodeInputs(const onnx::NodeProto& proto, Node* node) {
    for (const std::string& name : proto.input()) {
      if (name.empty()) {
        node->inputs.push_back(-1);
        continue;
      }
      int id = Resolve(name);
      if (id < 0) {
        return InvalidArgument(node->Label() + ": input '" + name +
                               "' is not produced by any node, initializer or graph input");
      }
      node->inputs.push_back(id);
    }
    for (const auto& attr : proto.attribute()) {
      if (attr.type() != onnx::AttributeProto::GRAPH) continue;
      Attribute a;
      a.kind = Attribute::Kind::kGraph;
      EDGEAI_ASSIGN_OR_RETURN(a.graph, ImportSubgraph(attr.g(), node->Label() + " " + attr.name(), node));
      node->attrs.Set(attr.name(), std::move(a));
    }
    return Status::Ok();
  }

  // value_info and graph output declarations seed shape inference with what the exporter knew.
  Status ApplyDeclaredTypes() {
    Graph& graph = out_.graph;
    for (const auto& info : declared_) {
      int id = graph.FindValue(info.name());
      if (id < 0) continue;  // value_info for a value no node produces: harmless, ignored
      Value& v = graph.values[id];
      if (v.is_constant()) continue;
      Value declared;
      EDGEAI_RETURN_IF_ERROR(ReadValueInfo(info, &declared));
      if (v.type.dtype == DataType::kUndefined) v.type.dtype = declared.type.dtype;
      if (!v.type.rank_known && declared.type.rank_known) {
        v.type = ValueType::Of(v.type.dtype, declared.type.dims);
        v.dim_symbols = declared.dim_symbols;
      }
    }
    return Status::Ok();
  }

  const ImportOptions& options_;
  const OpRegistry& registry_;
  Importer* parent_ = nullptr;
  ImportedModel out_;
  uint64_t budget_ = 0;
  std::vector<onnx::ValueInfoProto> declared_;
};

}  // namespace

Result<ImportedModel> ImportOnnxModel(const std::string& bytes, const ImportOptions& options,
                                      const OpRegistry& registry) {
  Importer importer(options, registry);
  Result<ImportedModel> model = importer.Run(bytes);
  if (!model.ok()) return model.status().WithContext("model '" + options.model_name + "'");
  model->info.node_count = model->graph.nodes.size();
  return model;
}

}  // namespace edgeai
