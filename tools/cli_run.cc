// `edgeai run`: load a model, feed it inputs from .npy files or generated ones, run it once and summarise (and
// optionally save) its outputs with the load and run times.
#include <chrono>
#include <filesystem>
#include <random>
#include <set>

#include "tools/cli.h"
#include "tools/cli_common.h"
#include "tools/npy.h"

namespace edgeai::tools {
namespace {

using Clock = std::chrono::steady_clock;

Status AddInputFlag(const std::string& value, RunArgs* parsed) {
  EDGEAI_ASSIGN_OR_RETURN(auto name_file, SplitNameValue(value, "--input"));
  if (name_file.second.empty()) return InvalidArgument("--input " + value + " has no file name");
  for (const auto& [name, file] : parsed->inputs) {
    if (name == name_file.first) return InvalidArgument("--input given twice for '" + name + "'");
  }
  parsed->inputs.push_back(std::move(name_file));
  return Status::Ok();
}

// Unknown names in --input / --shape are errors that list the model's inputs.
Status CheckInputNames(const RunArgs& args, const std::vector<TensorInfo>& infos) {
  std::set<std::string> known;
  std::string list;
  for (const TensorInfo& info : infos) {
    known.insert(info.name);
    list += (list.empty() ? "'" : ", '") + info.name + "'";
  }
  auto check = [&](const std::string& name, const char* flag) -> Status {
    if (known.count(name)) return Status::Ok();
    return InvalidArgument(std::string(flag) + " names '" + name + "' but the model's inputs are: " +
                           (list.empty() ? "(none)" : list));
  };
  for (const auto& [name, file] : args.inputs) EDGEAI_RETURN_IF_ERROR(check(name, "--input"));
  for (const auto& [name, dims] : args.shapes) EDGEAI_RETURN_IF_ERROR(check(name, "--shape"));
  return Status::Ok();
}

// One input from its .npy file, checked against the declaration and any --shape given for it.
Result<Tensor> ReadInput(const TensorInfo& info, const std::string& path, const RunArgs& args) {
  EDGEAI_ASSIGN_OR_RETURN(Tensor tensor, ReadNpy(path));
  EDGEAI_RETURN_IF_ERROR(CheckInputMatches(info, tensor, "'" + path + "'"));
  auto shape = args.shapes.find(info.name);
  if (shape != args.shapes.end() && Shape(shape->second) != tensor.shape()) {
    return InvalidArgument("input '" + info.name + "': --shape " + Shape(shape->second).ToString() +
                           " disagrees with '" + path + "', which holds " + tensor.Describe());
  }
  return tensor;
}

// Every model input, from files or generated in declaration order from one seeded generator.
Result<NamedTensors> PrepareInputs(const EdgeAIEngine& engine, const RunArgs& args, std::ostream& out) {
  EDGEAI_RETURN_IF_ERROR(CheckInputNames(args, engine.inputs()));
  std::map<std::string, std::string> files(args.inputs.begin(), args.inputs.end());
  std::mt19937 rng(kInputSeed);
  NamedTensors inputs;
  out << "inputs:\n";
  for (const TensorInfo& info : engine.inputs()) {
    Tensor tensor;
    std::string origin;
    auto file = files.find(info.name);
    if (file != files.end()) {
      EDGEAI_ASSIGN_OR_RETURN(tensor, ReadInput(info, file->second, args));
      origin = "from " + file->second;
    } else {
      bool batched = false;  // batch-like dims take 1, as ResolveInputShape gives them
      EDGEAI_ASSIGN_OR_RETURN(Shape shape, GeneratedInputShape(info, args.shapes, 1, &batched));
      EDGEAI_ASSIGN_OR_RETURN(tensor, GenerateInput(info.dtype, shape, &rng));
      bool floating = info.dtype == DataType::kFloat32 || info.dtype == DataType::kFloat64 ||
                      info.dtype == DataType::kFloat16;
      origin = floating ? "generated: standard normal, seed " + std::to_string(kInputSeed)
                        : info.dtype == DataType::kBool ? "generated: all false" : "generated: zeros";
    }
    out << "  " << info.name << ": " << tensor.Describe() << "  (" << origin << ")\n";
    inputs.emplace(info.name, std::move(tensor));
  }
  return inputs;
}

// The outputs in the model's declared order, then any others the engine returned.
std::vector<std::string> OutputOrder(const EdgeAIEngine& engine, const NamedTensors& results) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const TensorInfo& info : engine.outputs()) {
    if (results.count(info.name) && seen.insert(info.name).second) order.push_back(info.name);
  }
  for (const auto& [name, tensor] : results) {
    if (seen.insert(name).second) order.push_back(name);
  }
  return order;
}

Status WriteOutputs(const std::string& dir, const std::vector<std::string>& order, const NamedTensors& results,
                    std::ostream& out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgument("cannot create output folder '" + dir + "': " + ec.message());
  std::vector<std::string> files = OutputFileNames(order);
  for (size_t i = 0; i < order.size(); ++i) {
    std::string path = (std::filesystem::path(dir) / files[i]).string();
    EDGEAI_RETURN_IF_ERROR(WriteNpy(path, results.at(order[i])));
    out << "wrote " << path << "\n";
  }
  return Status::Ok();
}

Status RunModel(const RunArgs& args, std::ostream& out) {
  EngineOptions options;
  options.threads = args.threads;
  options.optimization_level = args.opt_level;
  EdgeAIEngine engine(options);
  double load_ms = 0;
  EDGEAI_RETURN_IF_ERROR(LoadModelTimed(args.model, &engine, &load_ms));
  out << "model: " << args.model << "\n";
  EDGEAI_ASSIGN_OR_RETURN(NamedTensors inputs, PrepareInputs(engine, args, out));

  Clock::time_point start = Clock::now();
  Result<NamedTensors> results = engine.Run(inputs);
  double run_ms = MsSince(start);
  if (!results.ok()) return results.status();

  std::vector<std::string> order = OutputOrder(engine, *results);
  out << "outputs:\n";
  for (const std::string& name : order) PrintOutputSummary(name, results->at(name), out);
  if (!args.output_dir.empty()) EDGEAI_RETURN_IF_ERROR(WriteOutputs(args.output_dir, order, *results, out));
  out << "load: " << FormatMs(load_ms) << " ms\n";
  out << "latency: " << FormatMs(run_ms) << " ms (one Run call, threads "
      << (args.threads == 0 ? std::string("auto") : std::to_string(args.threads)) << ")\n";
  return Status::Ok();
}

}  // namespace

Result<RunArgs> ParseRunArgs(const std::vector<std::string>& args) {
  RunArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string flag = FlagName(arg);
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
    } else if (flag == "--input") {
      EDGEAI_ASSIGN_OR_RETURN(std::string value, FlagValue(args, &i, flag));
      EDGEAI_RETURN_IF_ERROR(AddInputFlag(value, &parsed));
    } else if (flag == "--shape") {
      EDGEAI_ASSIGN_OR_RETURN(std::string value, FlagValue(args, &i, flag));
      EDGEAI_RETURN_IF_ERROR(AddShapeFlag(value, &parsed.shapes));
    } else if (flag == "--output-dir") {
      EDGEAI_ASSIGN_OR_RETURN(parsed.output_dir, FlagValue(args, &i, flag));
      if (parsed.output_dir.empty()) return InvalidArgument("--output-dir needs a folder name");
    } else if (flag == "--threads") {
      EDGEAI_ASSIGN_OR_RETURN(std::string value, FlagValue(args, &i, flag));
      EDGEAI_ASSIGN_OR_RETURN(int64_t threads, ParseCount(value, "--threads", 1024));
      parsed.threads = static_cast<int>(threads);
    } else if (flag == "--opt-level") {
      EDGEAI_ASSIGN_OR_RETURN(std::string value, FlagValue(args, &i, flag));
      EDGEAI_ASSIGN_OR_RETURN(parsed.opt_level, ParseOptLevelFlag(value));
    } else {
      EDGEAI_RETURN_IF_ERROR(SetModelArg(arg, "run", &parsed.model));
    }
  }
  if (parsed.model.empty() && !parsed.help) return InvalidArgument("'run' needs a model file");
  return parsed;
}

Result<std::string> ParseOptLevelFlag(const std::string& value) {
  if (value == "none" || value == "basic" || value == "all") return value;
  return InvalidArgument("--opt-level must be none, basic or all, got '" + value + "'");
}

Status LoadModelTimed(const std::string& path, EdgeAIEngine* engine, double* load_ms) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("model file '" + path + "' does not exist");
  if (std::filesystem::is_directory(path, ec)) return InvalidArgument("model path '" + path + "' is a folder");
  Clock::time_point start = Clock::now();
  Status status = engine->LoadModel(path);
  *load_ms = MsSince(start);
  return status;
}

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return RunParsedCommand(ParseRunArgs(args), kRunUsage, RunModel, out, err);
}

}  // namespace edgeai::tools
