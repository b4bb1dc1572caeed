// `edgeai info` and `edgeai devices`, and the usage texts shared by every command.
#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdio>
#include <random>

#include "backend/thread_pool.h"
#include "hardware/cpu_info.h"
#include "tools/cli.h"
#include "tools/cli_common.h"

namespace edgeai::tools {

const char kRunUsage[] =
    "usage: edgeai run MODEL.onnx [--input NAME=FILE.npy ...] [--output-dir DIR] [--threads N] "
    "[--shape NAME=AxBxC ...] [--opt-level none|basic|all]";
const char kInfoUsage[] = "usage: edgeai info MODEL.onnx [--optimized] [--opt-level none|basic|all]";
const char kDevicesUsage[] = "usage: edgeai devices";
const char kMainUsage[] = "usage: edgeai {run,bench,info,devices,ops,conformance,help} ...  (edgeai help for details)";

std::string HelpText() {
  return std::string(
             "edgeai: run ONNX models on this machine\n"
             "\n"
             "  edgeai run MODEL.onnx [options]   run the model once and summarise its outputs\n"
             "      --input NAME=FILE.npy         feed input NAME from a .npy file (dtype must match the model);\n"
             "                                    inputs not given are generated: standard normal floats\n"
             "                                    (seed 42), zero integers, false bools\n"
             "      --shape NAME=AxBxC            shape of a generated input (needed for symbolic dims other\n"
             "                                    than a batch dim, which defaults to 1)\n"
             "      --output-dir DIR              write each output to DIR/NAME.npy\n"
             "      --threads N                   intra-op threads (0, the default: one per core)\n"
             "      --opt-level L                 graph optimisations: none, basic (folding, Identity/Dropout\n"
             "                                    removal, dead code) or all (basic + fusions; the default)\n"
             "  edgeai bench MODEL.onnx [options] time repeated runs on generated inputs: p50/p90/p99 latency,\n"
             "                                    throughput, load time, peak RSS\n"
             "      --threads N                   intra-op threads (0, the default: one per core)\n"
             "      --batch B                     size of batch-like symbolic dims (default 1)\n"
             "      --shape NAME=AxBxC            shape of an input with other symbolic dims\n"
             "      --warmup W                    untimed runs first (default 5)\n"
             "      --min-runs R --min-time S     time at least R runs and S seconds (defaults 20, 2.0)\n"
             "      --json                        end with one JSON line: p50_ms, p90_ms, p99_ms, throughput_ips,\n"
             "                                    load_ms, peak_rss_mb, threads, batch, runs, model\n"
             "      --profile                     time every node: per-op-type table and the 10 slowest nodes\n"
             "      --opt-level L                 graph optimisations (as for run; default all)\n"
             "      --batch-split M               auto (image by image where it pays), off, always\n"
             "      --memory-layout M             at 2+ threads: auto (no reused bytes while the threads share\n"
             "                                    no cache), reuse, spread\n"
             "  edgeai info MODEL.onnx            producer, opsets, inputs, outputs, operator counts and the\n"
             "                                    memory plan of a batch-1 run (arena vs sum of intermediates)\n"
             "      --optimized                   also the operator counts after the graph optimisations and\n"
             "                                    the optimised graph's nodes (op 'name': inputs -> outputs)\n"
             "      --opt-level L                 the optimisations to apply (default all)\n"
             "  edgeai devices                    the CPU, its cores, ISA features, caches, thread hand-off\n"
             "  edgeai ops                        the supported operators: opset ranges and dtypes (markdown)\n"
             "  edgeai conformance DIR [options]  run the ONNX backend node suite in DIR (see docs/conformance.md)\n"
             "  edgeai help                       this text\n"
             "\n"
             "Exit status: 0 success, 1 error, 2 bad command line.\n");
}

int UsageError(const std::string& message, const char* usage, std::ostream& err) {
  PrintError(InvalidArgument(message), err);
  err << usage << "\n";
  return kExitUsage;
}

namespace {

std::string DomainName(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

void PrintInfo(const std::string& path, const EdgeAIEngine& engine, std::ostream& out) {
  const ModelInfo& info = engine.model_info();
  out << "model: " << path << "\n";
  out << "producer: " << (info.producer.empty() ? "(none)" : info.producer) << "\n";
  out << "ir_version: " << info.ir_version << "\n";
  out << "opsets:";
  for (const auto& [domain, version] : info.opsets) out << " " << DomainName(domain) << "=" << version;
  out << "\n";
  out << "inputs:\n";
  for (const TensorInfo& input : engine.inputs()) out << "  " << input.name << ": " << input.Describe() << "\n";
  out << "outputs:\n";
  for (const TensorInfo& output : engine.outputs()) {
    out << "  " << output.name << ": " << output.Describe() << "\n";
  }
  std::vector<std::pair<std::string, int>> ops(info.op_counts.begin(), info.op_counts.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out << "nodes: " << info.node_count << "\n";
  out << "ops:\n";
  for (const auto& [op, count] : ops) out << "  " << op << " " << count << "\n";
  out << "batch split: " << info.batch_split << "\n";
}

// The graph as it runs: op counts after the passes, then every node in execution order.
void PrintOptimized(const EdgeAIEngine& engine, const std::string& level, std::ostream& out) {
  const ModelInfo& info = engine.model_info();
  std::vector<std::pair<std::string, int>> ops(info.optimized_op_counts.begin(), info.optimized_op_counts.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out << "optimized (level " << level << "): " << info.optimized_node_count << " nodes";
  if (info.op_counts.count("Constant")) {
    out << " (imported: " << info.node_count << " nodes after " << info.op_counts.at("Constant")
        << " Constant nodes became constants)";
  }
  out << "\n";
  if (!info.optimization_error.empty()) out << "optimization abandoned: " << info.optimization_error << "\n";
  out << "optimized ops:\n";
  for (const auto& [op, count] : ops) out << "  " << op << " " << count << "\n";
  out << "optimized graph:\n";
  for (const std::string& line : engine.DescribeNodes()) out << "  " << line << "\n";
}

// The memory plan is made on the first run, so info runs the model once on generated inputs (batch-like dims
// set to 1) to report it; a model whose other symbolic dims need --shape reports why it has no plan.
void PrintMemoryPlan(const EdgeAIEngine& engine, std::ostream& out) {
  NamedTensors inputs;
  std::mt19937 rng(kInputSeed);
  for (const TensorInfo& input : engine.inputs()) {
    Result<Shape> shape = ResolveInputShape(input, nullptr);
    Result<Tensor> tensor = shape.ok() ? GenerateInput(input.dtype, *shape, &rng) : Result<Tensor>(shape.status());
    if (!tensor.ok()) {
      out << "memory: no plan (input '" << input.name << "' needs a concrete shape; see edgeai run --shape)\n";
      return;
    }
    inputs[input.name] = std::move(tensor).value();
  }
  Status ran = engine.Run(inputs).status();
  if (!ran.ok()) {
    out << "memory: no plan (" << OneLine(ran.ToString()) << ")\n";
    return;
  }
  EdgeAIEngine::MemoryInfo memory = engine.memory_info();
  char line[200];
  double saved = memory.intermediate_bytes > 0
                     ? 100.0 * (1.0 - double(memory.planned_bytes) / double(memory.intermediate_bytes))
                     : 0.0;
  std::snprintf(line, sizeof line,
                "memory: %lld intermediate tensors, %.2f MiB in all, planned into a %.2f MiB arena (%.0f%% saved)",
                static_cast<long long>(memory.tensors), memory.intermediate_bytes / 1048576.0,
                memory.planned_bytes / 1048576.0, saved);
  out << line << " at batch 1\n";
}

std::string FormatBytes(size_t bytes) {
  if (bytes == 0) return "?";
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  return std::to_string(bytes / 1024) + " KiB";
}

}  // namespace

int InfoCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string model;
  bool optimized = false;
  std::string level = "all";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out << kInfoUsage << "\n";
      return kExitOk;
    }
    if (arg == "--optimized") {
      optimized = true;
      continue;
    }
    if (arg == "--opt-level" || arg.rfind("--opt-level=", 0) == 0) {
      std::string value = arg.size() > 11 ? arg.substr(12) : (i + 1 < args.size() ? args[++i] : "");
      Result<std::string> parsed = ParseOptLevelFlag(value);
      if (!parsed.ok()) return UsageError(parsed.status().message(), kInfoUsage, err);
      level = *parsed;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') return UsageError("unknown option '" + arg + "' for 'info'", kInfoUsage, err);
    if (!model.empty()) return UsageError("unexpected argument '" + arg + "'", kInfoUsage, err);
    if (arg.empty()) return UsageError("the model path is empty", kInfoUsage, err);
    model = arg;
  }
  if (model.empty()) return UsageError("'info' needs a model file", kInfoUsage, err);
  EngineOptions options;
  options.optimization_level = level;
  EdgeAIEngine engine(options);
  double load_ms = 0;
  Status status = LoadModelTimed(model, &engine, &load_ms);
  if (!status.ok()) {
    PrintError(status, err);
    return kExitError;
  }
  PrintInfo(model, engine, out);
  if (optimized) PrintOptimized(engine, level, out);
  PrintMemoryPlan(engine, out);
  return kExitOk;
}

int DevicesCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kDevicesUsage << "\n";
      return kExitOk;
    }
    return UsageError("'devices' takes no arguments, got '" + arg + "'", kDevicesUsage, err);
  }
  const CpuInfo& cpu = GetCpuInfo();
  std::string features = cpu.FeatureString();
  out << "cpu: " << (cpu.model_name.empty() ? "(unknown model)" : cpu.model_name);
  if (!cpu.vendor.empty()) out << " (" << cpu.vendor << ")";
  out << "\n";
  out << "logical cores: " << cpu.logical_cores << "\n";
  out << "isa: " << (features.empty() ? "(baseline only)" : features) << "\n";
  out << "caches: L1d " << FormatBytes(cpu.l1d_bytes) << ", L2 " << FormatBytes(cpu.l2_bytes) << ", L3 "
      << FormatBytes(cpu.l3_bytes) << "\n";
  if (cpu.logical_cores > 1) {
    // What the engine's pool measures to pick its memory layout (ThreadPool::ThreadsShareCache).
    ThreadPool pool(2);
    double one_way = -1.0;
    // The pool's worker thread starts, or wakes, as Execute begins: give it a few milliseconds to join.
    for (int attempt = 0; attempt < 5 && one_way < 0; ++attempt) {
      pool.Execute([&] {
        const auto joined = std::chrono::steady_clock::now() + std::chrono::milliseconds(2 << attempt);
        while (std::chrono::steady_clock::now() < joined) std::this_thread::yield();
        one_way = pool.MeasureHandOff();
      });
    }
    if (one_way < 0) {
      out << "thread hand-off: no answer from the second thread\n";
    } else {
      out << "thread hand-off: " << static_cast<int>(one_way + 0.5) << " ns one way ("
          << (one_way < ThreadPool::kSharedCacheNs ? "the threads share a cache" : "no shared cache") << ")\n";
    }
  }
  return kExitOk;
}

}  // namespace edgeai::tools
