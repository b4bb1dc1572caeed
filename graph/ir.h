// The graph IR: values (with dtype, shape and, for constants, their data), nodes (op, attributes, value ids)
// and the graph's inputs and outputs. Built by the ONNX importer, annotated by shape inference, read by the
// executor. Value ids index Graph::values; -1 marks an absent optional input or output.
// Thread safety: built on one thread, then read-only.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "backend/kernel.h"
#include "edgeai/engine.h"

namespace edgeai {

struct Value {
  std::string name;
  ValueType type;
  // Symbolic dimension names as declared (graph inputs/outputs); empty strings for fixed or unnamed dims.
  std::vector<std::string> dim_symbols;
  int producer = -1;  // node index; -1 for graph inputs and constants
  Tensor constant;    // defined for initializers and folded constants
  bool is_constant() const { return constant.defined(); }
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // canonical: "" for ai.onnx
  int opset = 0;       // opset version of the node's domain in this model
  AttributeMap attrs;
  std::vector<int> inputs;
  std::vector<int> outputs;
  // "Conv node 'conv1'", for error messages.
  std::string Label() const;
};

class Graph {
 public:
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;    // graph inputs that are not constants
  std::vector<int> outputs;
  std::vector<int> captures;  // subgraphs only: values read from enclosing graphs, bound like inputs

  // Id of the value called `name`, creating it when new.
  int GetOrAddValue(const std::string& name);
  // Id of `name`, or -1.
  int FindValue(const std::string& name) const;
  // True for graph inputs and captures: values the caller binds at run time.
  bool IsBound(int value_id) const;

  // Node indices such that every node comes after the producers of its inputs. Error on a cycle.
  Result<std::vector<int>> TopologicalOrder() const;

  // Public description of a value (name, dtype, dims with symbols).
  TensorInfo Describe(int value_id) const;

 private:
  std::unordered_map<std::string, int> index_;
};

}  // namespace edgeai
