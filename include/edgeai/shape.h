// Shape: the dimensions of a tensor. Stores up to kInlineRank dimensions without touching the heap, so that
// kernels can build output shapes on the inference path without allocating.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace edgeai {

class Shape {
 public:
  static constexpr int kInlineRank = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);
  Shape(const int64_t* dims, size_t rank);
  Shape(const Shape& other);
  Shape& operator=(const Shape& other);
  Shape(Shape&& other) noexcept;
  Shape& operator=(Shape&& other) noexcept;
  ~Shape() = default;

  size_t rank() const { return rank_; }
  bool empty() const { return rank_ == 0; }  // a scalar
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t& operator[](size_t i) { return data()[i]; }
  const int64_t* data() const { return heap_.empty() ? inline_ : heap_.data(); }
  int64_t* data() { return heap_.empty() ? inline_ : heap_.data(); }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + rank_; }
  int64_t back() const { return data()[rank_ - 1]; }

  void push_back(int64_t dim);
  void resize(size_t rank, int64_t fill = 0);
  void insert(size_t pos, int64_t dim);
  void erase(size_t pos);

  // Product of all dims (1 for a scalar). Dims must be non-negative.
  int64_t NumElements() const;
  // Product of dims [begin, end).
  int64_t SizeFromTo(size_t begin, size_t end) const;
  // Normalises a possibly negative axis against this rank; -1 when out of range.
  int64_t NormalizeAxis(int64_t axis) const;
  std::vector<int64_t> ToVector() const { return std::vector<int64_t>(begin(), end()); }
  // "[1,3,224,224]"; unknown (negative) dims print as "?".
  std::string ToString() const;

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

 private:
  size_t rank_ = 0;
  int64_t inline_[kInlineRank] = {};
  std::vector<int64_t> heap_;  // used only past kInlineRank dims
};

}  // namespace edgeai
