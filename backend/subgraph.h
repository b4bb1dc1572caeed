// Subgraph: the body of a control-flow op (If's branches, Loop's and Scan's bodies) as a kernel sees it. The
// graph layer imports and compiles the body; the kernel only calls Run. A body may read values of the
// enclosing graphs ("captures"): the importer appends them to the node's inputs after its declared ones, and
// the subgraph picks them out of the calling kernel's context by position.
// Thread safety: Run may be called concurrently; a compiled subgraph is immutable.
#pragma once

#include <vector>

#include "backend/kernel.h"

namespace edgeai {

class Subgraph {
 public:
  virtual ~Subgraph() = default;
  // Formal inputs and outputs of the body, in declaration order.
  virtual size_t num_inputs() const = 0;
  virtual size_t num_outputs() const = 0;
  // Types as statically inferred for the body (dims may be unknown).
  virtual const ValueType& input_type(size_t i) const = 0;
  virtual const ValueType& output_type(size_t i) const = 0;
  // Runs the body on `inputs` (one per formal input) and the captured values found in `ctx`'s inputs.
  // Returns owning output tensors in order.
  virtual Result<std::vector<Tensor>> Run(const std::vector<const Tensor*>& inputs,
                                          const KernelContext& ctx) const = 0;
};

}  // namespace edgeai
