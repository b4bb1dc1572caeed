#include <unistd.h>

#include <fstream>
#include <iostream>
#include <set>

#include "tools/cli.h"
#include "tools/cli_common.h"
#include "tools/conformance.h"

namespace edgeai::tools {

const char kConformanceUsage[] =
    "usage: edgeai conformance DIR [--backend cpu] [--filter REGEX] [--report FILE.md] [--json FILE] "
    "[--expect FILE]";

namespace {

struct ConformanceArgs {
  std::string dir;
  std::string report;
  std::string json;
  std::string expect;
  ConformanceOptions options;
};

Result<ConformanceArgs> ParseConformanceArgs(const std::vector<std::string>& args) {
  ConformanceArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) -> Status {
      if (i + 1 >= args.size()) return InvalidArgument(a + " needs a value");
      *into = args[++i];
      return Status::Ok();
    };
    std::string backend;
    if (a == "--filter") {
      EDGEAI_RETURN_IF_ERROR(value(&parsed.options.filter));
    } else if (a == "--report") {
      EDGEAI_RETURN_IF_ERROR(value(&parsed.report));
    } else if (a == "--json") {
      EDGEAI_RETURN_IF_ERROR(value(&parsed.json));
    } else if (a == "--expect") {
      EDGEAI_RETURN_IF_ERROR(value(&parsed.expect));
    } else if (a == "--backend") {
      EDGEAI_RETURN_IF_ERROR(value(&backend));
      if (backend != "cpu") return InvalidArgument("unknown backend '" + backend + "' (available: cpu)");
    } else if (!a.empty() && a[0] == '-') {
      return InvalidArgument("unknown flag '" + a + "'");
    } else if (parsed.dir.empty()) {
      parsed.dir = a;
    } else {
      return InvalidArgument("unexpected argument '" + a + "'");
    }
  }
  if (parsed.dir.empty()) return InvalidArgument("missing the conformance folder");
  return parsed;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) return Unavailable("cannot write '" + path + "'");
  return Status::Ok();
}

// 0 when every expected case passed; prints regressions and newly passing cases.
int CheckExpected(const std::string& path, const std::vector<CaseResult>& results, std::ostream& out,
                  std::ostream& err) {
  std::ifstream in(path);
  if (!in) {
    PrintError(NotFound("cannot open expected-pass list '" + path + "'"), err);
    return kExitError;
  }
  std::set<std::string> expected;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.erase(0, 1);
    if (!line.empty()) expected.insert(line);
  }
  std::map<std::string, const CaseResult*> by_name;
  for (const auto& r : results) by_name[r.name] = &r;
  int regressions = 0;
  for (const auto& name : expected) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      err << "REGRESSION " << name << ": expected to pass but was not run (missing from the suite)\n";
      ++regressions;
    } else if (it->second->status != CaseStatus::kPass) {
      err << "REGRESSION " << name << ": " << CaseStatusName(it->second->status) << ": "
          << OneLine(it->second->detail) << "\n";
      ++regressions;
    }
  }
  int fresh = 0;
  for (const auto& r : results) {
    if (r.status == CaseStatus::kPass && !expected.count(r.name)) {
      out << "newly passing (add to " << path << "): " << r.name << "\n";
      ++fresh;
    }
  }
  out << "expected list: " << expected.size() << " cases, " << regressions << " regressions, " << fresh
      << " newly passing\n";
  return regressions == 0 ? kExitOk : kExitError;
}

}  // namespace

int ConformanceCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<ConformanceArgs> parsed = ParseConformanceArgs(args);
  if (!parsed.ok()) return UsageError(parsed.status().message(), kConformanceUsage, err);
  parsed->options.progress = isatty(STDERR_FILENO) != 0;
  Result<std::vector<CaseResult>> results = RunConformance(parsed->dir, parsed->options);
  if (!results.ok()) {
    PrintError(results.status(), err);
    return kExitError;
  }
  std::string markdown = ConformanceMarkdown(*results);
  out << markdown.substr(0, markdown.find("\n## Cases"));
  if (!parsed->report.empty()) {
    Status s = WriteText(parsed->report, markdown);
    if (!s.ok()) {
      PrintError(s, err);
      return kExitError;
    }
  }
  if (!parsed->json.empty()) {
    Status s = WriteText(parsed->json, ConformanceJson(*results));
    if (!s.ok()) {
      PrintError(s, err);
      return kExitError;
    }
  }
  if (!parsed->expect.empty()) return CheckExpected(parsed->expect, *results, out, err);
  return kExitOk;
}

}  // namespace edgeai::tools
