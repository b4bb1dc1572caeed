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

Status InferGraphShapes(Graph& graph, const std::vector<int>& order, const OpRegistry& registry) {
  for (int index : order) {
    Node& node = graph.nodes[index];
    EDGEAI_ASSIGN_OR_RETURN(const OpDef* def, ResolveOpDef(graph, node, registry));
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
      EDGEAI_RETURN_IF_ERROR(
          MergeValueType(ctx.output(i), &graph.values[id].type, node.Label() + " output '" + graph.values[id].name + "'"));
    }
  }
  return Status::Ok();
}

}  // namespace edgeai
