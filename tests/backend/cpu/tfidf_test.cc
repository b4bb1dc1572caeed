// TfIdfVectorizer over integer tokens (tfidf.cc). Expected counts follow the ONNX examples.
#include <catch2/catch.hpp>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

// Pool: unigrams 2 3 5 4, bigrams (5 6) (7 8) (6 7); n-grams numbered 0..6.
OpCall TfIdf(const std::string& mode, int64_t min_n, int64_t max_n, int64_t skip) {
  OpCall call("TfIdfVectorizer", 9);
  call.Attr("mode", StringAttr(mode))
      .Attr("min_gram_length", IntAttr(min_n))
      .Attr("max_gram_length", IntAttr(max_n))
      .Attr("max_skip_count", IntAttr(skip))
      .Attr("ngram_counts", IntsAttr({0, 4}))
      .Attr("ngram_indexes", IntsAttr({0, 1, 2, 3, 4, 5, 6}))
      .Attr("pool_int64s", IntsAttr({2, 3, 5, 4, 5, 6, 7, 8, 6, 7}));
  return call;
}

const std::vector<int32_t> kTokens = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};

}  // namespace

TEST_CASE("TfIdfVectorizer counts n-grams with skips", "[cpu][tfidf][signal]") {
  Tensor x = Tensor::FromVector<int32_t>(Shape{12}, kTokens);
  CHECK(Values<float>(TfIdf("TF", 2, 2, 0).Run1({x})) == std::vector<float>{0, 0, 0, 0, 1, 1, 1});
  // Skips up to 5 find (7 8) three times; unigrams count once whatever the skip.
  CHECK(Values<float>(TfIdf("TF", 2, 2, 5).Run1({x})) == std::vector<float>{0, 0, 0, 0, 1, 3, 1});
  CHECK(Values<float>(TfIdf("TF", 1, 2, 5).Run1({x})) == std::vector<float>{0, 3, 1, 0, 1, 3, 1});
  // Rows are separate documents (int64 tokens here).
  std::vector<int64_t> wide(kTokens.begin(), kTokens.end());
  Tensor batch = TfIdf("TF", 1, 2, 5).Run1({I64(Shape{2, 6}, wide)});
  CHECK(batch.shape() == Shape{2, 7});
  CHECK(Values<float>(batch) == std::vector<float>{0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1});
  // Weighted modes; IDF clips counts to 1 first.
  auto weighted = [&](const char* mode) {
    return Values<float>(TfIdf(mode, 1, 2, 5).Attr("weights", FloatsAttr({1, 2, 3, 4, 5, 6, 7})).Run1({x}));
  };
  CHECK(weighted("TFIDF") == std::vector<float>{0, 6, 3, 0, 5, 18, 7});
  CHECK(weighted("IDF") == std::vector<float>{0, 2, 3, 0, 5, 6, 7});
  // ngram_indexes remaps output coordinates.
  Tensor reversed = TfIdf("TF", 1, 2, 5).Attr("ngram_indexes", IntsAttr({6, 5, 4, 3, 2, 1, 0})).Run1({x});
  CHECK(Values<float>(reversed) == std::vector<float>{1, 3, 1, 0, 1, 3, 0});
}

TEST_CASE("TfIdfVectorizer rejects bad attributes and inputs", "[cpu][tfidf][signal]") {
  Tensor x = Tensor::FromVector<int32_t>(Shape{12}, kTokens);
  auto bad_mode = TfIdf("BM25", 1, 2, 0).Run({x});
  CHECK(bad_mode.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad_mode.status(), "TfIdfVectorizer node 'test'"));
  CHECK_FALSE(TfIdf("TF", 3, 2, 0).Run({x}).ok());
  CHECK_FALSE(TfIdf("TF", 1, 2, 0).Attr("ngram_counts", IntsAttr({0, 3})).Run({x}).ok());  // 7 tokens of bigrams
  CHECK_FALSE(TfIdf("TF", 1, 2, 0).Attr("ngram_indexes", IntsAttr({0, 1})).Run({x}).ok());
  CHECK_FALSE(TfIdf("TF", 1, 2, 0).Attr("weights", FloatsAttr({1})).Run({x}).ok());
  CHECK_FALSE(TfIdf("TF", 1, 2, 0).Run({Tensor::FromVector<int32_t>(Shape{1, 1, 2}, {1, 2})}).ok());
  CHECK_FALSE(TfIdf("TF", 1, 2, 0).Run({F32(Shape{2}, {1, 2})}).ok());
}
