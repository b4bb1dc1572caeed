// A MobileNet-like model for the blocked layout's tests (the pass, and the zero-allocation test).
#pragma once

#include <string>

#include "tests/graph/model_builder.h"
#include "tests/graph/passes/pass_test_util.h"

namespace edgeai::testing {

// A 1x1 stem, then MobileNet-like inverted residual blocks on [batch, c, side, side]: expand 1x1 (+ Clip 0..6),
// depthwise 3x3 (+ Relu), project 1x1, then a residual Add; the last of several blocks has a stride-2 depthwise
// and no residual.
inline std::string InvertedResiduals(int64_t c, int64_t side, int blocks = 2, bool stem = true) {
  ModelBuilder b(13);
  const int64_t e = 2 * c;
  b.Input("x", kFloat, {-1, c, side, side});
  ScalarInitializer(b, "zero", 0.0f);
  ScalarInitializer(b, "six", 6.0f);
  std::string in = "x";
  if (stem) {
    b.FloatInitializer("stem_w", {c, c, 1, 1}, Values(c * c, 5, 0.3f));
    b.Node("Conv", {"x", "stem_w"}, {"stem"}, "stem");
    in = "stem";
  }
  int64_t s = side;
  for (int i = 0; i < blocks; ++i) {
    const std::string p = "b" + std::to_string(i) + "_";
    const bool last = i == blocks - 1 && blocks > 1;
    b.FloatInitializer(p + "w1", {e, c, 1, 1}, Values(e * c, 10 + i, 0.3f));
    b.FloatInitializer(p + "b1", {e}, Values(e, 20 + i, 0.1f));
    b.FloatInitializer(p + "w2", {e, 1, 3, 3}, Values(e * 9, 30 + i, 0.3f));
    b.FloatInitializer(p + "b2", {e}, Values(e, 40 + i, 0.1f));
    b.FloatInitializer(p + "w3", {c, e, 1, 1}, Values(c * e, 50 + i, 0.3f));
    b.Node("Conv", {in, p + "w1", p + "b1"}, {p + "c1"}, p + "expand");
    b.Node("Clip", {p + "c1", "zero", "six"}, {p + "a1"}, p + "clip");
    auto& dw = b.Node("Conv", {p + "a1", p + "w2", p + "b2"}, {p + "c2"}, p + "depthwise");
    AttrI(dw, "group", e);
    AttrInts(dw, "pads", {1, 1, 1, 1});
    if (last) AttrInts(dw, "strides", {2, 2});
    b.Node("Relu", {p + "c2"}, {p + "a2"}, p + "relu");
    const std::string out = p + "out";
    if (last) {
      b.Node("Conv", {p + "a2", p + "w3"}, {out}, p + "project");
      s = (s + 1) / 2;
    } else {
      b.Node("Conv", {p + "a2", p + "w3"}, {p + "c3"}, p + "project");
      b.Node("Add", {p + "c3", in}, {out}, p + "residual");
    }
    in = out;
  }
  b.Node("Identity", {in}, {"y"}, "output");
  b.Output("y", kFloat, {-1, c, s, s});
  return b.Bytes();
}

}  // namespace edgeai::testing
