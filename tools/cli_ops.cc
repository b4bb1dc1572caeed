// `edgeai ops`: the CPU backend's operator table as markdown (docs/operators.md is generated from it).
#include <algorithm>
#include <map>

#include "backend/cpu/cpu_ops.h"
#include "tools/cli.h"
#include "tools/cli_common.h"

namespace edgeai::tools {

const char kOpsUsage[] = "usage: edgeai ops";

int OpsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (!args.empty()) {
    if (args[0] == "--help" || args[0] == "-h") {
      out << kOpsUsage << "\n";
      return kExitOk;
    }
    return UsageError("'ops' takes no arguments, got '" + args[0] + "'", kOpsUsage, err);
  }
  // Group the defs of each op: "1-6, 7+" and the union of their dtypes.
  struct Row {
    std::vector<std::string> ranges;
    std::vector<std::string> types;
  };
  std::map<std::string, Row> rows;
  for (const OpDef* def : CpuOpRegistry().Defs()) {
    std::string name = def->domain.empty() ? def->op_type : def->domain + "." + def->op_type;
    Row& row = rows[name];
    std::string range = std::to_string(def->since_version);
    if (def->until_version == kMaxOpset) {
      range += "+";
    } else if (def->until_version != def->since_version) {
      range += "-" + std::to_string(def->until_version);
    }
    if (std::find(row.ranges.begin(), row.ranges.end(), range) == row.ranges.end()) row.ranges.push_back(range);
    if (def->types.empty() && std::find(row.types.begin(), row.types.end(), "any") == row.types.end()) {
      row.types.push_back("any");
    }
    for (DataType t : def->types) {
      std::string type(DataTypeName(t));
      if (std::find(row.types.begin(), row.types.end(), type) == row.types.end()) row.types.push_back(type);
    }
  }
  out << "| op | opsets | dtypes (of the type-constrained input) |\n|---|---|---|\n";
  for (const auto& [name, row] : rows) {
    std::string ranges, types;
    for (const auto& r : row.ranges) ranges += (ranges.empty() ? "" : ", ") + r;
    for (const auto& t : row.types) types += (types.empty() ? "" : ", ") + t;
    out << "| " << name << " | " << ranges << " | " << types << " |\n";
  }
  out << "\n" << rows.size() << " operators.\n";
  return kExitOk;
}

}  // namespace edgeai::tools
