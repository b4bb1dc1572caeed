// The arithmetic of `edgeai bench`: latency percentiles, throughput and the per-op profile summary. Pure
// functions over recorded numbers, so they are unit-tested without running a model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeai/engine.h"
#include "edgeai/status.h"

namespace edgeai::tools {

// The p-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank rule: the smallest sample with
// at least p% of the samples at or below it, sorted[ceil(p/100 * n) - 1]. No interpolation, so every reported
// latency is one that was measured; shared/bench/ort_bench.js uses the same rule, so p50s compare like for
// like. 0 for an empty vector.
double Percentile(const std::vector<double>& sorted, double p);

struct LatencyStats {
  int64_t runs = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  double total_ms = 0;  // the sum of the run times
};
// Summary of per-run wall times in milliseconds (any order). All zeros for no runs.
LatencyStats SummarizeLatencies(std::vector<double> run_ms);

// Inferences per second: batch * runs over the total measured time; 0 when no time was measured.
double Throughput(int64_t batch, int64_t runs, double total_ms);

struct OpTypeProfile {
  std::string op_type;
  double ms_per_run = 0;
  double share = 0;  // percent of the time of all nodes
  int64_t nodes = 0;
};
struct NodeProfile {
  std::string node;
  std::string op_type;
  double ms_per_run = 0;
  double share = 0;  // percent
};
struct ProfileSummary {
  double total_ms_per_run = 0;        // all nodes together
  std::vector<OpTypeProfile> by_type;  // every op type, slowest first (ties by name)
  std::vector<NodeProfile> top_nodes;  // the `top` slowest nodes, slowest first (ties keep execution order)
};
// Per-op-type and per-node time per run from node timings accumulated over `runs` runs.
ProfileSummary SummarizeProfile(const std::vector<OpTiming>& timings, int64_t runs, size_t top);

// A non-negative decimal number of seconds ("2", "0.5", "1e-3") of at most `max`.
Result<double> ParseSeconds(const std::string& text, const std::string& flag, double max);

}  // namespace edgeai::tools
