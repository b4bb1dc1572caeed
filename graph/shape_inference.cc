#include "graph/shape_inference.h"

#include "graph/subgraph.h"

namespace edgeai {

Result<const OpDef*> ResolveOpDef(const Graph& graph, const Node& node, const OpRegistry& registry) {
  std::vector<DataType> dtypes;
  dtypes.reserve(node.inputs.size());
  for (int id : node.inputs) dtypes.push_back(id < 0 ? DataType::kUndefined : graph.values[id].type.dtype);
  Result<const OpDef*> def = registry.Find(node.domain, node.op_type, node.opset, dtypes);
  if (!def.ok()) return def.status().WithContext(node.Label());
  return def;
}

Status MergeValueType(const ValueType& inferred, ValueType* known, const std::string& what) {
  if (inferred.dtype != DataType::kUndefined) {
    if (known->dtype != DataType::kUndefined && known->dtype != inferred.dtype) {
      return InvalidArgument(what + ": inferred dtype " + std::string(DataTypeName(inferred.dtype)) +
                             " conflicts with declared " + std::string(DataTypeName(known->dtype)));
    }
    known->dtype = inferred.dtype;
  }
  if (!inferred.rank_known) return Status::Ok();
  if (!known->rank_known) {
    known->rank_known = true;
    known->dims = inferred.dims;
    return Status::Ok();
  }
  if (known->dims.rank() != inferred.dims.rank()) {
    return InvalidArgument(what + ": inferred shape " + inferred.dims.ToString() + " conflicts with declared " +
                           known->dims.ToString());
  }
  for (size_t i = 0; i < inferred.dims.rank(); ++i) {
    int64_t a = inferred.dims[i];
    int64_t& b = known->dims[i];
    if (a >= 0 && b >= 0 && a != b) {
      return InvalidArgument(what + ": inferred shape " + inferred.dims.ToString() + " conflicts with declared " +
                             known->dims.ToString());
    }
    if (b < 0) b = a;
  }
  return Status::Ok();
}

namespace {

Status InferNode(Graph& graph, int index, const OpDef* def, const OpRegistry& registry) {
  Node& node = graph.nodes[index];
  std::vector<const ValueType*> types;
  std::vector<const Tensor*> values;
  for (int id : node.inputs) {
    types.push_back(id < 0 ? nullptr : &graph.values[id].type);
    values.push_back(id >= 0 && graph.values[id].is_constant() ? &graph.values[id].constant : nullptr);
  }
  for (GraphSubgraph* body : SubgraphsOf(node)) EDGEAI_RETURN_IF_ERROR(body->Infer(node, types, registry));
  InferenceContext ctx(node.name, node.op_type, node.opset, node.attrs, types, values, node.outputs.size());
  EDGEAI_RETURN_IF_ERROR(def->infer(ctx));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int id = node.outputs[i];
    if (id < 0) continue;
    EDGEAI_RETURN_IF_ERROR(MergeValueType(ctx.output(i), &graph.values[id].type,
                                          node.Label() + " output '" + graph.values[id].name + "'"));
  }
  return Status::Ok();
}

// Appends Cast(`from` -> dtype `to`) writing a new value; returns the new node's index.
int AppendCast(Graph& graph, int from, int to_value, DataType to, int opset, const std::string& name) {
  Node cast;
  cast.name = name;
  cast.op_type = "Cast";
  cast.opset = opset;
  cast.attrs.Set("to", IntAttr(static_cast<int64_t>(to)));
  cast.inputs = {from};
  cast.outputs = {to_value};
  int index = static_cast<int>(graph.nodes.size());
  graph.values[to_value].producer = index;
  graph.nodes.push_back(std::move(cast));
  return index;
}

int NewValue(Graph& graph, const std::string& base) {
  std::string name = base;
  for (int n = 1; graph.FindValue(name) >= 0; ++n) name = base + "_" + std::to_string(n);
  return graph.GetOrAddValue(name);
}

// An ai.onnx node with float16 inputs that has no float16 kernel, but a float32 one, computes in float32:
// Casts are inserted around it (as ONNX Runtime's cast-insertion transformer does). Returns false when the
// node does not qualify; otherwise infers the node and the inserted Casts.
Result<bool> WidenFloat16(Graph& graph, int index, const OpRegistry& registry) {
  const Node& original = graph.nodes[index];
  if (!original.domain.empty() || !SubgraphsOf(original).empty()) return false;
  std::vector<DataType> dtypes;
  bool any_half = false;
  for (int id : original.inputs) {
    DataType t = id < 0 ? DataType::kUndefined : graph.values[id].type.dtype;
    any_half = any_half || t == DataType::kFloat16;
    dtypes.push_back(t == DataType::kFloat16 ? DataType::kFloat32 : t);
  }
  if (!any_half) return false;
  Result<const OpDef*> def = registry.Find(original.domain, original.op_type, original.opset, dtypes);
  if (!def.ok()) return false;
  const Result<const OpDef*> cast_def =
      registry.Find("", "Cast", original.opset, std::vector<DataType>{DataType::kFloat16});
  if (!cast_def.ok()) return false;
  const int opset = original.opset;
  const std::string base = original.name;
  for (size_t i = 0; i < graph.nodes[index].inputs.size(); ++i) {
    int id = graph.nodes[index].inputs[i];
    if (id < 0 || graph.values[id].type.dtype != DataType::kFloat16) continue;
    int widened = NewValue(graph, graph.values[id].name + "/float32");
    int cast = AppendCast(graph, id, widened, DataType::kFloat32, opset, base + "/widen_input" + std::to_string(i));
    EDGEAI_RETURN_IF_ERROR(InferNode(graph, cast, *cast_def, registry));
    graph.nodes[index].inputs[i] = widened;
  }
  // The node now writes float32 values; each float32 output is narrowed back into the original value.
  std::vector<int> outputs = graph.nodes[index].outputs;
  std::vector<int> wide_outputs(outputs.size(), -1);
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (outputs[o] < 0) continue;
    wide_outputs[o] = NewValue(graph, graph.values[outputs[o]].name + "/float32");
    graph.values[wide_outputs[o]].producer = index;
    graph.nodes[index].outputs[o] = wide_outputs[o];
  }
  EDGEAI_RETURN_IF_ERROR(InferNode(graph, index, *def, registry));
  const Result<const OpDef*> narrow_def =
      registry.Find("", "Cast", opset, std::vector<DataType>{DataType::kFloat32});
  if (!narrow_def.ok()) return narrow_def.status();
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (outputs[o] < 0) continue;
    bool narrow = graph.values[wide_outputs[o]].type.dtype == DataType::kFloat32;
    int cast = AppendCast(graph, wide_outputs[o], outputs[o], narrow ? DataType::kFloat16 : graph.values[wide_outputs[o]].type.dtype,
                          opset, base + "/narrow_output" + std::to_string(o));
    EDGEAI_RETURN_IF_ERROR(InferNode(graph, cast, *narrow_def, registry));
  }
  return true;
}

}  // namespace

Status InferGraphShapes(Graph& graph, const std::vector<int>& order, const OpRegistry& registry) {
  for (int index : order) {
    Result<const OpDef*> def = ResolveOpDef(graph, graph.nodes[index], registry);
    if (!def.ok() && def.status().code() == StatusCode::kUnimplemented) {
      EDGEAI_ASSIGN_OR_RETURN(bool widened, WidenFloat16(graph, index, registry));
      if (widened) continue;
    }
    if (!def.ok()) return def.status();
    EDGEAI_RETURN_IF_ERROR(InferNode(graph, index, *def, registry));
  }
  return Status::Ok();
}

}  // namespace edgeai
