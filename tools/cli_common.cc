#include "tools/cli_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace edgeai::tools {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string DimLabel(const TensorInfo& info, size_t index) {
  std::string label = "dim " + std::to_string(index);
  if (index < info.dims.size() && !info.dims[index].symbol.empty()) {
    label += " ('" + info.dims[index].symbol + "')";
  }
  return label;
}

// Calls `fn(double)` on every element of a numeric tensor, in order.
template <typename Fn>
void ForEachValue(const Tensor& t, Fn&& fn) {
  int64_t n = t.NumElements();
  auto each = [&](const auto* data) {
    for (int64_t i = 0; i < n; ++i) fn(static_cast<double>(data[i]));
  };
  switch (t.dtype()) {
    case DataType::kFloat32: each(t.data<float>()); break;
    case DataType::kFloat64: each(t.data<double>()); break;
    case DataType::kInt8: each(t.data<int8_t>()); break;
    case DataType::kUint8: each(t.data<uint8_t>()); break;
    case DataType::kInt16: each(t.data<int16_t>()); break;
    case DataType::kUint16: each(t.data<uint16_t>()); break;
    case DataType::kInt32: each(t.data<int32_t>()); break;
    case DataType::kUint32: each(t.data<uint32_t>()); break;
    case DataType::kInt64: each(t.data<int64_t>()); break;
    case DataType::kUint64: each(t.data<uint64_t>()); break;
    case DataType::kFloat16: {
      const auto* bits = t.data<uint16_t>();
      for (int64_t i = 0; i < n; ++i) fn(static_cast<double>(HalfToFloat(bits[i])));
      break;
    }
    default: break;
  }
}

std::string FormatValue(double value) {
  std::ostringstream s;
  s.precision(6);
  s << value;
  return s.str();
}

}  // namespace

Result<std::pair<std::string, std::string>> SplitNameValue(const std::string& text, const std::string& flag) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument(flag + " expects NAME=VALUE, got '" + text + "'");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Result<std::vector<int64_t>> ParseDims(const std::string& text) {
  std::vector<int64_t> dims;
  if (text.empty()) return dims;
  size_t start = 0;
  while (true) {
    size_t end = text.find_first_of("x,", start);
    std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EDGEAI_ASSIGN_OR_RETURN(int64_t dim, ParseCount(part, "a dim of '" + text + "'", int64_t{1} << 40));
    dims.push_back(dim);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return dims;
}

Result<int64_t> ParseCount(const std::string& text, const std::string& flag, int64_t max) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument(flag + " expects a non-negative integer, got '" + text + "'");
  }
  int64_t value = std::stoll(text);
  if (value > max) return InvalidArgument(flag + " must be at most " + std::to_string(max) + ", got " + text);
  return value;
}

std::string FlagName(const std::string& arg) { return arg.substr(0, arg.find('=')); }

Result<std::string> FlagValue(const std::vector<std::string>& args, size_t* i, const std::string& flag) {
  const std::string& arg = args[*i];
  if (arg.size() > flag.size() && arg[flag.size()] == '=') return arg.substr(flag.size() + 1);
  if (*i + 1 >= args.size()) return InvalidArgument(flag + " needs a value");
  return args[++*i];
}

Status AddShapeFlag(const std::string& value, std::map<std::string, std::vector<int64_t>>* shapes) {
  EDGEAI_ASSIGN_OR_RETURN(auto name_dims, SplitNameValue(value, "--shape"));
  EDGEAI_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ParseDims(name_dims.second));
  if (!shapes->emplace(name_dims.first, std::move(dims)).second) {
    return InvalidArgument("--shape given twice for '" + name_dims.first + "'");
  }
  return Status::Ok();
}

Status SetModelArg(const std::string& arg, const std::string& command, std::string* model) {
  if (!arg.empty() && arg[0] == '-') return InvalidArgument("unknown option '" + arg + "' for '" + command + "'");
  if (!model->empty()) {
    return InvalidArgument("unexpected argument '" + arg + "' (the model is '" + *model + "')");
  }
  if (arg.empty()) return InvalidArgument("the model path is empty");
  *model = arg;
  return Status::Ok();
}

bool IsBatchSymbol(const std::string& symbol) {
  std::string lower = Lower(symbol);
  return lower == "n" || lower == "batch" || lower == "batch_size" || lower.find("batch") != std::string::npos;
}

Result<Shape> ResolveInputShape(const TensorInfo& info, const std::vector<int64_t>* override_dims) {
  const std::string where = "input '" + info.name + "'";
  if (override_dims != nullptr) {
    if (info.rank_known && override_dims->size() != info.dims.size()) {
      return InvalidArgument(where + " has rank " + std::to_string(info.dims.size()) + " (" + info.Describe() +
                             ") but --shape gives " + std::to_string(override_dims->size()) + " dims");
    }
    for (size_t i = 0; info.rank_known && i < info.dims.size(); ++i) {
      if (info.dims[i].value >= 0 && info.dims[i].value != (*override_dims)[i]) {
        return InvalidArgument(where + ": --shape gives " + DimLabel(info, i) + " = " +
                               std::to_string((*override_dims)[i]) + " but the model fixes it at " +
                               std::to_string(info.dims[i].value));
      }
    }
    return Shape(*override_dims);
  }
  if (!info.rank_known) {
    return InvalidArgument(where + " has an unknown rank; give its shape with --shape " + info.name + "=AxBxC");
  }
  Shape shape;
  for (size_t i = 0; i < info.dims.size(); ++i) {
    const Dim& dim = info.dims[i];
    if (dim.value >= 0) {
      shape.push_back(dim.value);
    } else if (!dim.symbol.empty() && IsBatchSymbol(dim.symbol)) {
      shape.push_back(1);
    } else {
      return InvalidArgument(where + " (" + info.Describe() + ") has " +
                             (dim.symbol.empty() ? "an unknown " : "a symbolic ") + DimLabel(info, i) +
                             "; give its shape with --shape " + info.name + "=AxBxC");
    }
  }
  return shape;
}

Result<Shape> GeneratedInputShape(const TensorInfo& info, const std::map<std::string, std::vector<int64_t>>& shapes,
                                  int64_t batch, bool* batched) {
  auto dims = shapes.find(info.name);
  bool given = dims != shapes.end();
  EDGEAI_ASSIGN_OR_RETURN(Shape shape, ResolveInputShape(info, given ? &dims->second : nullptr));
  for (size_t i = 0; !given && i < info.dims.size(); ++i) {
    if (info.dims[i].value < 0 && IsBatchSymbol(info.dims[i].symbol)) {
      shape[i] = batch;
      *batched = true;
    }
  }
  return shape;
}

Result<Tensor> GenerateInput(DataType dtype, const Shape& shape, std::mt19937* rng) {
  if (dtype == DataType::kString || DataTypeSize(dtype) == 0) {
    return Unimplemented("cannot generate an input of dtype " + std::string(DataTypeName(dtype)) +
                         "; pass it with --input NAME=FILE.npy");
  }
  EDGEAI_ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(dtype, shape));  // zeros / false already
  int64_t n = tensor.NumElements();
  if (dtype == DataType::kFloat32) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    float* data = tensor.data<float>();
    for (int64_t i = 0; i < n; ++i) data[i] = normal(*rng);
  } else if (dtype == DataType::kFloat64) {
    std::normal_distribution<double> normal(0.0, 1.0);
    double* data = tensor.data<double>();
    for (int64_t i = 0; i < n; ++i) data[i] = normal(*rng);
  } else if (dtype == DataType::kFloat16) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    uint16_t* data = tensor.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i) data[i] = FloatToHalf(normal(*rng));
  }
  return tensor;
}

Status CheckInputMatches(const TensorInfo& info, const Tensor& tensor, const std::string& source) {
  auto mismatch = [&](const std::string& what) {
    return InvalidArgument("input '" + info.name + "' expects " + info.Describe() + " but " + source +
                           " holds " + tensor.Describe() + " (" + what + ")");
  };
  if (tensor.dtype() != info.dtype) return mismatch("different dtype");
  if (!info.rank_known) return Status::Ok();
  if (tensor.rank() != info.dims.size()) return mismatch("different rank");
  for (size_t i = 0; i < info.dims.size(); ++i) {
    if (info.dims[i].value >= 0 && info.dims[i].value != tensor.shape()[i]) {
      return mismatch(DimLabel(info, i) + " differs");
    }
  }
  return Status::Ok();
}

std::string SanitizeFileName(const std::string& name) {
  if (name.empty()) return "_";
  std::string out = name;
  for (char& c : out) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return out;
}

std::vector<std::string> OutputFileNames(const std::vector<std::string>& names) {
  std::vector<std::string> files;
  std::set<std::string> used;
  for (const std::string& name : names) {
    std::string base = SanitizeFileName(name);
    std::string file = base + ".npy";
    for (int suffix = 1; used.count(file) > 0; ++suffix) file = base + "_" + std::to_string(suffix) + ".npy";
    used.insert(file);
    files.push_back(file);
  }
  return files;
}

bool IsNumeric(DataType dtype) {
  return dtype != DataType::kBool && dtype != DataType::kString && dtype != DataType::kUndefined &&
         dtype != DataType::kBFloat16 && DataTypeSize(dtype) > 0;
}

TensorStats ComputeStats(const Tensor& tensor) {
  TensorStats stats;
  double sum = 0;
  stats.min = std::numeric_limits<double>::infinity();
  stats.max = -std::numeric_limits<double>::infinity();
  ForEachValue(tensor, [&](double v) {
    if (std::isnan(v)) {
      ++stats.nan_count;
      return;
    }
    ++stats.count;
    stats.min = std::min(stats.min, v);
    stats.max = std::max(stats.max, v);
    sum += v;
  });
  if (stats.count == 0) {
    stats.min = stats.max = 0;
  } else {
    stats.mean = sum / static_cast<double>(stats.count);
  }
  return stats;
}

std::vector<std::pair<int64_t, double>> TopK(const Tensor& tensor, int64_t row, int k) {
  std::vector<std::pair<int64_t, double>> values;
  if (tensor.rank() != 2 || row < 0 || row >= tensor.shape()[0] || !IsNumeric(tensor.dtype())) return values;
  int64_t cols = tensor.shape()[1];
  int64_t begin = row * cols;
  int64_t index = 0;
  ForEachValue(tensor, [&](double v) {
    if (index >= begin && index < begin + cols) values.emplace_back(index - begin, v);
    ++index;
  });
  auto higher = [](const std::pair<int64_t, double>& a, const std::pair<int64_t, double>& b) {
    bool a_nan = std::isnan(a.second);
    bool b_nan = std::isnan(b.second);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.second != b.second) return a.second > b.second;
    return a.first < b.first;
  };
  size_t keep = std::min(values.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(keep), values.end(), higher);
  values.resize(keep);
  return values;
}

void PrintOutputSummary(const std::string& name, const Tensor& tensor, std::ostream& out) {
  out << "  " << name << ": " << tensor.Describe();
  if (tensor.NumElements() == 0) {
    out << "  (no elements)\n";
    return;
  }
  if (tensor.dtype() == DataType::kBool) {
    const auto* data = tensor.data<bool>();
    int64_t trues = std::count(data, data + tensor.NumElements(), true);
    out << "  true=" << trues << " of " << tensor.NumElements() << "\n";
    return;
  }
  if (!IsNumeric(tensor.dtype())) {
    out << "\n";
    return;
  }
  TensorStats stats = ComputeStats(tensor);
  if (stats.count > 0) {
    out << "  min=" << FormatValue(stats.min) << " max=" << FormatValue(stats.max)
        << " mean=" << FormatValue(stats.mean);
  }
  if (stats.nan_count > 0) out << "  nan=" << stats.nan_count;
  out << "\n";
  if (tensor.rank() == 2 && tensor.shape()[1] == 1000 && tensor.shape()[0] >= 1) {
    out << "    top-5 of row 0:";
    for (const auto& [index, value] : TopK(tensor, 0, 5)) out << "  " << index << " (" << FormatValue(value) << ")";
    out << "\n";
  }
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string FormatMs(double ms) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, ms < 10 ? "%.3f" : ms < 1000 ? "%.2f" : "%.1f", ms);
  return buffer;
}

std::string OneLine(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n') {
      if (i + 1 < text.size()) out += "; ";
    } else {
      out += text[i];
    }
  }
  return out;
}

void PrintError(const Status& status, std::ostream& err) {
  err << "edgeai: error: " << OneLine(status.ToString()) << "\n";
}

}  // namespace edgeai::tools
