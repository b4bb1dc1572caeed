// Helpers shared by the passes: use counts, rewiring, node removal and compaction, new constants.
#pragma once

#include <string>
#include <vector>

#include "graph/ir.h"

namespace edgeai::rewrite {

// Per value: how many node input slots read it, plus one for each time the graph lists it as an output.
std::vector<int> UseCounts(const Graph& graph);
// Per value: the nodes reading it (a node once per input slot).
std::vector<std::vector<int>> Consumers(const Graph& graph);
bool IsGraphOutput(const Graph& graph, int value);

// The node producing `value`, if it has op `op_type` in `domain` ("" is ai.onnx); else -1.
int ProducerOf(const Graph& graph, int value, const char* op_type, const char* domain = "");
// The constant tensor of `value`, or nullptr (also for -1).
const Tensor* ConstantOf(const Graph& graph, int value);
// The one element of a constant float or integer tensor (any shape with one element), as double.
bool ScalarConstant(const Graph& graph, int value, double* out);

// Makes every node input reading `from` read `to` (graph outputs are left alone).
void ReplaceInputUses(Graph& graph, int from, int to);
// Marks a node removed (op_type cleared, inputs and outputs dropped, its outputs' producer reset).
// CompactNodes erases the marked nodes.
void RemoveNode(Graph& graph, int node);
bool IsRemoved(const Node& node);
void CompactNodes(Graph& graph);
// Sets `node`'s outputs, making it their producer.
void SetOutputs(Graph& graph, int node, const std::vector<int>& outputs);

// A new constant value named after `base` (made unique).
int AddConstant(Graph& graph, const std::string& base, Tensor tensor);
std::string UniqueValueName(const Graph& graph, const std::string& base);

// The input of binary `node` other than `value` (when `value` is one of its two inputs), else -1.
int OtherInput(const Node& node, int value);

// Use counts and consumers of a graph taken once, for pattern matching. Stale after rewrites: a pass that
// rewrites while matching checks IsRemoved on the nodes it reaches.
class Matcher {
 public:
  explicit Matcher(const Graph& graph);
  // The only reader of `value` when it is an `op` node (ai.onnx) and `value` is no graph output; else -1.
  int SoleConsumer(int value, const char* op) const;
  int uses(int value) const { return uses_[value]; }
  const std::vector<int>& consumers(int value) const { return consumers_[value]; }

 private:
  const Graph& graph_;
  std::vector<int> uses_;
  std::vector<std::vector<int>> consumers_;
};

// Internal error naming `pass` when the graph breaks the invariants listed in pass.h.
Status Validate(const Graph& graph, const std::string& pass);

}  // namespace edgeai::rewrite
