#include "backend/op_registry.h"

#include <algorithm>

namespace edgeai {
namespace {

bool AcceptsType(const OpDef& def, DataType dtype) {
  return def.types.empty() || std::find(def.types.begin(), def.types.end(), dtype) != def.types.end();
}

bool SharesType(const OpDef& a, const OpDef& b) {
  if (a.types.empty() || b.types.empty()) return true;
  for (DataType t : a.types) {
    if (AcceptsType(b, t)) return true;
  }
  return false;
}

}  // namespace

std::string CanonicalDomain(const std::string& domain) { return domain == "ai.onnx" ? "" : domain; }

Status OpRegistry::Register(OpDef def) {
  def.domain = CanonicalDomain(def.domain);
  if (def.infer == nullptr || def.create == nullptr) {
    return Internal("op " + def.op_type + " registered without inference or kernel factory");
  }
  auto& defs = defs_[{def.domain, def.op_type}];
  for (const OpDef& other : defs) {
    bool overlap = def.since_version <= other.until_version && other.since_version <= def.until_version;
    if (overlap && SharesType(def, other)) {
      return Internal("op " + def.op_type + " registered twice for opset " + std::to_string(def.since_version));
    }
  }
  defs.push_back(std::move(def));
  return Status::Ok();
}

Result<const OpDef*> OpRegistry::Find(const std::string& domain, const std::string& op_type, int opset,
                                      const std::vector<DataType>& input_dtypes) const {
  std::string canonical = CanonicalDomain(domain);
  auto it = defs_.find({canonical, op_type});
  std::string label = canonical.empty() ? op_type : canonical + "." + op_type;
  if (it == defs_.end()) return Unimplemented("unsupported op " + label);
  bool opset_matched = false;
  DataType dtype = DataType::kUndefined;
  for (const OpDef& def : it->second) {
    if (opset < def.since_version || opset > def.until_version) continue;
    opset_matched = true;
    size_t type_input = static_cast<size_t>(def.type_input);
    dtype = type_input < input_dtypes.size() ? input_dtypes[type_input] : DataType::kUndefined;
    if (AcceptsType(def, dtype)) return &def;
  }
  if (!opset_matched) {
    return Unimplemented("op " + label + " is not supported at opset " + std::to_string(opset));
  }
  return Unimplemented("op " + label + " does not support dtype " + std::string(DataTypeName(dtype)));
}

bool OpRegistry::Knows(const std::string& domain, const std::string& op_type) const {
  return defs_.count({CanonicalDomain(domain), op_type}) != 0;
}

std::vector<std::pair<std::string, std::string>> OpRegistry::Ops() const {
  std::vector<std::pair<std::string, std::string>> ops;
  for (const auto& entry : defs_) ops.push_back(entry.first);
  return ops;
}

std::vector<const OpDef*> OpRegistry::Defs() const {
  std::vector<const OpDef*> defs;
  for (const auto& entry : defs_) {
    for (const OpDef& def : entry.second) defs.push_back(&def);
  }
  return defs;
}

}  // namespace edgeai
