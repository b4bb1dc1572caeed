#include "graph/ir.h"

#include <algorithm>
#include <queue>

namespace edgeai {

std::string Node::Label() const { return op_type + " node '" + name + "'"; }

int Graph::GetOrAddValue(const std::string& name) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int id = static_cast<int>(values.size());
  values.push_back(Value{});
  values.back().name = name;
  index_.emplace(name, id);
  return id;
}

int Graph::FindValue(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

bool Graph::IsBound(int value_id) const {
  return std::find(inputs.begin(), inputs.end(), value_id) != inputs.end() ||
         std::find(captures.begin(), captures.end(), value_id) != captures.end();
}

Result<std::vector<int>> Graph::TopologicalOrder() const {
  // Kahn's algorithm, preferring the original order among ready nodes so that the result is stable.
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> consumers(values.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int v : nodes[n].inputs) {
      if (v < 0 || values[v].producer < 0) continue;
      ++pending[n];
      consumers[v].push_back(static_cast<int>(n));
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (pending[n] == 0) ready.push(static_cast<int>(n));
  }
  std::vector<int> order;
  order.reserve(nodes.size());
  while (!ready.empty()) {
    int n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int v : nodes[n].outputs) {
      if (v < 0) continue;
      for (int consumer : consumers[v]) {
        if (--pending[consumer] == 0) ready.push(consumer);
      }
    }
  }
  if (order.size() != nodes.size()) {
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (pending[n] != 0) return InvalidArgument("graph has a cycle through " + nodes[n].Label());
    }
  }
  return order;
}

TensorInfo Graph::Describe(int value_id) const {
  const Value& v = values[value_id];
  TensorInfo info;
  info.name = v.name;
  info.dtype = v.type.dtype;
  info.rank_known = v.type.rank_known;
  if (v.type.rank_known) {
    for (size_t i = 0; i < v.type.dims.rank(); ++i) {
      Dim d;
      d.value = v.type.dims[i];
      if (i < v.dim_symbols.size() && d.value < 0) d.symbol = v.dim_symbols[i];
      info.dims.push_back(d);
    }
  }
  return info;
}

}  // namespace edgeai
