// Graph optimisation passes. A pass rewrites a Graph that has been through InferGraphShapes into an equivalent
// one (same graph inputs and outputs, by name, and the same results up to float rounding) and says whether it
// changed anything. Passes run one after another to a fixed point under a PassManager (pass_manager.h), which
// re-runs shape inference after each change; a pass may also run alone, as the tests do.
//
// Every pass leaves the graph valid: node list compact, Value::producer consistent, every node input computed
// by a node, bound or constant. Values a rewrite orphans stay in Graph::values until dead code elimination.
#pragma once

#include <cstdint>
#include <string>

#include "backend/op_registry.h"
#include "backend/thread_pool.h"
#include "edgeai/status.h"
#include "graph/ir.h"

namespace edgeai {

// "none" runs no pass; "basic" only rewrites that remove work without changing the ops that compute (folding,
// Identity/Dropout removal, dead code); "all" adds the fusions into com.edgeai ops.
enum class OptLevel { kNone = 0, kBasic = 1, kAll = 2 };

// "none", "basic" or "all"; anything else is an invalid_argument error.
Result<OptLevel> ParseOptLevel(const std::string& name);
const char* OptLevelName(OptLevel level);

// The domain of the ops the fusion passes create (kernels in backend/cpu/fused_ops.cc).
inline constexpr char kEdgeAIDomain[] = "com.edgeai";

struct PassContext {
  PassContext(const OpRegistry& registry, const ThreadPool& pool) : registry(registry), pool(pool) {}
  const OpRegistry& registry;  // runs folded nodes and resolves ops
  const ThreadPool& pool;
  // Constant folding leaves a node alone when its outputs would take more bytes than this.
  int64_t max_folded_bytes = int64_t{64} << 20;
  // Whether the backend's channel-blocked kernels pay here (blocked_layout.cc); the engine sets it from the
  // CPU (cpu::BlockedLayoutPays: AVX-512).
  bool blocked_layout = false;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  // The lowest level that runs this pass.
  virtual OptLevel level() const = 0;
  // Rewrites `graph` in place; true when it changed anything.
  virtual Result<bool> Run(Graph& graph, const PassContext& ctx) = 0;
};

}  // namespace edgeai
