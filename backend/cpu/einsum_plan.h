// Einsum's front half (einsum_plan.cc): the equation parser, label resolution against input shapes (ellipsis
// expansion, size checks with numpy's size-1 broadcasting) and the contraction plan that einsum.cc executes.
//
// Label ids: a letter is its ASCII code; dim j of the (right-aligned) ellipsis is kEllipsisBase + j.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/kernel.h"
#include "edgeai/shape.h"
#include "edgeai/status.h"

namespace edgeai::cpu::einsum {

constexpr int kMaxDims = 64;  // distinct labels of one equation (52 letters + ellipsis dims)
constexpr int kEllipsis = -1;
constexpr int kEllipsisBase = 128;
constexpr int kNumLabelIds = kEllipsisBase + kMaxDims;

// An ordered set of label ids.
struct Labels {
  int count = 0;
  int id[kMaxDims];

  bool Contains(int label) const;
  void Add(int label) { id[count++] = label; }
  // Product of the labels' sizes.
  int64_t Count(const int64_t* sizes) const;
  static Labels Concat(const Labels& a, const Labels& b, const Labels& c);
  bool operator==(const Labels& other) const;
};

// A tensor seen through its labels: one element stride per distinct label (repeated labels add their strides,
// broadcast size-1 dims have stride 0).
struct Operand {
  const void* data = nullptr;
  Labels labels;
  int64_t stride[kMaxDims];

  int64_t StrideOf(int label) const;  // 0 when absent
  // True when the operand holds exactly the labels x ++ y ++ z, laid out contiguously in that order.
  bool IsContiguousAs(const Labels& x, const Labels& y, const Labels& z, const int64_t* sizes) const;
  static Operand Contiguous(const void* data, const Labels& order, const int64_t* sizes);
};

// How one left-to-right step multiplies the running result A by the next operand B.
struct PairSplit {
  Labels batch;  // in A and B, still needed
  Labels m;      // in A only, still needed
  Labels n;      // in B only, still needed
  Labels k;      // in A and B, needed nowhere else: contracted
};

struct Equation {
  std::vector<std::vector<int>> terms;  // per input: letters and kEllipsis
  std::vector<int> output;              // explicit output (letters and kEllipsis); unused when implicit
  bool explicit_output = false;
};

// The per-call plan; reusable (vectors keep their capacity) so warm calls do not allocate.
struct Plan {
  std::vector<int64_t> sizes;                // label id -> size
  std::vector<std::vector<int>> dim_labels;  // per input: the label of each dim
  std::vector<Operand> operands;             // per input, data unset
  std::vector<PairSplit> splits;             // operands.size() - 1 steps
  Labels output;
  Shape output_shape;
};

// Parses "ij,jk->ik" (spaces ignored). Errors name the problem, not the node.
Status ParseEquation(const std::string& text, size_t num_inputs, Equation* out);

// The output shape from possibly partial input types; *rank_known is false when an ellipsis of unknown rank
// reaches the output.
Status InferOutput(const Equation& eq, const std::vector<const ValueType*>& inputs, bool* rank_known, Shape* out);

// Resolves the equation against concrete shapes and plans the contraction.
Status BuildPlan(const Equation& eq, const std::vector<const Shape*>& shapes, Plan* plan);

}  // namespace edgeai::cpu::einsum
