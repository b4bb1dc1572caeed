#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/cli_common.h"
#include "tools/npy.h"

using namespace edgeai;
using namespace edgeai::tools;
namespace fs = std::filesystem;

namespace {

const std::string kDataDir = EDGEAI_TEST_DATA_DIR;
const std::string kMlp = kDataDir + "/mlp.onnx";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh folder under the system temp folder, removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("edgeai_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CliResult {
  bool exited = false;  // false: killed by a signal
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the built `edgeai` with `args`, capturing stdout and stderr.
CliResult RunCli(const std::vector<std::string>& args) {
  TempDir capture;
  std::string command = Quote(EDGEAI_CLI_PATH);
  for (const std::string& arg : args) command += " " + Quote(arg);
  command += " >" + Quote(capture / "out") + " 2>" + Quote(capture / "err") + " </dev/null";
  int status = std::system(command.c_str());
  CliResult result;
  // The shell reports a child killed by signal N as exit status 128 + N.
  result.exited = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) < 128;
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadText(capture / "out");
  result.err = ReadText(capture / "err");
  return result;
}

int CountLines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

void CheckOneErrorLine(const CliResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exited);
  CHECK(r.code == kExitError);
  CHECK(CountLines(r.err) == 1);
  CHECK(r.err.rfind("edgeai: error: ", 0) == 0);
}

void CheckUsageError(const std::vector<std::string>& args) {
  CliResult r = RunCli(args);
  INFO("args[0]: " << (args.empty() ? "" : args[0]) << "\nstderr: " << r.err);
  CHECK(r.exited);
  CHECK(r.code == kExitUsage);
  CHECK_THAT(r.err, Catch::StartsWith("edgeai: error: invalid_argument: ") && Catch::Contains("\nusage: edgeai"));
}

TensorInfo MakeInfo(const std::string& name, DataType dtype, std::vector<Dim> dims) {
  TensorInfo info;
  info.name = name;
  info.dtype = dtype;
  info.dims = std::move(dims);
  return info;
}

Dim Fixed(int64_t v) { return Dim{v, ""}; }
Dim Sym(const std::string& s) { return Dim{-1, s}; }

bool AllClose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.dtype() != DataType::kFloat32 || a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.NumElements(); ++i) {
    double x = a.data<float>()[i];
    double y = b.data<float>()[i];
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) return false;
  }
  return true;
}

}  // namespace

// ---- In-process pieces -------------------------------------------------------------------------------------

TEST_CASE("cli parses NAME=VALUE, dims and counts", "[cli]") {
  auto nv = SplitNameValue("input=a=b.npy", "--input");
  REQUIRE(nv.ok());
  CHECK(nv->first == "input");
  CHECK(nv->second == "a=b.npy");
  CHECK_FALSE(SplitNameValue("noequals", "--input").ok());
  CHECK_FALSE(SplitNameValue("=x", "--input").ok());
  CHECK(*ParseDims("1x3x224x224") == std::vector<int64_t>{1, 3, 224, 224});
  CHECK(*ParseDims("2,5") == std::vector<int64_t>{2, 5});
  CHECK(*ParseDims("0") == std::vector<int64_t>{0});
  CHECK(ParseDims("")->empty());
  CHECK_FALSE(ParseDims("1xx2").ok());
  CHECK_FALSE(ParseDims("1x-2").ok());
  CHECK_FALSE(ParseDims("ax2").ok());
  CHECK(*ParseCount("8", "--threads", 1024) == 8);
  CHECK_FALSE(ParseCount("2000", "--threads", 1024).ok());
  CHECK_FALSE(ParseCount("-1", "--threads", 1024).ok());
  CHECK_FALSE(ParseCount("99999999999999999999999", "--threads", 1024).ok());
}

TEST_CASE("cli parses run arguments", "[cli]") {
  Result<RunArgs> args = ParseRunArgs({"m.onnx", "--input", "x=a.npy", "--input=y=b.npy", "--shape", "x=1x2",
                                       "--output-dir=out", "--threads", "3"});
  REQUIRE(args.ok());
  CHECK(args->model == "m.onnx");
  REQUIRE(args->inputs.size() == 2);
  CHECK(args->inputs[1] == std::make_pair(std::string("y"), std::string("b.npy")));
  CHECK(args->shapes.at("x") == std::vector<int64_t>{1, 2});
  CHECK(args->output_dir == "out");
  CHECK(args->threads == 3);
  CHECK(ParseRunArgs({"--help"})->help);
  CHECK_FALSE(ParseRunArgs({}).ok());
  CHECK_FALSE(ParseRunArgs({"m.onnx", "--bogus"}).ok());
  CHECK_FALSE(ParseRunArgs({"m.onnx", "other.onnx"}).ok());
  CHECK_FALSE(ParseRunArgs({"m.onnx", "--threads"}).ok());
  CHECK_FALSE(ParseRunArgs({"m.onnx", "--input", "x=a", "--input", "x=b"}).ok());
  CHECK_FALSE(ParseRunArgs({"m.onnx", "--shape", "x=1", "--shape", "x=2"}).ok());
}

TEST_CASE("cli resolves input shapes: batch symbols become 1, others need --shape", "[cli]") {
  CHECK(IsBatchSymbol("batch"));
  CHECK(IsBatchSymbol("N"));
  CHECK(IsBatchSymbol("Batch_Size"));
  CHECK(IsBatchSymbol("dynamic_batch_dim"));
  CHECK_FALSE(IsBatchSymbol("seq_len"));
  CHECK_FALSE(IsBatchSymbol("num"));

  TensorInfo image = MakeInfo("image", DataType::kFloat32, {Sym("batch"), Fixed(3), Fixed(224), Fixed(224)});
  CHECK(*ResolveInputShape(image, nullptr) == Shape{1, 3, 224, 224});
  std::vector<int64_t> four{4, 3, 224, 224};
  CHECK(*ResolveInputShape(image, &four) == Shape{4, 3, 224, 224});
  std::vector<int64_t> wrong_fixed{1, 1, 224, 224};
  Result<Shape> bad = ResolveInputShape(image, &wrong_fixed);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("'image'") && Catch::Contains("dim 1"));
  std::vector<int64_t> wrong_rank{1, 3};
  CHECK_FALSE(ResolveInputShape(image, &wrong_rank).ok());

  TensorInfo tokens = MakeInfo("tokens", DataType::kInt64, {Sym("N"), Sym("seq")});
  Result<Shape> missing = ResolveInputShape(tokens, nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(),
             Catch::Contains("'tokens'") && Catch::Contains("dim 1 ('seq')") && Catch::Contains("--shape"));
  TensorInfo unknown = MakeInfo("u", DataType::kFloat32, {Dim{}});
  CHECK_THAT(ResolveInputShape(unknown, nullptr).status().message(), Catch::Contains("unknown dim 0"));
  TensorInfo no_rank = MakeInfo("r", DataType::kFloat32, {});
  no_rank.rank_known = false;
  CHECK_THAT(ResolveInputShape(no_rank, nullptr).status().message(), Catch::Contains("unknown rank"));
  std::vector<int64_t> any{2, 2};
  CHECK(*ResolveInputShape(no_rank, &any) == Shape{2, 2});
}

TEST_CASE("cli generates deterministic inputs", "[cli]") {
  std::mt19937 a(kInputSeed), b(kInputSeed);
  Result<Tensor> x = GenerateInput(DataType::kFloat32, Shape{1000}, &a);
  Result<Tensor> y = GenerateInput(DataType::kFloat32, Shape{1000}, &b);
  REQUIRE(x.ok());
  REQUIRE(y.ok());
  CHECK(std::memcmp(x->raw_data(), y->raw_data(), x->ByteSize()) == 0);
  TensorStats stats = ComputeStats(*x);
  CHECK(std::fabs(stats.mean) < 0.15);
  CHECK(stats.min < -2);
  CHECK(stats.max > 2);
  Result<Tensor> ints = GenerateInput(DataType::kInt64, Shape{3}, &a);
  CHECK(ints->data<int64_t>()[2] == 0);
  Result<Tensor> flags = GenerateInput(DataType::kBool, Shape{2}, &a);
  CHECK_FALSE(flags->data<bool>()[1]);
  CHECK(GenerateInput(DataType::kFloat64, Shape{2}, &a)->data<double>()[0] != 0.0);
  CHECK_FALSE(GenerateInput(DataType::kString, Shape{2}, &a).ok());
}

TEST_CASE("cli checks input files against the declaration", "[cli]") {
  TensorInfo info = MakeInfo("input", DataType::kFloat32, {Sym("batch"), Fixed(4)});
  CHECK(CheckInputMatches(info, Tensor::FromVector<float>(Shape{2, 4}, std::vector<float>(8)), "f").ok());
  Status dtype = CheckInputMatches(info, Tensor::FromVector<double>(Shape{1, 4}, std::vector<double>(4)), "'x.npy'");
  CHECK_THAT(dtype.message(), Catch::Contains("input 'input'") && Catch::Contains("'x.npy'") &&
                                  Catch::Contains("float64") && Catch::Contains("dtype"));
  CHECK_THAT(CheckInputMatches(info, Tensor::FromVector<float>(Shape{1, 5}, std::vector<float>(5)), "f").message(),
             Catch::Contains("dim 1"));
  CHECK_THAT(CheckInputMatches(info, Tensor::FromVector<float>(Shape{4}, std::vector<float>(4)), "f").message(),
             Catch::Contains("rank"));
}

TEST_CASE("cli sanitises output file names and keeps them unique", "[cli]") {
  CHECK(SanitizeFileName("/net/net.2/Gemm_output_0") == "_net_net.2_Gemm_output_0");
  CHECK(SanitizeFileName("a b:c-d") == "a_b_c-d");
  CHECK(SanitizeFileName("") == "_");
  CHECK(OutputFileNames({"a/b", "a:b", "out"}) == std::vector<std::string>{"a_b.npy", "a_b_1.npy", "out.npy"});
}

TEST_CASE("cli summarises outputs with stats and top-5", "[cli]") {
  std::vector<float> logits(2000, 0.0f);
  logits[7] = 5;
  logits[3] = 4;
  logits[999] = 4;
  logits[10] = 3;
  logits[11] = 2;
  logits[1500] = 9;  // second row: not part of the top-5 of row 0
  Tensor t = Tensor::FromVector<float>(Shape{2, 1000}, logits);
  auto top = TopK(t, 0, 5);
  REQUIRE(top.size() == 5);
  CHECK(top[0] == std::make_pair(int64_t{7}, 5.0));
  CHECK(top[1] == std::make_pair(int64_t{3}, 4.0));
  CHECK(top[2] == std::make_pair(int64_t{999}, 4.0));
  CHECK(top[4].first == 11);
  std::ostringstream out;
  PrintOutputSummary("probs", t, out);
  CHECK_THAT(out.str(), Catch::Contains("probs: float32[2,1000]") && Catch::Contains("max=9") &&
                            Catch::Contains("top-5 of row 0:  7 (5)  3 (4)  999 (4)  10 (3)  11 (2)"));

  Tensor with_nan = Tensor::FromVector<float>(Shape{3}, {1.0f, NAN, -3.0f});
  TensorStats stats = ComputeStats(with_nan);
  CHECK(stats.count == 2);
  CHECK(stats.nan_count == 1);
  CHECK(stats.min == -3.0);
  CHECK(stats.mean == -1.0);
  std::ostringstream ints;
  PrintOutputSummary("ids", Tensor::FromVector<int64_t>(Shape{2}, {4, 6}), ints);
  CHECK_THAT(ints.str(), Catch::Contains("min=4 max=6 mean=5"));
  std::ostringstream flags;
  PrintOutputSummary("mask", Tensor::FromVector<bool>(Shape{3}, {true, false, true}), flags);
  CHECK_THAT(flags.str(), Catch::Contains("true=2 of 3"));
  std::ostringstream empty;
  PrintOutputSummary("e", Tensor::FromVector<float>(Shape{0, 4}, {}), empty);
  CHECK_THAT(empty.str(), Catch::Contains("no elements"));
  CHECK(OneLine("a\nb\n") == "a; b");
  CHECK(FormatMs(1.23456) == "1.235");
}

// ---- The executable -----------------------------------------------------------------------------------------

TEST_CASE("cli usage errors exit 2 with a usage line", "[cli]") {
  CheckUsageError({});
  CheckUsageError({"frobnicate"});
  CheckUsageError({"run"});
  CheckUsageError({"run", kMlp, "--bogus"});
  CheckUsageError({"run", kMlp, "--threads", "many"});
  CheckUsageError({"run", kMlp, "--shape", "input=1xq"});
  CheckUsageError({"run", kMlp, "--input", "noequals"});
  CheckUsageError({"run", kMlp, "--input"});
  CheckUsageError({"info"});
  CheckUsageError({"info", kMlp, "extra"});
  CheckUsageError({"devices", "extra"});
}

TEST_CASE("cli help and devices", "[cli]") {
  for (const char* help : {"help", "--help", "-h"}) {
    CliResult r = RunCli({help});
    CHECK(r.code == kExitOk);
    CHECK_THAT(r.out, Catch::Contains("edgeai run MODEL.onnx") && Catch::Contains("edgeai info"));
  }
  CliResult run_help = RunCli({"run", "--help"});
  CHECK(run_help.code == kExitOk);
  CHECK_THAT(run_help.out, Catch::Contains("--output-dir"));
  CliResult devices = RunCli({"devices"});
  CHECK(devices.code == kExitOk);
  CHECK_THAT(devices.out, Catch::Contains("cpu: ") && Catch::Contains("logical cores: ") && Catch::Contains("isa: "));
  if (std::thread::hardware_concurrency() > 1) {
    // Either a latency with its verdict, or (a machine too busy to field the second thread) a clear line.
    CHECK_THAT(devices.out, Catch::Contains("thread hand-off: "));
  }
}

TEST_CASE("cli reports a missing or truncated model as one error line", "[cli]") {
  CliResult missing = RunCli({"info", kDataDir + "/no_such_model.onnx"});
  CheckOneErrorLine(missing);
  CHECK_THAT(missing.err, Catch::Contains("no_such_model.onnx"));
  CheckOneErrorLine(RunCli({"run", kDataDir + "/no_such_model.onnx"}));

  TempDir dir;
  std::string model = ReadText(kMlp);
  REQUIRE(model.size() > 100);
  std::string truncated = dir / "truncated.onnx";
  std::ofstream(truncated, std::ios::binary) << model.substr(0, 100);
  CheckOneErrorLine(RunCli({"info", truncated}));
  CheckOneErrorLine(RunCli({"run", truncated}));
  std::string garbage = dir / "garbage.onnx";
  std::ofstream(garbage, std::ios::binary) << std::string(64, '\xff');
  CheckOneErrorLine(RunCli({"run", garbage}));
  CheckOneErrorLine(RunCli({"info", dir.path().string()}));
}

// The tests below need a working engine (LoadModel and Run of mlp.onnx).

TEST_CASE("cli info describes mlp.onnx", "[cli]") {
  CliResult r = RunCli({"info", kMlp});
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Catch::Contains("producer: pytorch") && Catch::Contains("ir_version: 7") &&
                        Catch::Contains("opsets: ai.onnx=13") && Catch::Contains("input: float32[batch,784]") &&
                        Catch::Contains("output: float32[batch,10]") && Catch::Contains("nodes: 5"));
  // Sorted by count: 3 Gemm before 2 Relu.
  CHECK_THAT(r.out, Catch::Contains("ops:\n  Gemm 3\n  Relu 2\n"));
}

TEST_CASE("cli rejects input files of the wrong dtype, shape or name", "[cli]") {
  TempDir dir;
  std::string f64 = dir / "f64.npy";
  REQUIRE(WriteNpy(f64, Tensor::FromVector<double>(Shape{1, 784}, std::vector<double>(784))).ok());
  CliResult dtype = RunCli({"run", kMlp, "--input", "input=" + f64});
  CheckOneErrorLine(dtype);
  CHECK_THAT(dtype.err, Catch::Contains("input 'input'") && Catch::Contains("float64"));

  std::string small = dir / "small.npy";
  REQUIRE(WriteNpy(small, Tensor::FromVector<float>(Shape{1, 100}, std::vector<float>(100))).ok());
  CliResult shape = RunCli({"run", kMlp, "--input", "input=" + small});
  CheckOneErrorLine(shape);
  CHECK_THAT(shape.err, Catch::Contains("input 'input'") && Catch::Contains("[1,100]"));

  CliResult name = RunCli({"run", kMlp, "--input", "nope=" + small});
  CheckOneErrorLine(name);
  CHECK_THAT(name.err, Catch::Contains("'nope'") && Catch::Contains("'input'"));

  std::string not_npy = dir / "not.npy";
  std::ofstream(not_npy) << "hello";
  CheckOneErrorLine(RunCli({"run", kMlp, "--input", "input=" + not_npy}));
  CheckOneErrorLine(RunCli({"run", kMlp, "--input", "input=" + (dir / "absent.npy")}));
  CheckOneErrorLine(RunCli({"run", kMlp, "--shape", "input=1x5"}));
}

TEST_CASE("cli run of mlp.onnx matches the reference output", "[cli]") {
  TempDir dir;
  std::string out_dir = dir / "out/nested";
  CliResult r = RunCli({"run", kMlp, "--input", "input=" + kDataDir + "/mlp.in.input.npy", "--output-dir", out_dir,
                        "--threads", "2"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == kExitOk);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("output: float32[1,10]") && Catch::Contains("min=") &&
                        Catch::Contains("load: ") && Catch::Contains("latency: "));
  Result<Tensor> produced = ReadNpy(out_dir + "/output.npy");
  REQUIRE(produced.ok());
  Result<Tensor> reference = ReadNpy(kDataDir + "/mlp.ort.output.npy");
  REQUIRE(reference.ok());
  CHECK(AllClose(*produced, *reference, 1e-3, 1e-4));
}

TEST_CASE("cli run with generated inputs is deterministic", "[cli]") {
  TempDir dir;
  CliResult first = RunCli({"run", kMlp, "--output-dir", dir / "a"});
  INFO(first.err);
  REQUIRE(first.code == kExitOk);
  CHECK_THAT(first.out, Catch::Contains("generated: standard normal, seed 42") && Catch::Contains("[1,784]"));
  CliResult second = RunCli({"run", kMlp, "--output-dir", dir / "b", "--shape", "input=3x784"});
  REQUIRE(second.code == kExitOk);
  Result<Tensor> a = ReadNpy(dir / "a/output.npy");
  Result<Tensor> b = ReadNpy(dir / "b/output.npy");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(b->shape() == Shape{3, 10});
  // The first row of a batch of 3 sees the same 784 values as a batch of 1.
  for (int i = 0; i < 10; ++i) CHECK(std::fabs(a->data<float>()[i] - b->data<float>()[i]) < 1e-5);
}
