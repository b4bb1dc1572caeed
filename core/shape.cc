#include "edgeai/shape.h"

#include <algorithm>

namespace edgeai {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(dims.begin(), dims.size()) {}

Shape::Shape(const std::vector<int64_t>& dims) : Shape(dims.data(), dims.size()) {}

Shape::Shape(const int64_t* dims, size_t rank) : rank_(rank) {
  if (rank > kInlineRank) {
    heap_.assign(dims, dims + rank);
  } else {
    std::copy(dims, dims + rank, inline_);
  }
}

Shape::Shape(const Shape& other) : rank_(other.rank_), heap_(other.heap_) {
  std::copy(other.inline_, other.inline_ + kInlineRank, inline_);
}

Shape& Shape::operator=(const Shape& other) {
  if (this == &other) return *this;
  rank_ = other.rank_;
  std::copy(other.inline_, other.inline_ + kInlineRank, inline_);
  heap_ = other.heap_;
  return *this;
}

Shape::Shape(Shape&& other) noexcept : rank_(other.rank_), heap_(std::move(other.heap_)) {
  std::copy(other.inline_, other.inline_ + kInlineRank, inline_);
  other.heap_.clear();
}

Shape& Shape::operator=(Shape&& other) noexcept {
  rank_ = other.rank_;
  std::copy(other.inline_, other.inline_ + kInlineRank, inline_);
  heap_ = std::move(other.heap_);
  other.heap_.clear();
  return *this;
}

void Shape::resize(size_t rank, int64_t fill) {
  if (rank > kInlineRank && heap_.empty()) heap_.assign(inline_, inline_ + rank_);
  if (!heap_.empty()) {
    heap_.resize(rank, fill);
    if (rank <= kInlineRank) {
      std::copy(heap_.begin(), heap_.end(), inline_);
      heap_.clear();
    }
  } else {
    for (size_t i = rank_; i < rank; ++i) inline_[i] = fill;
  }
  rank_ = rank;
}

void Shape::push_back(int64_t dim) {
  resize(rank_ + 1);
  data()[rank_ - 1] = dim;
}

void Shape::insert(size_t pos, int64_t dim) {
  resize(rank_ + 1);
  int64_t* d = data();
  for (size_t i = rank_ - 1; i > pos; --i) d[i] = d[i - 1];
  d[pos] = dim;
}

void Shape::erase(size_t pos) {
  int64_t* d = data();
  for (size_t i = pos; i + 1 < rank_; ++i) d[i] = d[i + 1];
  resize(rank_ - 1);
}

int64_t Shape::NumElements() const { return SizeFromTo(0, rank_); }

int64_t Shape::SizeFromTo(size_t begin, size_t end) const {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < rank_; ++i) n *= data()[i];
  return n;
}

int64_t Shape::NormalizeAxis(int64_t axis) const {
  int64_t rank = static_cast<int64_t>(rank_);
  if (axis < -rank || axis >= rank) return -1;
  return axis < 0 ? axis + rank : axis;
}

std::string Shape::ToString() const {
  std::string out = "[";
  for (size_t i = 0; i < rank_; ++i) {
    if (i) out += ",";
    out += data()[i] < 0 ? std::string("?") : std::to_string(data()[i]);
  }
  return out + "]";
}

bool Shape::operator==(const Shape& other) const {
  return rank_ == other.rank_ && std::equal(begin(), end(), other.begin());
}

}  // namespace edgeai
