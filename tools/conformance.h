// The ONNX backend node-test runner behind `edgeai conformance`: each case folder holds model.onnx and
// test_data_set_*/{input,output}_N.pb (TensorProto). Every case runs in a forked child process, so a crash or a
// hang in one case is reported as that case's error and never stops the suite.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "edgeai/status.h"

namespace edgeai::tools {

enum class CaseStatus { kPass, kFail, kUnsupported, kError };
const char* CaseStatusName(CaseStatus status);

struct CaseResult {
  std::string name;               // folder name, e.g. "test_abs"
  std::vector<std::string> ops;   // op types of the model's nodes, sorted, unique
  CaseStatus status = CaseStatus::kError;
  std::string detail;             // why it failed / is unsupported / errored; the tolerance used when it passed
};

struct ConformanceOptions {
  std::string filter;             // ECMAScript regex on the case name; empty runs all
  int timeout_seconds = 60;       // per case
  bool progress = false;          // draw a progress bar on stderr
};

// Case folders under `dir` (or under `dir`/node when it exists), sorted by name.
Result<std::vector<std::string>> ListConformanceCases(const std::string& dir);

Result<std::vector<CaseResult>> RunConformance(const std::string& dir, const ConformanceOptions& options);

// Runs one case in this process (the forked child calls this).
CaseResult RunConformanceCase(const std::string& case_dir);

// Reports: a per-op markdown table with the overall rate, and the JSON document of `--json`.
std::string ConformanceMarkdown(const std::vector<CaseResult>& results);
std::string ConformanceJson(const std::vector<CaseResult>& results);

// Tolerances: rtol 1e-3, atol 1e-5 unless a case needs another (each override carries its reason).
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-5;
  const char* reason = nullptr;
};
Tolerance ToleranceFor(const std::string& case_name);

}  // namespace edgeai::tools

namespace edgeai::tools {

// `edgeai conformance DIR [--backend cpu] [--filter REGEX] [--report FILE.md] [--json FILE] [--expect FILE]`.
// --expect names a list of cases (one per line, '#' comments) that must pass: any of them not passing makes
// the command fail (exit 1); passing cases missing from the list are printed so the list can grow.
int ConformanceCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char kConformanceUsage[];

}  // namespace edgeai::tools
