// Static shape inference over the whole graph: each node's OpDef::infer runs in topological order on what is
// known at load time (declared input shapes, symbolic dims as -1, constant values). Inferred types are merged
// with the types the model declares (value_info, graph outputs); a conflict between known dims is an error
// naming the node and the value.
#pragma once

#include <vector>

#include "backend/op_registry.h"
#include "graph/ir.h"

namespace edgeai {

// The OpDef that runs `node`, chosen by its opset and the statically known dtypes of its inputs.
Result<const OpDef*> ResolveOpDef(const Graph& graph, const Node& node, const OpRegistry& registry);

Status InferGraphShapes(Graph& graph, const std::vector<int>& order, const OpRegistry& registry);

// Merges `inferred` into `known`; error (naming `what`) when both know a dtype or dim and they differ.
Status MergeValueType(const ValueType& inferred, ValueType* known, const std::string& what);

}  // namespace edgeai
