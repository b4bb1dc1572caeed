// The subcommands of the `edgeai` executable. Each takes the arguments after its name, writes its report to
// `out` and errors to `err`, and returns the process exit code (see cli_common.h). tools/main.cc dispatches.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "edgeai/engine.h"
#include "tools/cli_common.h"

namespace edgeai::tools {

// The one-line usage of each command, and the full help text.
extern const char kRunUsage[];
extern const char kInfoUsage[];
extern const char kDevicesUsage[];
extern const char kBenchUsage[];
extern const char kMainUsage[];
std::string HelpText();

struct RunArgs {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // input name -> .npy path, as given
  std::map<std::string, std::vector<int64_t>> shapes;       // input name -> dims from --shape
  std::string output_dir;                                   // empty: write no files
  int threads = 0;                                          // 0: one per core
  std::string opt_level = "all";                            // EngineOptions::optimization_level
  bool help = false;
};
// Parses `edgeai run` arguments; an invalid_argument error is a usage error.
Result<RunArgs> ParseRunArgs(const std::vector<std::string>& args);

struct BenchArgs {
  std::string model;
  std::map<std::string, std::vector<int64_t>> shapes;  // input name -> dims from --shape
  int threads = 0;                                     // 0: one per core
  int64_t batch = 1;                                   // for batch-like symbolic dims (IsBatchSymbol)
  int64_t warmup = 5;
  int64_t min_runs = 20;
  double min_time_s = 2.0;
  bool json = false;
  bool profile = false;
  size_t top_nodes = 10;  // --top: nodes listed by --profile
  std::string opt_level = "all";                       // EngineOptions::optimization_level
  std::string batch_split = "auto";                    // EngineOptions::batch_split
  std::string memory_layout = "auto";                  // EngineOptions::memory_layout
  bool help = false;
};
// Parses `edgeai bench` arguments; an invalid_argument error is a usage error.
Result<BenchArgs> ParseBenchArgs(const std::vector<std::string>& args);

// The value of --opt-level: none, basic or all; anything else is an invalid_argument (usage) error.
Result<std::string> ParseOptLevelFlag(const std::string& value);

// Loads `path` into `engine` after checking that the file exists; `load_ms` receives the LoadModel time.
Status LoadModelTimed(const std::string& path, EdgeAIEngine* engine, double* load_ms);

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int InfoCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int DevicesCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int OpsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char kOpsUsage[];
int BenchCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Prints "edgeai: error: invalid_argument: <message>" and `usage`; returns kExitUsage.
int UsageError(const std::string& message, const char* usage, std::ostream& err);

// The common frame of a command: a parse error is a usage error, --help prints `usage`, otherwise `action`
// runs on the parsed arguments and its failure is printed after whatever it wrote to `out`.
template <typename Args, typename Action>
int RunParsedCommand(const Result<Args>& parsed, const char* usage, Action&& action, std::ostream& out,
                     std::ostream& err) {
  if (!parsed.ok()) return UsageError(parsed.status().message(), usage, err);
  if (parsed->help) {
    out << usage << "\n";
    return kExitOk;
  }
  Status status = action(*parsed, out);
  if (!status.ok()) {
    out.flush();
    PrintError(status, err);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace edgeai::tools
