#include "graph/passes/rewrite.h"

#include <algorithm>

namespace edgeai::rewrite {

std::vector<int> UseCounts(const Graph& graph) {
  std::vector<int> uses(graph.values.size(), 0);
  for (const Node& node : graph.nodes) {
    for (int id : node.inputs) {
      if (id >= 0) ++uses[id];
    }
  }
  for (int id : graph.outputs) ++uses[id];
  return uses;
}

std::vector<std::vector<int>> Consumers(const Graph& graph) {
  std::vector<std::vector<int>> consumers(graph.values.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (int id : graph.nodes[n].inputs) {
      if (id >= 0) consumers[id].push_back(static_cast<int>(n));
    }
  }
  return consumers;
}

bool IsGraphOutput(const Graph& graph, int value) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), value) != graph.outputs.end();
}

int ProducerOf(const Graph& graph, int value, const char* op_type, const char* domain) {
  if (value < 0) return -1;
  int p = graph.values[value].producer;
  if (p < 0) return -1;
  const Node& node = graph.nodes[p];
  return node.op_type == op_type && node.domain == domain ? p : -1;
}

const Tensor* ConstantOf(const Graph& graph, int value) {
  if (value < 0 || !graph.values[value].is_constant()) return nullptr;
  return &graph.values[value].constant;
}

bool ScalarConstant(const Graph& graph, int value, double* out) {
  const Tensor* t = ConstantOf(graph, value);
  if (t == nullptr || t->NumElements() != 1) return false;
  switch (t->dtype()) {
    case DataType::kFloat32: *out = *t->data<float>(); return true;
    case DataType::kFloat64: *out = *t->data<double>(); return true;
    case DataType::kInt32: *out = *t->data<int32_t>(); return true;
    case DataType::kInt64: *out = static_cast<double>(*t->data<int64_t>()); return true;
    default: return false;
  }
}

void ReplaceInputUses(Graph& graph, int from, int to) {
  for (Node& node : graph.nodes) {
    for (int& id : node.inputs) {
      if (id == from) id = to;
    }
  }
}

void RemoveNode(Graph& graph, int node) {
  Node& n = graph.nodes[node];
  for (int id : n.outputs) {
    if (id >= 0 && graph.values[id].producer == node) graph.values[id].producer = -1;
  }
  n.op_type.clear();
  n.inputs.clear();
  n.outputs.clear();
  n.attrs = AttributeMap();
}

bool IsRemoved(const Node& node) { return node.op_type.empty(); }

void CompactNodes(Graph& graph) {
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (Node& node : graph.nodes) {
    if (!IsRemoved(node)) kept.push_back(std::move(node));
  }
  graph.nodes = std::move(kept);
  for (Value& v : graph.values) v.producer = -1;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (int id : graph.nodes[n].outputs) {
      if (id >= 0) graph.values[id].producer = static_cast<int>(n);
    }
  }
}

void SetOutputs(Graph& graph, int node, const std::vector<int>& outputs) {
  Node& n = graph.nodes[node];
  for (int id : n.outputs) {
    if (id >= 0 && graph.values[id].producer == node) graph.values[id].producer = -1;
  }
  n.outputs = outputs;
  for (int id : outputs) {
    if (id >= 0) graph.values[id].producer = node;
  }
}

std::string UniqueValueName(const Graph& graph, const std::string& base) {
  if (graph.FindValue(base) < 0) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (graph.FindValue(name) < 0) return name;
  }
}

int AddConstant(Graph& graph, const std::string& base, Tensor tensor) {
  int id = graph.GetOrAddValue(UniqueValueName(graph, base));
  Value& v = graph.values[id];
  v.type = ValueType::Of(tensor.dtype(), tensor.shape());
  v.constant = std::move(tensor);
  return id;
}

int OtherInput(const Node& node, int value) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return -1;
  if (node.inputs[0] == value) return node.inputs[1];
  if (node.inputs[1] == value) return node.inputs[0];
  return -1;
}

Matcher::Matcher(const Graph& graph) : graph_(graph), uses_(UseCounts(graph)), consumers_(Consumers(graph)) {}

int Matcher::SoleConsumer(int value, const char* op) const {
  if (value < 0 || value >= static_cast<int>(uses_.size()) || uses_[value] != 1 || consumers_[value].size() != 1) {
    return -1;
  }
  int c = consumers_[value][0];
  const Node& node = graph_.nodes[c];
  return node.op_type == op && node.domain.empty() ? c : -1;
}

Status Validate(const Graph& graph, const std::string& pass) {
  auto fail = [&](const std::string& what) { return Internal("pass " + pass + " broke the graph: " + what); };
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    if (IsRemoved(node)) return fail("a removed node was left in the node list");
    for (int id : node.outputs) {
      if (id >= 0 && graph.values[id].producer != static_cast<int>(n)) {
        return fail(node.Label() + " output '" + graph.values[id].name + "' names another producer");
      }
    }
    for (int id : node.inputs) {
      if (id < 0) continue;
      const Value& v = graph.values[id];
      if (v.producer < 0 && !v.is_constant() && !graph.IsBound(id)) {
        return fail(node.Label() + " reads '" + v.name + "', which nothing computes");
      }
    }
  }
  for (int id : graph.outputs) {
    const Value& v = graph.values[id];
    if (v.producer < 0 && !v.is_constant() && !graph.IsBound(id)) {
      return fail("graph output '" + v.name + "' is computed by nothing");
    }
  }
  return Status::Ok();
}

}  // namespace edgeai::rewrite
