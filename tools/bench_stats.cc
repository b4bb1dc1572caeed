#include "tools/bench_stats.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>

namespace edgeai::tools {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  // The clamp covers p <= 0 and rounding just above n for p = 100.
  auto index = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size())));
  return sorted[index - 1];
}

LatencyStats SummarizeLatencies(std::vector<double> run_ms) {
  LatencyStats stats;
  if (run_ms.empty()) return stats;
  std::sort(run_ms.begin(), run_ms.end());
  stats.runs = static_cast<int64_t>(run_ms.size());
  stats.p50_ms = Percentile(run_ms, 50);
  stats.p90_ms = Percentile(run_ms, 90);
  stats.p99_ms = Percentile(run_ms, 99);
  stats.min_ms = run_ms.front();
  stats.max_ms = run_ms.back();
  stats.total_ms = std::accumulate(run_ms.begin(), run_ms.end(), 0.0);
  stats.mean_ms = stats.total_ms / static_cast<double>(stats.runs);
  return stats;
}

double Throughput(int64_t batch, int64_t runs, double total_ms) {
  if (!(total_ms > 0)) return 0;
  return static_cast<double>(batch) * static_cast<double>(runs) * 1000.0 / total_ms;
}

ProfileSummary SummarizeProfile(const std::vector<OpTiming>& timings, int64_t runs, size_t top) {
  ProfileSummary summary;
  double per_run = runs > 0 ? 1.0 / static_cast<double>(runs) : 0.0;
  double total_ms = 0;
  for (const OpTiming& t : timings) total_ms += t.total_ms;
  summary.total_ms_per_run = total_ms * per_run;
  auto share = [&](double ms) { return total_ms > 0 ? 100.0 * ms / total_ms : 0.0; };

  std::map<std::string, OpTypeProfile> types;
  for (const OpTiming& t : timings) {
    OpTypeProfile& type = types[t.op_type];
    type.op_type = t.op_type;
    type.ms_per_run += t.total_ms;  // summed in ms first, scaled below
    ++type.nodes;
  }
  for (auto& [name, type] : types) {
    type.share = share(type.ms_per_run);
    type.ms_per_run *= per_run;
    summary.by_type.push_back(type);
  }
  // std::map gave name order, so a stable sort leaves ties by name.
  std::stable_sort(summary.by_type.begin(), summary.by_type.end(),
                   [](const OpTypeProfile& a, const OpTypeProfile& b) { return a.ms_per_run > b.ms_per_run; });

  for (const OpTiming& t : timings) {
    summary.top_nodes.push_back(NodeProfile{t.node, t.op_type, t.total_ms * per_run, share(t.total_ms)});
  }
  std::stable_sort(summary.top_nodes.begin(), summary.top_nodes.end(),
                   [](const NodeProfile& a, const NodeProfile& b) { return a.ms_per_run > b.ms_per_run; });
  if (summary.top_nodes.size() > top) summary.top_nodes.resize(top);
  return summary;
}

Result<double> ParseSeconds(const std::string& text, const std::string& flag, double max) {
  auto bad = [&]() { return InvalidArgument(flag + " expects a non-negative number of seconds, got '" + text + "'"); };
  if (text.empty() || text.size() > 32 || text.find_first_not_of("0123456789.eE+-") != std::string::npos) {
    return bad();  // also keeps out "inf", "nan" and hex floats, which strtod would accept
  }
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value) || value < 0) return bad();
  if (value > max) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", max);
    return InvalidArgument(flag + " must be at most " + limit + ", got " + text);
  }
  return value;
}

}  // namespace edgeai::tools
