#include "tests/graph/passes/pass_test_util.h"

using namespace edgeai;
using namespace edgeai::testing;

namespace {

constexpr int64_t kSeq = 10, kHeads = 2, kDim = 8;

// Scaled dot-product attention as PyTorch exports it: q, k, v [seq, heads * dim] reshaped to heads, transposed
// to [heads, seq, dim] (k to [heads, dim, seq]), q divided by sqrt(dim) (before or after its Transpose), then
// the heads' product transposed back and reshaped to [seq, heads * dim].
std::string Attention(bool scale_before_transpose, bool extra_reader = false) {
  ModelBuilder b(13);
  for (const char* name : {"q", "k", "v"}) b.Input(name, kFloat, {kSeq, kHeads * kDim});
  b.Output("y", kFloat, {kSeq, kHeads * kDim});
  Int64Initializer(b, "heads_shape", {3}, {kSeq, kHeads, kDim});
  Int64Initializer(b, "out_shape", {2}, {kSeq, kHeads * kDim});
  ScalarInitializer(b, "root", 2.828427f);
  for (const char* name : {"q", "k", "v"}) b.Node("Reshape", {name, "heads_shape"}, {std::string(name) + "h"});
  std::string q = "qh";
  if (scale_before_transpose) {
    b.Node("Div", {"qh", "root"}, {"qs"}, "scale");
    q = "qs";
  }
  AttrInts(b.Node("Transpose", {q}, {"qt"}, "transpose_q"), "perm", {1, 0, 2});
  AttrInts(b.Node("Transpose", {"kh"}, {"kt"}, "transpose_k"), "perm", {1, 2, 0});
  AttrInts(b.Node("Transpose", {"vh"}, {"vt"}, "transpose_v"), "perm", {1, 0, 2});
  q = "qt";
  if (!scale_before_transpose) {
    b.Node("Div", {"qt", "root"}, {"qs"}, "scale");
    q = "qs";
  }
  b.Node("MatMul", {q, "kt"}, {"scores"}, "scores");
  auto& softmax = b.Node("Softmax", {"scores"}, {"p"}, "softmax");
  AttrI(softmax, "axis", -1);
  b.Node("MatMul", {"p", "vt"}, {"heads"}, "context");
  AttrInts(b.Node("Transpose", {"heads"}, {"merged"}, "transpose_out"), "perm", {1, 0, 2});
  b.Node("Reshape", {"merged", "out_shape"}, {"y"});
  if (extra_reader) {
    b.Output("kt_copy", kFloat, {kHeads, kDim, kSeq});
    b.Node("Identity", {"kt"}, {"kt_copy"});
  }
  return b.Bytes();
}

NamedTensors Inputs() {
  return {{"q", RandomTensor(Shape{kSeq, kHeads * kDim}, 1)},
          {"k", RandomTensor(Shape{kSeq, kHeads * kDim}, 2)},
          {"v", RandomTensor(Shape{kSeq, kHeads * kDim}, 3)}};
}

}  // namespace

TEST_CASE("Transpose-MatMul fusion reads attention heads in place", "[passes][transpose_matmul_fusion]") {
  for (bool before : {true, false}) {
    INFO("scale before transpose " << before);
    const std::string model = Attention(before);
    Graph graph = LoadGraph(model);
    CHECK(RunPass(MakeTransposeMatMulFusionPass(), graph));
    CHECK(CountOps(graph, "Transpose") == 0);
    CHECK(CountOps(graph, "Div") == 0);
    CHECK(CountOps(graph, "MatMul") == 0);
    REQUIRE(CountOps(graph, "TransposeMatMul", "com.edgeai") == 2);
    for (const Node& node : graph.nodes) {
      if (node.op_type != "TransposeMatMul") continue;
      if (node.name == "scores") {
        CHECK(node.attrs.GetInts("perm_a") == std::vector<int64_t>{1, 0, 2});
        CHECK(node.attrs.GetInts("perm_b") == std::vector<int64_t>{1, 2, 0});
        CHECK(node.attrs.GetFloat("alpha", 1.0f) == Approx(1.0f / 2.828427f));
      } else {
        CHECK(node.attrs.GetInts("perm_b") == std::vector<int64_t>{1, 0, 2});
        CHECK(node.attrs.GetInts("perm_y") == std::vector<int64_t>{1, 0, 2});
      }
    }
    CheckLevelsAgree(model, Inputs(), 1e-5, 1e-6);
  }
}

TEST_CASE("Transpose-MatMul fusion leaves a transpose that something else reads", "[passes][transpose_matmul_fusion]") {
  const std::string model = Attention(false, /*extra_reader=*/true);
  Graph graph = LoadGraph(model);
  CHECK(RunPass(MakeTransposeMatMulFusionPass(), graph));
  CHECK(CountOps(graph, "Transpose") == 1);  // K's, read by the Identity too
  for (const Node& node : graph.nodes) {
    if (node.name == "scores") CHECK_FALSE(node.attrs.Has("perm_b"));
  }
  CheckLevelsAgree(model, Inputs(), 1e-5, 1e-6);
}

TEST_CASE("Transpose-MatMul fusion skips transposes that scatter the matrices", "[passes][transpose_matmul_fusion]") {
  // x [4, 5, 6] -> Transpose(2, 0, 1): its last axis becomes the batch axis, so no matrix is strided.
  ModelBuilder b(13);
  b.Input("x", kFloat, {4, 5, 6}).Input("w", kFloat, {5, 3}).Output("y", kFloat, {6, 4, 3});
  AttrInts(b.Node("Transpose", {"x"}, {"t"}, "t"), "perm", {2, 0, 1});
  b.Node("MatMul", {"t", "w"}, {"y"}, "mm");
  Graph graph = LoadGraph(b.Bytes());
  CHECK_FALSE(RunPass(MakeTransposeMatMulFusionPass(), graph));
  CHECK(CountOps(graph, "MatMul") == 1);
}
