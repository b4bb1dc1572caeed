// The `edgeai` executable: dispatches to a subcommand (tools/cli.h). Exit status: 0 success, 1 error, 2 bad
// command line. Every error is one line "edgeai: error: ..." on stderr; nothing escapes as a crash.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"
#include "tools/cli_common.h"
#include "tools/conformance.h"

namespace {

int Dispatch(const std::vector<std::string>& args) {
  using namespace edgeai::tools;
  if (args.empty()) return UsageError("no command given", kMainUsage, std::cerr);
  const std::string& command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "run") return RunCommand(rest, std::cout, std::cerr);
  if (command == "info") return InfoCommand(rest, std::cout, std::cerr);
  if (command == "bench") return BenchCommand(rest, std::cout, std::cerr);
  if (command == "devices") return DevicesCommand(rest, std::cout, std::cerr);
  if (command == "ops") return OpsCommand(rest, std::cout, std::cerr);
  if (command == "conformance") return ConformanceCommand(rest, std::cout, std::cerr);
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << HelpText();
    return kExitOk;
  }
  return UsageError("unknown command '" + command + "'", kMainUsage, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgeai::tools;
  try {
    int code = Dispatch(std::vector<std::string>(argv + 1, argv + argc));
    std::cout.flush();
    return code;
  } catch (const std::exception& e) {
    PrintError(edgeai::Internal(std::string("unexpected exception: ") + e.what()), std::cerr);
  } catch (...) {
    PrintError(edgeai::Internal("unexpected exception"), std::cerr);
  }
  return kExitError;
}
