// `edgeai bench`: load a model, feed it generated inputs and time repeated runs: latency percentiles,
// throughput, load time and peak memory, optionally a per-op profile and a JSON summary line.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "backend/thread_pool.h"
#include "graph/batch_split.h"
#include "graph/executor.h"
#include "tools/bench_stats.h"
#include "tools/cli.h"
#include "tools/cli_common.h"

namespace edgeai::tools {

const char kBenchUsage[] =
    "usage: edgeai bench MODEL.onnx [--threads N] [--batch B] [--shape NAME=AxBxC ...] [--warmup W] "
    "[--min-runs R] [--min-time S] [--opt-level none|basic|all] [--batch-split auto|off|always] "
    "[--memory-layout auto|reuse|spread] [--json] "
    "[--profile [--top N]]";

namespace {

using Clock = std::chrono::steady_clock;

bool IsValueFlag(const std::string& flag) {
  static const std::set<std::string> kFlags = {"--shape",    "--threads",  "--batch",
                                               "--warmup",   "--min-runs", "--min-time", "--opt-level", "--top",
                                               "--batch-split", "--memory-layout"};
  return kFlags.count(flag) > 0;
}

// Parses the value of one of the IsValueFlag options.
Status ParseValueFlag(const std::string& flag, const std::string& value, BenchArgs* parsed) {
  if (flag == "--shape") {
    EDGEAI_RETURN_IF_ERROR(AddShapeFlag(value, &parsed->shapes));
  } else if (flag == "--threads") {
    EDGEAI_ASSIGN_OR_RETURN(int64_t threads, ParseCount(value, "--threads", 1024));
    parsed->threads = static_cast<int>(threads);
  } else if (flag == "--top") {
    EDGEAI_ASSIGN_OR_RETURN(int64_t top, ParseCount(value, "--top", 1 << 20));
    parsed->top_nodes = static_cast<size_t>(top);
  } else if (flag == "--batch") {
    EDGEAI_ASSIGN_OR_RETURN(parsed->batch, ParseCount(value, "--batch", int64_t{1} << 20));
    if (parsed->batch == 0) return InvalidArgument("--batch must be at least 1");
  } else if (flag == "--warmup") {
    EDGEAI_ASSIGN_OR_RETURN(parsed->warmup, ParseCount(value, "--warmup", 1000000));
  } else if (flag == "--min-runs") {
    EDGEAI_ASSIGN_OR_RETURN(parsed->min_runs, ParseCount(value, "--min-runs", 10000000));
  } else if (flag == "--min-time") {
    EDGEAI_ASSIGN_OR_RETURN(parsed->min_time_s, ParseSeconds(value, "--min-time", 3600));
  } else if (flag == "--opt-level") {
    EDGEAI_ASSIGN_OR_RETURN(parsed->opt_level, ParseOptLevelFlag(value));
  } else if (flag == "--batch-split") {
    if (!ParseBatchSplitMode(value).ok()) {
      return InvalidArgument("--batch-split must be auto, off or always, got '" + value + "'");
    }
    parsed->batch_split = value;
  } else if (flag == "--memory-layout") {
    if (!ParseMemoryLayout(value).ok()) {
      return InvalidArgument("--memory-layout must be auto, reuse or spread, got '" + value + "'");
    }
    parsed->memory_layout = value;
  }
  return Status::Ok();
}

// Every model input, generated in declaration order from one seeded generator as `edgeai run` does, with
// batch-like symbolic dims set to --batch. `*batched` tells whether any dim took it.
Result<NamedTensors> GenerateInputs(const EdgeAIEngine& engine, const BenchArgs& args, bool* batched,
                                    std::ostream& out) {
  std::set<std::string> names;
  for (const TensorInfo& info : engine.inputs()) names.insert(info.name);
  for (const auto& [name, dims] : args.shapes) {
    if (!names.count(name)) return InvalidArgument("--shape names '" + name + "', which is not a model input");
  }
  std::mt19937 rng(kInputSeed);
  NamedTensors inputs;
  *batched = false;
  out << "inputs:\n";
  for (const TensorInfo& info : engine.inputs()) {
    EDGEAI_ASSIGN_OR_RETURN(Shape shape, GeneratedInputShape(info, args.shapes, args.batch, batched));
    EDGEAI_ASSIGN_OR_RETURN(Tensor tensor, GenerateInput(info.dtype, shape, &rng));
    out << "  " << info.name << ": " << tensor.Describe() << "\n";
    inputs.emplace(info.name, std::move(tensor));
  }
  return inputs;
}

// W warm-up runs, then measured runs until both at least `min_runs` (and one) and `min_time_s` have passed.
// Each sample is the wall time of one Run call; freeing its outputs happens outside it.
Result<std::vector<double>> MeasureRuns(EdgeAIEngine& engine, const NamedTensors& inputs, const BenchArgs& args) {
  for (int64_t i = 0; i < args.warmup; ++i) {
    Result<NamedTensors> results = engine.Run(inputs);
    if (!results.ok()) return results.status();
  }
  if (args.profile) engine.ResetOpTimings();
  std::vector<double> run_ms;
  run_ms.reserve(static_cast<size_t>(std::min<int64_t>(std::max<int64_t>(args.min_runs, 1), 1 << 20)));
  const double min_time_ms = args.min_time_s * 1000.0;
  Clock::time_point start = Clock::now();
  do {
    Clock::time_point run_start = Clock::now();
    Result<NamedTensors> results = engine.Run(inputs);
    run_ms.push_back(MsSince(run_start));
    if (!results.ok()) return results.status();
  } while (static_cast<int64_t>(run_ms.size()) < args.min_runs || MsSince(start) < min_time_ms);
  return run_ms;
}

// Peak resident set size of this process in MB (ru_maxrss is in KiB on Linux).
double PeakRssMb() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string Pad(const std::string& text, size_t width, bool right) {
  if (text.size() >= width) return text;
  std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

void PrintProfile(const ProfileSummary& profile, int64_t runs, std::ostream& out) {
  size_t type_width = 7;
  for (const OpTypeProfile& t : profile.by_type) type_width = std::max(type_width, t.op_type.size());
  out << "profile (node times per run, over " << runs << " measured runs):\n";
  out << "  " << Pad("op type", type_width, false) << "  " << Pad("ms/run", 10, true) << "  "
      << Pad("share", 7, true) << "  " << Pad("nodes", 5, true) << "\n";
  int64_t nodes = 0;
  for (const OpTypeProfile& t : profile.by_type) {
    out << "  " << Pad(t.op_type, type_width, false) << "  " << Pad(FormatMs(t.ms_per_run), 10, true) << "  "
        << Pad(Fixed(t.share, 1) + "%", 7, true) << "  " << Pad(std::to_string(t.nodes), 5, true) << "\n";
    nodes += t.nodes;
  }
  out << "  " << Pad("total", type_width, false) << "  " << Pad(FormatMs(profile.total_ms_per_run), 10, true)
      << "  " << Pad("100.0%", 7, true) << "  " << Pad(std::to_string(nodes), 5, true) << "\n";

  size_t node_width = 4;
  for (const NodeProfile& n : profile.top_nodes) node_width = std::max(node_width, n.node.size());
  node_width = std::min<size_t>(node_width, 48);
  out << "top " << profile.top_nodes.size() << " nodes:\n";
  out << "  " << Pad("node", node_width, false) << "  " << Pad("op type", type_width, false) << "  "
      << Pad("ms/run", 10, true) << "  " << Pad("share", 7, true) << "\n";
  for (const NodeProfile& n : profile.top_nodes) {
    std::string name = n.node.empty() ? "(unnamed)" : n.node;
    out << "  " << Pad(name, node_width, false) << "  " << Pad(n.op_type, type_width, false) << "  "
        << Pad(FormatMs(n.ms_per_run), 10, true) << "  " << Pad(Fixed(n.share, 1) + "%", 7, true) << "\n";
  }
}

struct BenchReport {
  LatencyStats latency;
  double throughput_ips = 0;
  double load_ms = 0;
  double peak_rss_mb = 0;
  int threads = 0;
};

void PrintReport(const BenchArgs& args, const BenchReport& r, std::ostream& out) {
  out << "threads: " << r.threads << "  batch: " << args.batch << "  opt-level: " << args.opt_level
      << "  warmup: " << args.warmup << "  runs: " << r.latency.runs << " (" << Fixed(r.latency.total_ms / 1000.0, 2) << " s measured)\n";
  out << "load: " << FormatMs(r.load_ms) << " ms\n";
  out << "latency ms: p50 " << FormatMs(r.latency.p50_ms) << "  p90 " << FormatMs(r.latency.p90_ms) << "  p99 "
      << FormatMs(r.latency.p99_ms) << "  mean " << FormatMs(r.latency.mean_ms) << "  min "
      << FormatMs(r.latency.min_ms) << "  max " << FormatMs(r.latency.max_ms) << "\n";
  out << "throughput: " << Fixed(r.throughput_ips, 1) << " inferences/s\n";
  out << "peak rss: " << Fixed(r.peak_rss_mb, 1) << " MB\n";
}

std::string ReportJson(const BenchArgs& args, const BenchReport& r) {
  nlohmann::ordered_json j;
  j["model"] = args.model;
  j["p50_ms"] = r.latency.p50_ms;
  j["p90_ms"] = r.latency.p90_ms;
  j["p99_ms"] = r.latency.p99_ms;
  j["mean_ms"] = r.latency.mean_ms;
  j["min_ms"] = r.latency.min_ms;
  j["max_ms"] = r.latency.max_ms;
  j["throughput_ips"] = r.throughput_ips;
  j["load_ms"] = r.load_ms;
  j["peak_rss_mb"] = r.peak_rss_mb;
  j["threads"] = r.threads;
  j["batch"] = args.batch;
  j["runs"] = r.latency.runs;
  j["warmup"] = args.warmup;
  j["opt_level"] = args.opt_level;
  j["batch_split"] = args.batch_split;
  j["memory_layout"] = args.memory_layout;
  return j.dump();
}

Status Bench(const BenchArgs& args, std::ostream& out) {
  EngineOptions options;
  options.threads = args.threads;
  options.profile = args.profile;
  options.optimization_level = args.opt_level;
  options.batch_split = args.batch_split;
  options.memory_layout = args.memory_layout;
  EdgeAIEngine engine(options);
  BenchReport report;
  EDGEAI_RETURN_IF_ERROR(LoadModelTimed(args.model, &engine, &report.load_ms));
  out << "model: " << args.model << "\n";
  bool batched = false;
  EDGEAI_ASSIGN_OR_RETURN(NamedTensors inputs, GenerateInputs(engine, args, &batched, out));
  if (args.batch != 1 && !batched) {
    // Reporting batch B for a model that ran at another batch would inflate its throughput.
    return InvalidArgument("--batch " + std::to_string(args.batch) +
                           " applies to no input: none has a batch-like symbolic dim "
                           "(inputs given by --shape keep that shape)");
  }
  EDGEAI_ASSIGN_OR_RETURN(std::vector<double> run_ms, MeasureRuns(engine, inputs, args));
  report.latency = SummarizeLatencies(std::move(run_ms));
  report.throughput_ips = Throughput(args.batch, report.latency.runs, report.latency.total_ms);
  report.peak_rss_mb = PeakRssMb();
  // The engine's pool resolves 0 the same way (one per hardware thread the process may use).
  report.threads = args.threads > 0 ? args.threads : ThreadPool(0).threads();
  PrintReport(args, report, out);
  out << "batch split: " << engine.model_info().batch_split << "\n";
  if (args.profile) {
    PrintProfile(SummarizeProfile(engine.OpTimings(), report.latency.runs, args.top_nodes), report.latency.runs, out);
  }
  if (args.json) out << ReportJson(args, report) << "\n";
  return Status::Ok();
}

}  // namespace

Result<BenchArgs> ParseBenchArgs(const std::vector<std::string>& args) {
  BenchArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string flag = FlagName(arg);
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
    } else if (arg == "--json") {
      parsed.json = true;
    } else if (arg == "--profile") {
      parsed.profile = true;
    } else if (IsValueFlag(flag)) {
      EDGEAI_ASSIGN_OR_RETURN(std::string value, FlagValue(args, &i, flag));
      EDGEAI_RETURN_IF_ERROR(ParseValueFlag(flag, value, &parsed));
    } else {
      EDGEAI_RETURN_IF_ERROR(SetModelArg(arg, "bench", &parsed.model));
    }
  }
  if (parsed.model.empty() && !parsed.help) return InvalidArgument("'bench' needs a model file");
  return parsed;
}

int BenchCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return RunParsedCommand(ParseBenchArgs(args), kBenchUsage, Bench, out, err);
}

}  // namespace edgeai::tools
