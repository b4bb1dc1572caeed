// `edgeai info --optimized` and the --opt-level option of run, bench and info.
#include <catch2/catch.hpp>

#include <sstream>

#include "tools/cli.h"
#include "tools/cli_common.h"

using namespace edgeai;
using namespace edgeai::tools;

namespace {

const std::string kDataDir = EDGEAI_TEST_DATA_DIR;

struct Output {
  int code;
  std::string out, err;
};

Output Info(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = InfoCommand(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("info --optimized prints the op counts and nodes after the passes", "[cli][passes]") {
  Output r = Info({kDataDir + "/squeezenet1_1.onnx", "--optimized"});
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Catch::Contains("nodes: 83") && Catch::Contains("  Identity 18"));
  CHECK_THAT(r.out, Catch::Contains("optimized (level all): 33 nodes"));
  CHECK_THAT(r.out, Catch::Contains("optimized ops:\n  com.edgeai.FusedConv 20\n  com.edgeai.ConcatConv 6\n"));
  CHECK_THAT(r.out, Catch::Contains("optimized graph:\n  com.edgeai.FusedConv '"));
  CHECK_THAT(r.out, Catch::Contains("memory:"));

  Output basic = Info({kDataDir + "/squeezenet1_1.onnx", "--optimized", "--opt-level", "basic"});
  REQUIRE(basic.code == kExitOk);
  CHECK_THAT(basic.out, Catch::Contains("optimized (level basic): 65 nodes") && Catch::Contains("  Relu 26\n"));
  Output none = Info({kDataDir + "/mlp.onnx", "--optimized", "--opt-level=none"});
  REQUIRE(none.code == kExitOk);
  CHECK_THAT(none.out, Catch::Contains("optimized (level none): 5 nodes"));

  Output plain = Info({kDataDir + "/mlp.onnx"});
  REQUIRE(plain.code == kExitOk);
  CHECK_THAT(plain.out, !Catch::Contains("optimized"));
}

TEST_CASE("the opt-level flag takes none, basic or all", "[cli][passes]") {
  Result<RunArgs> run = ParseRunArgs({"m.onnx", "--opt-level", "basic"});
  REQUIRE(run.ok());
  CHECK(run->opt_level == "basic");
  CHECK(ParseRunArgs({"m.onnx"})->opt_level == "all");
  Result<BenchArgs> bench = ParseBenchArgs({"m.onnx", "--opt-level=none"});
  REQUIRE(bench.ok());
  CHECK(bench->opt_level == "none");
  Result<BenchArgs> bad = ParseBenchArgs({"m.onnx", "--opt-level", "max"});
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("--opt-level must be none, basic or all, got 'max'"));
  CHECK_FALSE(ParseRunArgs({"m.onnx", "--opt-level"}).ok());

  Output info = Info({kDataDir + "/mlp.onnx", "--opt-level", "fast"});
  CHECK(info.code == kExitUsage);
  CHECK_THAT(info.err, Catch::Contains("got 'fast'") && Catch::Contains("usage: edgeai info"));
  CHECK(Info({kDataDir + "/mlp.onnx", "--opt-level"}).code == kExitUsage);
  CHECK_THAT(HelpText(), Catch::Contains("--opt-level") && Catch::Contains("--optimized"));
}
