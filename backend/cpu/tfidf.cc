// TfIdfVectorizer over integer tokens (pool_int64s). String pools need string tensors, which edgeai does not
// have; such nodes are refused with a message saying so.
//
// The pool is indexed once at load time: a hash of each n-gram's tokens maps to the n-grams that share it, so
// counting probes the table with a hash computed over the input window without building any key.
#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"

namespace edgeai::cpu {
namespace {

enum class TfIdfMode { kTf, kIdf, kTfIdf };

uint64_t MixToken(uint64_t h, int64_t token) {
  uint64_t z = static_cast<uint64_t>(token) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (h ^ z ^ (z >> 31)) * 0x100000001b3ull;
}

// The validated attributes and the pool index.
struct TfIdfModel {
  TfIdfMode mode = TfIdfMode::kTf;
  int64_t min_n = 1, max_n = 1, max_skip = 0;
  std::vector<int64_t> pool;
  std::vector<int64_t> starts;                       // pool offset of each n-gram (by id)
  std::vector<int64_t> lengths;                      // its length
  std::vector<int64_t> coords;                       // ngram_indexes: its output coordinate
  std::vector<float> weights;                        // empty: all 1
  int64_t width = 0;                                 // output coordinates: max(ngram_indexes) + 1
  std::unordered_multimap<uint64_t, int64_t> table;  // hash of (length, tokens) -> id

  Status Parse(const InferenceContext& ctx);
  Status SplitPool(const InferenceContext& ctx, const std::vector<int64_t>& counts);
};

Status TfIdfModel::Parse(const InferenceContext& ctx) {
  const AttributeMap& attrs = ctx.attrs();
  if (attrs.Has("pool_strings")) {
    return ctx.Error("pool_strings needs string tensors, which edgeai does not support; only pool_int64s works");
  }
  const std::string m = attrs.GetString("mode", "");
  if (m == "TF") {
    mode = TfIdfMode::kTf;
  } else if (m == "IDF") {
    mode = TfIdfMode::kIdf;
  } else if (m == "TFIDF") {
    mode = TfIdfMode::kTfIdf;
  } else {
    return ctx.Error("mode '" + m + "' must be TF, IDF or TFIDF");
  }
  min_n = attrs.GetInt("min_gram_length", 0);
  max_n = attrs.GetInt("max_gram_length", 0);
  max_skip = attrs.GetInt("max_skip_count", -1);
  if (min_n < 1 || max_n < min_n || max_skip < 0) {
    return ctx.Error("needs 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0 (got " +
                     std::to_string(min_n) + ", " + std::to_string(max_n) + ", " + std::to_string(max_skip) + ")");
  }
  pool = attrs.GetInts("pool_int64s");
  coords = attrs.GetInts("ngram_indexes");
  weights = attrs.GetFloats("weights");
  EDGEAI_RETURN_IF_ERROR(SplitPool(ctx, attrs.GetInts("ngram_counts")));
  if (coords.size() != starts.size()) {
    return ctx.Error("ngram_indexes has " + std::to_string(coords.size()) + " entries for a pool of " +
                     std::to_string(starts.size()) + " n-grams");
  }
  if (!weights.empty() && weights.size() != starts.size()) {
    return ctx.Error("weights has " + std::to_string(weights.size()) + " entries for a pool of " +
                     std::to_string(starts.size()) + " n-grams");
  }
  for (int64_t c : coords) {
    if (c < 0) return ctx.Error("ngram_indexes must not be negative, got " + std::to_string(c));
    width = std::max(width, c + 1);
  }
  return Status::Ok();
}

// ngram_counts[i] is where the (i+1)-grams start in the pool; each section holds whole n-grams.
Status TfIdfModel::SplitPool(const InferenceContext& ctx, const std::vector<int64_t>& counts) {
  const int64_t size = static_cast<int64_t>(pool.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t n = static_cast<int64_t>(i) + 1;
    const int64_t begin = counts[i];
    const int64_t end = i + 1 < counts.size() ? counts[i + 1] : size;
    if (begin < 0 || end < begin || end > size || (end - begin) % n != 0) {
      return ctx.Error("ngram_counts entry " + std::to_string(i) + " does not split the pool of " +
                       std::to_string(size) + " tokens into whole " + std::to_string(n) + "-grams");
    }
    for (int64_t at = begin; at < end; at += n) {
      uint64_t h = MixToken(0, n);
      for (int64_t j = 0; j < n; ++j) h = MixToken(h, pool[at + j]);
      table.emplace(h, static_cast<int64_t>(starts.size()));
      starts.push_back(at);
      lengths.push_back(n);
    }
  }
  return Status::Ok();
}

Status InferTfIdf(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  const ValueType& x = ctx.input(0);
  if (x.dtype != DataType::kInt32 && x.dtype != DataType::kInt64) {
    return ctx.Error("input must be int32 or int64 (string inputs are not supported), got " + x.ToString());
  }
  int64_t width = 0;
  if (const std::vector<int64_t>* coords = FindInts(ctx.attrs(), "ngram_indexes")) {
    for (int64_t c : *coords) width = std::max(width, c + 1);
  }
  if (!x.rank_known) {
    ctx.output(0) = ValueType::UnknownRank(DataType::kFloat32);
    return Status::Ok();
  }
  if (x.dims.rank() == 1) {
    ctx.output(0) = ValueType::Of(DataType::kFloat32, Shape{width});
  } else if (x.dims.rank() == 2) {
    ctx.output(0) = ValueType::Of(DataType::kFloat32, Shape{x.dims[0], width});
  } else {
    return ctx.Error("input " + x.ToString() + " must have rank 1 ([C]) or 2 ([N, C])");
  }
  return Status::Ok();
}

class TfIdfKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) { return model_.Parse(ctx); }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 1 && x.rank() != 2) return ctx.Error("input " + x.Describe() + " must have rank 1 or 2");
    const int64_t rows = x.rank() == 2 ? x.shape()[0] : 1;
    const int64_t cols = x.shape().back();
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.rank() == 2 ? Shape{rows, model_.width} : Shape{model_.width}));
    float* out = y->data<float>();
    const bool wide = x.dtype() == DataType::kInt64;
    const int64_t grain =
        std::max<int64_t>(1, 4096 / std::max<int64_t>(1, cols * model_.max_n * (model_.max_skip + 1)));
    ctx.pool().ParallelFor(rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        if (wide) {
          CountRow(x.data<int64_t>() + r * cols, cols, out + r * model_.width);
        } else {
          CountRow(x.data<int32_t>() + r * cols, cols, out + r * model_.width);
        }
      }
    });
    return Status::Ok();
  }

 private:
  // Counts every n-gram (min_n..max_n tokens, skip 0..max_skip between them) of one row, then weights.
  template <typename I>
  void CountRow(const I* row, int64_t cols, float* out) const {
    const TfIdfModel& m = model_;
    std::fill(out, out + m.width, 0.0f);
    for (int64_t n = m.min_n; n <= m.max_n; ++n) {
      // A unigram is the same whatever the skip: count it once.
      const int64_t skips = n == 1 ? 0 : m.max_skip;
      for (int64_t skip = 0; skip <= skips; ++skip) {
        const int64_t stride = skip + 1;
        for (int64_t i = 0; i + (n - 1) * stride < cols; ++i) {
          uint64_t h = MixToken(0, n);
          for (int64_t j = 0; j < n; ++j) h = MixToken(h, static_cast<int64_t>(row[i + j * stride]));
          auto range = m.table.equal_range(h);
          for (auto it = range.first; it != range.second; ++it) {
            const int64_t id = it->second;
            if (m.lengths[id] != n) continue;
            bool same = true;
            for (int64_t j = 0; same && j < n; ++j) same = m.pool[m.starts[id] + j] == row[i + j * stride];
            if (same) {
              out[m.coords[id]] += 1.0f;
              break;
            }
          }
        }
      }
    }
    if (m.mode == TfIdfMode::kTf) return;
    for (size_t id = 0; id < m.coords.size(); ++id) {
      float& v = out[m.coords[id]];
      const float w = m.weights.empty() ? 1.0f : m.weights[id];
      if (m.mode == TfIdfMode::kIdf) v = v > 0 ? w : 0.0f;
      if (m.mode == TfIdfMode::kTfIdf) v *= w;
    }
  }

  TfIdfModel model_;
};

}  // namespace

Status RegisterTfIdfOps(OpRegistry& registry) {
  return AddOp(registry, "TfIdfVectorizer", 9, kMaxOpset, {DataType::kInt32, DataType::kInt64}, InferTfIdf,
               MakeKernel<TfIdfKernel>);
}

}  // namespace edgeai::cpu
