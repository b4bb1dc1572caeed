// GraphSubgraph: the graph layer's implementation of backend/subgraph.h. The importer builds one per graph
// attribute; the enclosing graph's shape inference calls Infer (with the captured values' types), its
// executor's creation calls Compile, and the control-flow kernel calls Run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/op_registry.h"
#include "backend/subgraph.h"
#include "backend/thread_pool.h"
#include "graph/executor.h"
#include "graph/ir.h"

namespace edgeai {

class GraphSubgraph : public Subgraph {
 public:
  // `capture_positions[i]` is where body.captures[i] sits among the enclosing node's inputs.
  GraphSubgraph(std::string label, Graph body, std::vector<int> capture_positions);

  size_t num_inputs() const override { return body_->inputs.size(); }
  size_t num_outputs() const override { return body_->outputs.size(); }
  const ValueType& input_type(size_t i) const override { return body_->values[body_->inputs[i]].type; }
  const ValueType& output_type(size_t i) const override { return body_->values[body_->outputs[i]].type; }
  Result<std::vector<Tensor>> Run(const std::vector<const Tensor*>& inputs, const KernelContext& ctx) const override;

  const std::vector<int>& capture_positions() const { return capture_positions_; }
  // Static inference of the body of `node`, given the enclosing graph's types of the node's inputs.
  Status Infer(const Node& node, const std::vector<const ValueType*>& node_input_types, const OpRegistry& registry);
  Status Compile(const OpRegistry& registry, const ThreadPool& pool, RunLimits limits);

 private:
  void SeedBodyInputTypes(const Node& node, const std::vector<const ValueType*>& node_input_types);

  std::string label_;
  std::shared_ptr<Graph> body_;
  std::vector<int> capture_positions_;
  std::unique_ptr<Executor> executor_;
};

// The GraphSubgraphs among `node`'s attributes.
std::vector<GraphSubgraph*> SubgraphsOf(const Node& node);

}  // namespace edgeai
