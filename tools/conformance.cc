#include "tools/conformance.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "edgeai/engine.h"
#include "graph/onnx_tensor.h"
#include "onnx/onnx_pb.h"

namespace edgeai::tools {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Files "<prefix>_<N>.pb" in `dir`, ordered by N.
std::vector<fs::path> NumberedFiles(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix + "_", 0) != 0 || entry.path().extension() != ".pb") continue;
    try {
      found.emplace_back(std::stoi(name.substr(prefix.size() + 1)), entry.path());
    } catch (...) {
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& f : found) paths.push_back(f.second);
  return paths;
}

Result<Tensor> ReadTensorProto(const fs::path& path) {
  EDGEAI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes) || (proto.data_type() == 0 && proto.dims_size() == 0)) {
    return Unimplemented(path.filename().string() + " is not a plain tensor (sequence or optional values)");
  }
  uint64_t no_external = 0;
  return TensorFromProto(proto, "", &no_external);
}

// onnx 1.12's generators store bfloat16 data as uint16 TensorProtos; reinterpret them as the model declares.
Tensor AsDeclared(Tensor t, DataType declared) {
  if (t.dtype() != DataType::kUint16 || declared != DataType::kBFloat16) return t;
  Result<Tensor> copy = Tensor::Allocate(declared, t.shape());
  if (!copy.ok()) return t;
  if (t.ByteSize() != 0) std::memcpy(copy->raw_data(), t.raw_data(), t.ByteSize());
  return std::move(copy).value();
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32: return t.data<float>()[i];
    case DataType::kFloat64: return t.data<double>()[i];
    case DataType::kFloat16: return HalfToFloat(t.data<uint16_t>()[i]);
    case DataType::kInt8: return t.data<int8_t>()[i];
    case DataType::kUint8: return t.data<uint8_t>()[i];
    case DataType::kInt16: return t.data<int16_t>()[i];
    case DataType::kUint16: return t.data<uint16_t>()[i];
    case DataType::kInt32: return t.data<int32_t>()[i];
    case DataType::kUint32: return t.data<uint32_t>()[i];
    case DataType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kUint64: return static_cast<double>(t.data<uint64_t>()[i]);
    case DataType::kBool: return t.data<uint8_t>()[i] ? 1 : 0;
    default: return std::nan("");
  }
}

bool IsFloating(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

// Empty when they match; otherwise what differs.
std::string Compare(const std::string& name, const Tensor& expected, const Tensor& actual, const Tolerance& tol) {
  if (expected.dtype() != actual.dtype() || expected.shape() != actual.shape()) {
    return "output '" + name + "': expected " + expected.Describe() + ", got " + actual.Describe();
  }
  bool floating = IsFloating(expected.dtype());
  for (int64_t i = 0; i < expected.NumElements(); ++i) {
    double e = ElementAsDouble(expected, i);
    double a = ElementAsDouble(actual, i);
    bool ok;
    if (!floating) {
      ok = expected.dtype() == DataType::kInt64
               ? expected.data<int64_t>()[i] == actual.data<int64_t>()[i]
               : expected.dtype() == DataType::kUint64 ? expected.data<uint64_t>()[i] == actual.data<uint64_t>()[i]
                                                        : e == a;
    } else if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = e == a;
    } else {
      ok = std::fabs(a - e) <= tol.atol + tol.rtol * std::fabs(e);
    }
    if (!ok) {
      std::ostringstream s;
      s << "output '" << name << "' differs at flat index " << i << ": expected " << e << ", got " << a;
      return s.str();
    }
  }
  return "";
}

std::vector<std::string> ModelOps(const fs::path& model_path) {
  std::set<std::string> ops;
  Result<std::string> bytes = ReadFile(model_path);
  onnx::ModelProto model;
  if (bytes.ok() && model.ParseFromString(*bytes)) {
    for (const auto& node : model.graph().node()) ops.insert(node.op_type());
  }
  return std::vector<std::string>(ops.begin(), ops.end());
}

CaseStatus StatusFromError(const Status& s) {
  return s.code() == StatusCode::kUnimplemented ? CaseStatus::kUnsupported : CaseStatus::kError;
}

// Result serialisation between the forked child and the parent: "<status>\n<ops,...>\n<detail>".
std::string EncodeResult(const CaseResult& r) {
  std::string ops;
  for (const auto& op : r.ops) ops += (ops.empty() ? "" : ",") + op;
  return std::to_string(static_cast<int>(r.status)) + "\n" + ops + "\n" + r.detail;
}

CaseResult DecodeResult(const std::string& name, const std::string& text) {
  CaseResult r;
  r.name = name;
  size_t a = text.find('\n');
  size_t b = a == std::string::npos ? a : text.find('\n', a + 1);
  if (b == std::string::npos) {
    r.detail = "case runner produced no result";
    return r;
  }
  r.status = static_cast<CaseStatus>(std::stoi(text.substr(0, a)));
  std::stringstream ops(text.substr(a + 1, b - a - 1));
  for (std::string op; std::getline(ops, op, ',');) r.ops.push_back(op);
  r.detail = text.substr(b + 1);
  return r;
}

CaseResult RunForked(const fs::path& case_dir, int timeout_seconds) {
  std::string name = case_dir.filename().string();
  int fds[2];
  if (pipe(fds) != 0) return CaseResult{name, {}, CaseStatus::kError, "pipe() failed"};
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return CaseResult{name, {}, CaseStatus::kError, "fork() failed"};
  }
  if (pid == 0) {
    close(fds[0]);
    std::string encoded = EncodeResult(RunConformanceCase(case_dir.string()));
    size_t written = 0;
    while (written < encoded.size()) {
      ssize_t n = write(fds[1], encoded.data() + written, encoded.size() - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  std::vector<std::string> ops = ModelOps(case_dir / "model.onnx");
  if (timed_out) {
    return CaseResult{name, ops, CaseStatus::kError, "timed out after " + std::to_string(timeout_seconds) + " s"};
  }
  if (WIFSIGNALED(wstatus)) {
    return CaseResult{name, ops, CaseStatus::kError, "crashed with signal " + std::to_string(WTERMSIG(wstatus))};
  }
  return DecodeResult(name, text);
}

}  // namespace

const char* CaseStatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPass: return "pass";
    case CaseStatus::kFail: return "fail";
    case CaseStatus::kUnsupported: return "unsupported";
    case CaseStatus::kError: return "error";
  }
  return "error";
}

Tolerance ToleranceFor(const std::string& case_name) {
  Tolerance t;
  return t;
}

Result<std::vector<std::string>> ListConformanceCases(const std::string& dir) {
  fs::path root(dir);
  std::error_code ec;
  if (fs::is_directory(root / "node", ec)) root /= "node";
  if (!fs::is_directory(root, ec)) return NotFound("conformance folder '" + dir + "' does not exist");
  std::vector<std::string> cases;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path().string());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) return NotFound("no test cases (folders with model.onnx) under '" + dir + "'");
  return cases;
}

CaseResult RunConformanceCase(const std::string& case_dir) {
  fs::path dir(case_dir);
  CaseResult result;
  result.name = dir.filename().string();
  result.ops = ModelOps(dir / "model.onnx");
  EdgeAIEngine engine(EngineOptions{1});
  Status loaded = engine.LoadModel((dir / "model.onnx").string());
  if (!loaded.ok()) {
    result.status = StatusFromError(loaded);
    result.detail = loaded.ToString();
    return result;
  }
  Tolerance tol = ToleranceFor(result.name);
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(entry.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  for (const fs::path& set : sets) {
    NamedTensors inputs;
    std::vector<fs::path> input_files = NumberedFiles(set, "input");
    for (size_t i = 0; i < input_files.size() && i < engine.inputs().size(); ++i) {
      Result<Tensor> t = ReadTensorProto(input_files[i]);
      if (!t.ok()) {
        result.status = StatusFromError(t.status());
        result.detail = t.status().ToString();
        return result;
      }
      inputs[engine.inputs()[i].name] = AsDeclared(std::move(t).value(), engine.inputs()[i].dtype);
    }
    // Twice: the first run records the memory plan, the second runs from the planned arena.
    Result<NamedTensors> out = engine.Run(inputs);
    if (out.ok()) out = engine.Run(inputs);
    if (!out.ok()) {
      result.status = StatusFromError(out.status());
      result.detail = out.status().ToString();
      return result;
    }
    std::vector<fs::path> output_files = NumberedFiles(set, "output");
    for (size_t i = 0; i < output_files.size() && i < engine.outputs().size(); ++i) {
      Result<Tensor> expected = ReadTensorProto(output_files[i]);
      if (!expected.ok()) {
        result.status = StatusFromError(expected.status());
        result.detail = expected.status().ToString();
        return result;
      }
      const std::string& name = engine.outputs()[i].name;
      std::string diff = Compare(name, AsDeclared(*expected, engine.outputs()[i].dtype), out->at(name), tol);
      if (!diff.empty()) {
        result.status = CaseStatus::kFail;
        result.detail = set.filename().string() + ": " + diff;
        return result;
      }
    }
  }
  result.status = CaseStatus::kPass;
  if (tol.reason) result.detail = std::string("tolerance widened: ") + tol.reason;
  return result;
}

Result<std::vector<CaseResult>> RunConformance(const std::string& dir, const ConformanceOptions& options) {
  EDGEAI_ASSIGN_OR_RETURN(std::vector<std::string> cases, ListConformanceCases(dir));
  std::regex filter;
  if (!options.filter.empty()) {
    try {
      filter = std::regex(options.filter);
    } catch (const std::regex_error& e) {
      return InvalidArgument("bad --filter regex '" + options.filter + "': " + e.what());
    }
  }
  std::vector<std::string> selected;
  for (const auto& c : cases) {
    if (options.filter.empty() || std::regex_search(fs::path(c).filename().string(), filter)) selected.push_back(c);
  }
  std::vector<CaseResult> results;
  size_t passed = 0;
  for (size_t i = 0; i < selected.size(); ++i) {
    results.push_back(RunForked(selected[i], options.timeout_seconds));
    if (results.back().status == CaseStatus::kPass) ++passed;
    if (options.progress) {
      const int width = 40;
      int filled = static_cast<int>(width * (i + 1) / selected.size());
      std::fprintf(stderr, "\r[%s%s] %zu/%zu  passed %zu  ", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), i + 1, selected.size(), passed);
    }
  }
  if (options.progress) std::fprintf(stderr, "\n");
  return results;
}

std::string ConformanceMarkdown(const std::vector<CaseResult>& results) {
  struct Counts {
    int total = 0, pass = 0, fail = 0, unsupported = 0, error = 0;
  };
  std::map<std::string, Counts> per_op;
  Counts all;
  for (const auto& r : results) {
    auto bump = [&](Counts& c) {
      ++c.total;
      c.pass += r.status == CaseStatus::kPass;
      c.fail += r.status == CaseStatus::kFail;
      c.unsupported += r.status == CaseStatus::kUnsupported;
      c.error += r.status == CaseStatus::kError;
    };
    bump(all);
    for (const auto& op : r.ops) bump(per_op[op]);
  }
  std::ostringstream md;
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f%%", all.total ? 100.0 * all.pass / all.total : 0.0);
  md << "Overall: " << all.pass << " / " << all.total << " cases pass (" << rate << "); " << all.fail
     << " fail, " << all.unsupported << " unsupported, " << all.error << " error.\n\n";
  md << "| op | cases | pass | fail | unsupported | error |\n|---|---|---|---|---|---|\n";
  for (const auto& [op, c] : per_op) {
    md << "| " << op << " | " << c.total << " | " << c.pass << " | " << c.fail << " | " << c.unsupported << " | "
       << c.error << " |\n";
  }
  md << "\n## Cases that do not pass\n\n| case | status | reason |\n|---|---|---|\n";
  for (const auto& r : results) {
    if (r.status == CaseStatus::kPass) continue;
    std::string detail = r.detail.substr(0, 200);
    std::replace(detail.begin(), detail.end(), '|', '/');
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    md << "| " << r.name << " | " << CaseStatusName(r.status) << " | " << detail << " |\n";
  }
  return md.str();
}

std::string ConformanceJson(const std::vector<CaseResult>& results) {
  nlohmann::json doc;
  int passed = 0;
  doc["cases"] = nlohmann::json::array();
  for (const auto& r : results) {
    passed += r.status == CaseStatus::kPass;
    doc["cases"].push_back({{"name", r.name}, {"ops", r.ops}, {"status", CaseStatusName(r.status)},
                            {"detail", r.detail}});
  }
  doc["total"] = results.size();
  doc["passed"] = passed;
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace edgeai::tools
