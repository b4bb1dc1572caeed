// Pieces of the `edgeai` command line that do not need a loaded model: argument parsing, input shapes and
// generated inputs, output file names and output summaries. Each is a pure function, tested in-process.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "edgeai/engine.h"
#include "edgeai/tensor.h"

namespace edgeai::tools {

// Exit codes of the CLI.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the command ran and failed (bad model, bad input file, engine error)
constexpr int kExitUsage = 2;  // the command line itself is wrong

// The seed of generated inputs, so that two runs of the same model see the same data.
constexpr uint32_t kInputSeed = 42;

// "NAME=VALUE" split at the first '='; an error when there is no '=' or NAME is empty.
Result<std::pair<std::string, std::string>> SplitNameValue(const std::string& text, const std::string& flag);
// "1x3x224x224" (',' also separates); an empty string is a scalar. Dims must be non-negative integers.
Result<std::vector<int64_t>> ParseDims(const std::string& text);
// A non-negative decimal integer of at most `max`.
Result<int64_t> ParseCount(const std::string& text, const std::string& flag, int64_t max);

// The flag name of an argument ("--input" for "--input=x=y").
std::string FlagName(const std::string& arg);
// The value of a flag given as "--flag VALUE" or "--flag=VALUE"; advances `*i` past a separate value.
Result<std::string> FlagValue(const std::vector<std::string>& args, size_t* i, const std::string& flag);
// Records one "--shape NAME=AxBxC" in `shapes`; an error when NAME was given before.
Status AddShapeFlag(const std::string& value, std::map<std::string, std::vector<int64_t>>* shapes);
// The argument that is neither a known flag nor its value: the model path the first time (`*model` empty),
// otherwise an error; anything that starts with '-' is an unknown option of `command`.
Status SetModelArg(const std::string& arg, const std::string& command, std::string* model);

// True for symbols that name a batch dimension: "batch", "N", "batch_size" (any case) or containing "batch".
bool IsBatchSymbol(const std::string& symbol);

// The concrete shape to feed to a declared input: `override_dims` when given (it must agree with every fixed
// dim of the declaration), otherwise the declaration with batch-like symbols set to 1. Other symbolic or
// unknown dims, and an unknown rank, are errors that name the input and the dim and suggest --shape.
Result<Shape> ResolveInputShape(const TensorInfo& info, const std::vector<int64_t>* override_dims);

// The shape of an input to generate: ResolveInputShape with `shapes[info.name]` when given; otherwise its
// batch-like symbolic dims are set to `batch`, and `*batched` is set to true when any dim took it.
Result<Shape> GeneratedInputShape(const TensorInfo& info, const std::map<std::string, std::vector<int64_t>>& shapes,
                                  int64_t batch, bool* batched);

// A generated input: standard normal for floating point dtypes, zeros for integers, false for bool, drawn
// from `rng` in element order.
Result<Tensor> GenerateInput(DataType dtype, const Shape& shape, std::mt19937* rng);

// An error naming the input when `tensor` (read from `source`) does not match the declaration: a different
// dtype, rank or fixed dim.
Status CheckInputMatches(const TensorInfo& info, const Tensor& tensor, const std::string& source);

// `name` with every character outside [A-Za-z0-9._-] replaced by '_' ("_" for an empty name).
std::string SanitizeFileName(const std::string& name);
// One file name per output ("NAME.npy" sanitised), made unique by a numeric suffix when two names collide.
std::vector<std::string> OutputFileNames(const std::vector<std::string>& names);

struct TensorStats {
  int64_t count = 0;      // finite or infinite values, NaNs excluded
  int64_t nan_count = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
};
// Min, max and mean over the elements of a numeric tensor (NaNs are counted apart). Not for bool or string.
TensorStats ComputeStats(const Tensor& tensor);
bool IsNumeric(DataType dtype);

// The `k` highest values of row `row` of a rank-2 numeric tensor, as (index, value), highest first; ties go
// to the lower index. NaNs rank lowest.
std::vector<std::pair<int64_t, double>> TopK(const Tensor& tensor, int64_t row, int k);

// Prints the summary lines of one output: "name: dtype[shape]", stats, and top-5 for [N,1000] outputs.
void PrintOutputSummary(const std::string& name, const Tensor& tensor, std::ostream& out);

// Milliseconds of wall time since `start`.
double MsSince(std::chrono::steady_clock::time_point start);
// "12.345" milliseconds, at a precision that suits the magnitude.
std::string FormatMs(double ms);
// A message on one line: newlines become "; ".
std::string OneLine(const std::string& text);
// The one line every failure prints: "edgeai: error: <status>".
void PrintError(const Status& status, std::ostream& err);

}  // namespace edgeai::tools
