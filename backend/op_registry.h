// OpRegistry: the table of OpDefs of one backend, keyed by (domain, op type) with inclusive opset ranges.
// Lookup tells apart an unknown op, an opset outside every registered range and an unsupported dtype, so that
// the importer can say exactly why a node cannot run. Thread safety: fill once, then read from any thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backend/kernel.h"

namespace edgeai {

class OpRegistry {
 public:
  // Fails (internal) when the new range overlaps one already registered for the same op and a shared dtype.
  Status Register(OpDef def);

  // The OpDef for a node with these input dtypes (kUndefined for absent inputs); each def checks the dtype of
  // its own `type_input`. Errors (unimplemented) name the op and say which part of the key did not match.
  Result<const OpDef*> Find(const std::string& domain, const std::string& op_type, int opset,
                            const std::vector<DataType>& input_dtypes) const;
  bool Knows(const std::string& domain, const std::string& op_type) const;
  // All registered (domain, op type) pairs, sorted.
  std::vector<std::pair<std::string, std::string>> Ops() const;
  // Every OpDef, sorted by (domain, op type), then in registration order.
  std::vector<const OpDef*> Defs() const;

 private:
  std::map<std::pair<std::string, std::string>, std::vector<OpDef>> defs_;
};

// Canonical domain name: "" for ai.onnx.
std::string CanonicalDomain(const std::string& domain);

}  // namespace edgeai
