#include "backend/cpu/einsum_plan.h"

#include <algorithm>
#include <array>

namespace edgeai::cpu::einsum {
namespace {

constexpr int64_t kUnset = -2;  // a label no input uses (-1 is an unknown size at load time)
constexpr int kMaxEllipsisDims = kMaxDims - 52;

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string LabelName(int label) {
  if (label >= kEllipsisBase) return "... dim " + std::to_string(label - kEllipsisBase);
  return std::string("'") + static_cast<char>(label) + "'";
}

std::string TermText(const std::vector<int>& term) {
  std::string s;
  for (int l : term) s += l == kEllipsis ? std::string("...") : std::string(1, static_cast<char>(l));
  return s;
}

// One term: letters and at most one "...".
Status ParseTerm(const std::string& text, std::vector<int>* out) {
  out->clear();
  bool ellipsis = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsLetter(c)) {
      out->push_back(c);
    } else if (c == '.' && text.compare(i, 3, "...") == 0 && !ellipsis) {
      ellipsis = true;
      out->push_back(kEllipsis);
      i += 2;
    } else {
      return InvalidArgument("invalid term '" + text + "': only letters and one '...' are allowed");
    }
  }
  return Status::Ok();
}

// numpy-style merge of one more size of a label (1 broadcasts; -1 is unknown).
bool MergeSize(int64_t v, int64_t* cur) {
  if (*cur == kUnset || *cur == 1 || *cur == v) {
    *cur = (*cur == 1 && v == -1) ? -1 : v;
    return true;
  }
  if (v == 1 || v == -1) return true;
  if (*cur == -1) {
    *cur = v;
    return true;
  }
  return false;
}

// The label of every dim of every input whose rank is known (shapes[i] != nullptr) and the merged label sizes.
// *ellipsis_rank is the widest ellipsis; *ellipsis_known is false when an input with "..." has unknown rank.
Status ResolveLabels(const Equation& eq, const std::vector<const Shape*>& shapes,
                     std::vector<std::vector<int>>* dim_labels, std::vector<int64_t>* sizes, int* ellipsis_rank,
                     bool* ellipsis_known) {
  *ellipsis_rank = 0;
  *ellipsis_known = true;
  dim_labels->resize(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::vector<int>& term = eq.terms[i];
    const bool has_ellipsis = std::find(term.begin(), term.end(), kEllipsis) != term.end();
    const int64_t letters = static_cast<int64_t>(term.size()) - (has_ellipsis ? 1 : 0);
    if (shapes[i] == nullptr) {
      *ellipsis_known = *ellipsis_known && !has_ellipsis;
      continue;
    }
    const int64_t rank = static_cast<int64_t>(shapes[i]->rank());
    if (has_ellipsis ? rank < letters : rank != letters) {
      return InvalidArgument("term '" + TermText(term) + "' does not fit input " + std::to_string(i) + " of shape " +
                             shapes[i]->ToString());
    }
    if (has_ellipsis) *ellipsis_rank = std::max<int>(*ellipsis_rank, static_cast<int>(rank - letters));
  }
  if (*ellipsis_rank > kMaxEllipsisDims) return InvalidArgument("'...' covers too many dims");
  sizes->assign(kNumLabelIds, kUnset);
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<int>& labels = (*dim_labels)[i];
    labels.clear();
    if (shapes[i] == nullptr) continue;
    const Shape& shape = *shapes[i];
    const int ell = static_cast<int>(shape.rank() + 1 - eq.terms[i].size());  // dims under "..." if present
    for (int l : eq.terms[i]) {
      if (l != kEllipsis) {
        labels.push_back(l);
        continue;
      }
      for (int j = 0; j < ell; ++j) labels.push_back(kEllipsisBase + *ellipsis_rank - ell + j);
    }
    for (size_t d = 0; d < labels.size(); ++d) {
      for (size_t e = 0; e < d; ++e) {
        if (labels[e] == labels[d] && shape[e] >= 0 && shape[d] >= 0 && shape[e] != shape[d]) {
          return InvalidArgument("label " + LabelName(labels[d]) + " repeats in input " + std::to_string(i) +
                                 " " + shape.ToString() + " over dims of different sizes");
        }
      }
      if (!MergeSize(shape[d], &(*sizes)[labels[d]])) {
        return InvalidArgument("label " + LabelName(labels[d]) + " has size " + std::to_string(shape[d]) +
                               " in input " + std::to_string(i) + " but " + std::to_string((*sizes)[labels[d]]) +
                               " elsewhere");
      }
    }
  }
  return Status::Ok();
}

// The output's labels; *known is false when they depend on an ellipsis of unknown width.
void OutputLabels(const Equation& eq, int ellipsis_rank, bool ellipsis_known, Labels* out, bool* known) {
  out->count = 0;
  *known = true;
  auto add_ellipsis = [&] {
    *known = *known && ellipsis_known;
    for (int j = 0; j < ellipsis_rank; ++j) out->Add(kEllipsisBase + j);
  };
  if (eq.explicit_output) {
    for (int l : eq.output) {
      if (l == kEllipsis) {
        add_ellipsis();
      } else {
        out->Add(l);
      }
    }
    return;
  }
  std::array<int, 128> uses{};
  bool any_ellipsis = false;
  for (const std::vector<int>& term : eq.terms) {
    for (int l : term) {
      if (l == kEllipsis) {
        any_ellipsis = true;
      } else {
        ++uses[l];
      }
    }
  }
  if (any_ellipsis) add_ellipsis();
  for (int l = 0; l < 128; ++l) {
    if (uses[l] == 1) out->Add(l);
  }
}

}  // namespace

bool Labels::Contains(int label) const {
  for (int i = 0; i < count; ++i) {
    if (id[i] == label) return true;
  }
  return false;
}

int64_t Labels::Count(const int64_t* sizes) const {
  int64_t c = 1;
  for (int i = 0; i < count; ++i) c *= sizes[id[i]];
  return c;
}

Labels Labels::Concat(const Labels& a, const Labels& b, const Labels& c) {
  Labels out = a;
  for (int i = 0; i < b.count; ++i) out.Add(b.id[i]);
  for (int i = 0; i < c.count; ++i) out.Add(c.id[i]);
  return out;
}

bool Labels::operator==(const Labels& other) const {
  return count == other.count && std::equal(id, id + count, other.id);
}

int64_t Operand::StrideOf(int label) const {
  for (int i = 0; i < labels.count; ++i) {
    if (labels.id[i] == label) return stride[i];
  }
  return 0;
}

bool Operand::IsContiguousAs(const Labels& x, const Labels& y, const Labels& z, const int64_t* sizes) const {
  if (labels.count != x.count + y.count + z.count) return false;
  const Labels order = Labels::Concat(x, y, z);
  int64_t expected = 1;
  for (int i = order.count - 1; i >= 0; --i) {
    const int l = order.id[i];
    if (!labels.Contains(l)) return false;
    if (sizes[l] != 1 && StrideOf(l) != expected) return false;
    expected *= sizes[l];
  }
  return true;
}

Operand Operand::Contiguous(const void* data, const Labels& order, const int64_t* sizes) {
  Operand op;
  op.data = data;
  op.labels = order;
  int64_t acc = 1;
  for (int i = order.count - 1; i >= 0; --i) {
    op.stride[i] = acc;
    acc *= sizes[order.id[i]];
  }
  return op;
}

Status ParseEquation(const std::string& text, size_t num_inputs, Equation* out) {
  std::string eq;
  for (char c : text) {
    if (c != ' ') eq += c;
  }
  if (eq.empty()) return InvalidArgument("the equation is empty");
  *out = Equation{};
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  if (arrow != std::string::npos) {
    out->explicit_output = true;
    EDGEAI_RETURN_IF_ERROR(ParseTerm(eq.substr(arrow + 2), &out->output));
  }
  for (size_t begin = 0;;) {
    const size_t comma = lhs.find(',', begin);
    out->terms.emplace_back();
    EDGEAI_RETURN_IF_ERROR(ParseTerm(lhs.substr(begin, comma - begin), &out->terms.back()));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  if (out->terms.size() != num_inputs) {
    return InvalidArgument("equation '" + text + "' has " + std::to_string(out->terms.size()) + " terms for " +
                           std::to_string(num_inputs) + " inputs");
  }
  for (size_t i = 0; i < out->output.size(); ++i) {
    const int l = out->output[i];
    if (std::find(out->output.begin(), out->output.begin() + i, l) != out->output.begin() + i) {
      return InvalidArgument("output term repeats " + (l == kEllipsis ? std::string("'...'") : LabelName(l)));
    }
    bool found = l == kEllipsis;
    for (const std::vector<int>& term : out->terms) found = found || std::count(term.begin(), term.end(), l) > 0;
    if (!found) return InvalidArgument("output label " + LabelName(l) + " appears in no input term");
  }
  return Status::Ok();
}

Status InferOutput(const Equation& eq, const std::vector<const ValueType*>& inputs, bool* rank_known, Shape* out) {
  std::vector<const Shape*> shapes;
  for (const ValueType* t : inputs) shapes.push_back(t->rank_known ? &t->dims : nullptr);
  std::vector<std::vector<int>> dim_labels;
  std::vector<int64_t> sizes;
  int ellipsis_rank = 0;
  bool ellipsis_known = true;
  EDGEAI_RETURN_IF_ERROR(ResolveLabels(eq, shapes, &dim_labels, &sizes, &ellipsis_rank, &ellipsis_known));
  Labels labels;
  OutputLabels(eq, ellipsis_rank, ellipsis_known, &labels, rank_known);
  out->resize(0);
  for (int i = 0; i < labels.count; ++i) {
    const int64_t s = sizes[labels.id[i]];
    out->push_back(s == kUnset ? -1 : s);
  }
  return Status::Ok();
}

Status BuildPlan(const Equation& eq, const std::vector<const Shape*>& shapes, Plan* plan) {
  int ellipsis_rank = 0;
  bool known = true;
  EDGEAI_RETURN_IF_ERROR(ResolveLabels(eq, shapes, &plan->dim_labels, &plan->sizes, &ellipsis_rank, &known));
  OutputLabels(eq, ellipsis_rank, true, &plan->output, &known);
  plan->output_shape.resize(0);
  for (int i = 0; i < plan->output.count; ++i) plan->output_shape.push_back(plan->sizes[plan->output.id[i]]);
  plan->operands.resize(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    Operand& op = plan->operands[i];
    op.labels.count = 0;
    const Shape& shape = *shapes[i];
    int64_t stride = 1;
    for (size_t d = shape.rank(); d-- > 0;) {
      const int l = plan->dim_labels[i][d];
      if (!op.labels.Contains(l)) {
        op.stride[op.labels.count] = 0;
        op.labels.Add(l);
      }
      // Labels were added in reverse dim order; fix the order below. A size-1 dim broadcasts: stride 0.
      for (int j = 0; j < op.labels.count; ++j) {
        if (op.labels.id[j] == l && shape[d] != 1) op.stride[j] += stride;
      }
      stride *= shape[d];
    }
    std::reverse(op.labels.id, op.labels.id + op.labels.count);
    std::reverse(op.stride, op.stride + op.labels.count);
  }
  plan->splits.resize(shapes.empty() ? 0 : shapes.size() - 1);
  Labels current = plan->operands.empty() ? Labels() : plan->operands[0].labels;
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Labels& b = plan->operands[i].labels;
    auto needed = [&](int l) {
      if (plan->output.Contains(l)) return true;
      for (size_t j = i + 1; j < shapes.size(); ++j) {
        if (plan->operands[j].labels.Contains(l)) return true;
      }
      return false;
    };
    PairSplit& sp = plan->splits[i - 1];
    sp = PairSplit{};
    for (int j = 0; j < current.count; ++j) {
      const int l = current.id[j];
      const bool in_b = b.Contains(l), need = needed(l);
      if (in_b && need) sp.batch.Add(l);
      if (!in_b && need) sp.m.Add(l);
      if (in_b && !need) sp.k.Add(l);
    }
    for (int j = 0; j < b.count; ++j) {
      if (!current.Contains(b.id[j]) && needed(b.id[j])) sp.n.Add(b.id[j]);
    }
    current = Labels::Concat(sp.batch, sp.m, sp.n);
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu::einsum
