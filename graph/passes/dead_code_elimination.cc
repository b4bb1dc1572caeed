// Dead code elimination: nodes none of whose outputs reach a graph output are removed, then the values nothing
// refers to any more (orphans of earlier rewrites, constants no node reads) are dropped from Graph::values,
// which frees the constants' data. Graph inputs and captures always stay: callers bind them by name.
#include <vector>

#include "graph/passes/passes.h"
#include "graph/passes/rewrite.h"

namespace edgeai {
namespace {

// Marks live nodes, walking back from the graph outputs.
std::vector<char> LiveNodes(const Graph& graph) {
  std::vector<char> live(graph.nodes.size(), 0);
  std::vector<int> stack;
  auto reach = [&](int value) {
    if (value < 0) return;
    int p = graph.values[value].producer;
    if (p >= 0 && !live[p]) {
      live[p] = 1;
      stack.push_back(p);
    }
  };
  for (int id : graph.outputs) reach(id);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    for (int id : graph.nodes[n].inputs) reach(id);
  }
  return live;
}

// Rebuilds the graph with only the values marked in `keep`, renumbering every reference.
Graph CompactValues(Graph& graph, const std::vector<char>& keep) {
  Graph out;
  std::vector<int> remap(graph.values.size(), -1);
  for (size_t id = 0; id < graph.values.size(); ++id) {
    if (!keep[id]) continue;
    int new_id = out.GetOrAddValue(graph.values[id].name);
    out.values[new_id] = std::move(graph.values[id]);
    remap[id] = new_id;
  }
  auto map_all = [&](std::vector<int>& ids) {
    for (int& id : ids) id = id < 0 ? -1 : remap[id];
  };
  out.nodes = std::move(graph.nodes);
  for (Node& node : out.nodes) {
    map_all(node.inputs);
    map_all(node.outputs);
  }
  out.inputs = std::move(graph.inputs);
  out.outputs = std::move(graph.outputs);
  out.captures = std::move(graph.captures);
  map_all(out.inputs);
  map_all(out.outputs);
  map_all(out.captures);
  return out;
}

class DeadCodeEliminationPass final : public Pass {
 public:
  const char* name() const override { return "dead_code_elimination"; }
  OptLevel level() const override { return OptLevel::kBasic; }

  Result<bool> Run(Graph& graph, const PassContext&) override {
    bool changed = false;
    std::vector<char> live = LiveNodes(graph);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (!live[n]) {
        rewrite::RemoveNode(graph, static_cast<int>(n));
        changed = true;
      }
    }
    if (changed) rewrite::CompactNodes(graph);
    std::vector<char> keep(graph.values.size(), 0);
    for (int id : graph.inputs) keep[id] = 1;
    for (int id : graph.outputs) keep[id] = 1;
    for (int id : graph.captures) keep[id] = 1;
    for (const Node& node : graph.nodes) {
      for (int id : node.inputs) {
        if (id >= 0) keep[id] = 1;
      }
      for (int id : node.outputs) {
        if (id >= 0) keep[id] = 1;
      }
    }
    bool drop = false;
    for (char k : keep) drop = drop || !k;
    if (drop) {
      graph = CompactValues(graph, keep);
      rewrite::CompactNodes(graph);  // recomputes producers under the new ids
    }
    return changed || drop;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeDeadCodeEliminationPass() { return std::make_unique<DeadCodeEliminationPass>(); }

}  // namespace edgeai
