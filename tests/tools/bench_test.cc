#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/bench_stats.h"
#include "tools/cli.h"
#include "tools/cli_common.h"

using namespace edgeai;
using namespace edgeai::tools;
namespace fs = std::filesystem;

namespace {

const std::string kMlp = std::string(EDGEAI_TEST_DATA_DIR) + "/mlp.onnx";
const std::vector<std::string> kQuick = {"--min-runs", "3", "--min-time", "0", "--warmup", "1"};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the built `edgeai` with `args`, capturing stdout and stderr.
CliResult RunCli(const std::vector<std::string>& args) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() /
                 ("edgeai_bench_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir);
  std::string command = Quote(EDGEAI_CLI_PATH);
  for (const std::string& arg : args) command += " " + Quote(arg);
  command += " >" + Quote((dir / "out").string()) + " 2>" + Quote((dir / "err").string()) + " </dev/null";
  int status = std::system(command.c_str());
  CliResult result;
  result.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadText(dir / "out");
  result.err = ReadText(dir / "err");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return result;
}

CliResult RunBench(std::vector<std::string> extra) {
  std::vector<std::string> args = {"bench", kMlp};
  args.insert(args.end(), kQuick.begin(), kQuick.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

std::string LastLine(const std::string& text) {
  std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
  size_t newline = trimmed.rfind('\n');
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

OpTiming Timing(const std::string& node, const std::string& op, double ms) {
  OpTiming t;
  t.node = node;
  t.op_type = op;
  t.total_ms = ms;
  t.calls = 4;
  return t;
}

}  // namespace

TEST_CASE("bench percentiles use the nearest rank", "[bench]") {
  std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(Percentile(ten, 50) == 5);
  CHECK(Percentile(ten, 90) == 9);
  CHECK(Percentile(ten, 99) == 10);
  CHECK(Percentile(ten, 100) == 10);
  CHECK(Percentile(ten, 10) == 1);
  CHECK(Percentile(ten, 0) == 1);
  CHECK(Percentile({7}, 50) == 7);
  CHECK(Percentile({7}, 99) == 7);
  CHECK(Percentile({}, 50) == 0);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  CHECK(Percentile(hundred, 50) == 50);
  CHECK(Percentile(hundred, 99) == 99);
  CHECK(Percentile({1, 2, 3}, 50) == 2);
  CHECK(Percentile({1, 2, 3, 4}, 50) == 2);  // no interpolation: a measured value
}

TEST_CASE("bench summarises latencies and throughput", "[bench]") {
  LatencyStats s = SummarizeLatencies({4, 1, 3, 2});
  CHECK(s.runs == 4);
  CHECK(s.min_ms == 1);
  CHECK(s.max_ms == 4);
  CHECK(s.total_ms == 10);
  CHECK(s.mean_ms == 2.5);
  CHECK(s.p50_ms == 2);
  CHECK(s.p90_ms == 4);
  CHECK(s.p99_ms == 4);
  LatencyStats none = SummarizeLatencies({});
  CHECK(none.runs == 0);
  CHECK(none.p50_ms == 0);
  CHECK(none.mean_ms == 0);

  CHECK(Throughput(1, 100, 1000) == Approx(100));
  CHECK(Throughput(8, 10, 40) == Approx(2000));
  CHECK(Throughput(4, 10, 0) == 0);
}

TEST_CASE("bench summarises a profile by op type and node", "[bench]") {
  std::vector<OpTiming> timings = {Timing("fc1", "Gemm", 8), Timing("relu1", "Relu", 1), Timing("fc2", "Gemm", 4),
                                   Timing("add", "Add", 1), Timing("soft", "Softmax", 6)};
  ProfileSummary p = SummarizeProfile(timings, 4, 3);
  CHECK(p.total_ms_per_run == Approx(5));
  REQUIRE(p.by_type.size() == 4);
  CHECK(p.by_type[0].op_type == "Gemm");
  CHECK(p.by_type[0].ms_per_run == Approx(3));
  CHECK(p.by_type[0].share == Approx(60));
  CHECK(p.by_type[0].nodes == 2);
  CHECK(p.by_type[1].op_type == "Softmax");
  CHECK(p.by_type[2].op_type == "Add");  // ties by name
  CHECK(p.by_type[3].op_type == "Relu");
  CHECK(p.by_type[3].share == Approx(5));
  REQUIRE(p.top_nodes.size() == 3);
  CHECK(p.top_nodes[0].node == "fc1");
  CHECK(p.top_nodes[0].ms_per_run == Approx(2));
  CHECK(p.top_nodes[0].share == Approx(40));
  CHECK(p.top_nodes[1].node == "soft");
  CHECK(p.top_nodes[2].node == "fc2");
  CHECK(p.top_nodes[2].op_type == "Gemm");

  ProfileSummary empty = SummarizeProfile({}, 0, 10);
  CHECK(empty.by_type.empty());
  CHECK(empty.top_nodes.empty());
  CHECK(empty.total_ms_per_run == 0);
  ProfileSummary idle = SummarizeProfile({Timing("a", "Relu", 0)}, 0, 10);
  CHECK(idle.by_type[0].share == 0);
}

TEST_CASE("bench parses its arguments", "[bench]") {
  Result<BenchArgs> a = ParseBenchArgs({"m.onnx", "--threads", "2", "--batch=8", "--shape", "x=1x2", "--warmup",
                                        "0", "--min-runs", "7", "--min-time=0.25", "--json", "--profile"});
  REQUIRE(a.ok());
  CHECK(a->model == "m.onnx");
  CHECK(a->threads == 2);
  CHECK(a->batch == 8);
  CHECK(a->shapes.at("x") == std::vector<int64_t>{1, 2});
  CHECK(a->warmup == 0);
  CHECK(a->min_runs == 7);
  CHECK(a->min_time_s == 0.25);
  CHECK(a->json);
  CHECK(a->profile);
  Result<BenchArgs> defaults = ParseBenchArgs({"m.onnx"});
  REQUIRE(defaults.ok());
  CHECK(defaults->batch == 1);
  CHECK(defaults->warmup == 5);
  CHECK(defaults->min_runs == 20);
  CHECK(defaults->min_time_s == 2.0);
  CHECK_FALSE(defaults->json);
  CHECK(ParseBenchArgs({"--help"})->help);
  CHECK_FALSE(ParseBenchArgs({}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--batch", "0"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--batch"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--min-time", "-1"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--min-time", "nan"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--min-time", "1e9"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--json=yes"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "--input", "x=a.npy"}).ok());
  CHECK_FALSE(ParseBenchArgs({"m.onnx", "other.onnx"}).ok());

  CHECK(*ParseSeconds("2", "--min-time", 10) == 2.0);
  CHECK(*ParseSeconds("0", "--min-time", 10) == 0.0);
  CHECK(*ParseSeconds("1e-3", "--min-time", 10) == 0.001);
  CHECK_FALSE(ParseSeconds("", "--min-time", 10).ok());
  CHECK_FALSE(ParseSeconds("1.5s", "--min-time", 10).ok());
  CHECK_FALSE(ParseSeconds("inf", "--min-time", 10).ok());
  CHECK_THAT(ParseSeconds("11", "--min-time", 10).status().message(), Catch::Contains("at most 10"));
}

TEST_CASE("bench --json ends with a JSON summary of mlp.onnx", "[bench]") {
  CliResult r = RunBench({"--json", "--batch", "4", "--threads", "1"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == kExitOk);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("float32[4,784]") && Catch::Contains("p50"));
  nlohmann::json j = nlohmann::json::parse(LastLine(r.out));
  for (const char* key :
       {"p50_ms", "p90_ms", "p99_ms", "throughput_ips", "load_ms", "peak_rss_mb", "threads", "batch", "runs"}) {
    INFO(key);
    REQUIRE(j.contains(key));
    CHECK(j[key].is_number());
  }
  CHECK(j["model"] == kMlp);
  double p50 = j["p50_ms"], p90 = j["p90_ms"], p99 = j["p99_ms"];
  CHECK(p50 > 0);
  CHECK(p50 <= p90);
  CHECK(p90 <= p99);
  CHECK(j["runs"].get<int64_t>() >= 3);
  CHECK(j["batch"] == 4);
  CHECK(j["threads"] == 1);
  CHECK(j["load_ms"].get<double>() > 0);
  CHECK(j["peak_rss_mb"].get<double>() > 1);
  // Throughput is batch * runs / the summed run times, so it is at most batch / min and at least batch / max.
  double throughput = j["throughput_ips"];
  CHECK(throughput > 0);
  CHECK(throughput <= 4 * 1000.0 / j["min_ms"].get<double>() * 1.0001);
  CHECK(throughput >= 4 * 1000.0 / j["max_ms"].get<double>() * 0.9999);
}

TEST_CASE("bench resolves the default thread count and honours --min-runs", "[bench]") {
  CliResult r = RunBench({"--json", "--min-runs", "5"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == kExitOk);
  nlohmann::json j = nlohmann::json::parse(LastLine(r.out));
  CHECK(j["threads"].get<int>() >= 1);
  CHECK(j["batch"] == 1);
  CHECK(j["runs"].get<int64_t>() >= 5);
}

TEST_CASE("bench --profile prints the per-op table", "[bench]") {
  CliResult r = RunBench({"--profile"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Catch::Contains("profile") && Catch::Contains("Gemm") && Catch::Contains("top ") &&
                        Catch::Contains("nodes"));
  CHECK(r.out.find('{') == std::string::npos);  // no JSON without --json
}

TEST_CASE("bench errors: usage errors exit 2, failures exit 1 with one line", "[bench]") {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"bench"},
           {"bench", kMlp, "--bogus"},
           {"bench", kMlp, "--batch", "0"},
           {"bench", kMlp, "--batch", "x"},
           {"bench", kMlp, "--threads"},
           {"bench", kMlp, "--min-time", "soon"},
           {"bench", kMlp, "--shape", "input=1xq"}}) {
    CliResult r = RunCli(args);
    INFO("args: " << args.back() << "\nstderr: " << r.err);
    CHECK(r.code == kExitUsage);
    CHECK_THAT(r.err, Catch::StartsWith("edgeai: error: invalid_argument: ") &&
                          Catch::Contains("\nusage: edgeai bench"));
  }
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"bench", std::string(EDGEAI_TEST_DATA_DIR) + "/no_such_model.onnx"},
           {"bench", kMlp, "--shape", "input=2x5"},
           {"bench", kMlp, "--shape", "nope=2x784"},
           {"bench", kMlp, "--shape", "input=2x784", "--batch", "2"}}) {
    CliResult r = RunCli(args);
    INFO("args: " << args.back() << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.code == kExitError);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("edgeai: error: "));
  }
  CliResult help = RunCli({"help"});
  CHECK_THAT(help.out, Catch::Contains("edgeai bench MODEL.onnx") && Catch::Contains("--min-runs"));
  CliResult bench_help = RunCli({"bench", "--help"});
  CHECK(bench_help.code == kExitOk);
  CHECK_THAT(bench_help.out, Catch::Contains("--profile"));
}
