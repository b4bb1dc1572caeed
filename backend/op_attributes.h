// Attributes of a node as kernels see them. The ONNX importer fills an AttributeMap per node; kernels and shape
// inference read it with typed getters that fall back to a default when the attribute is absent.
// Thread safety: immutable after import; safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeai/tensor.h"

namespace edgeai {

class Subgraph;

struct Attribute {
  enum class Kind { kUndefined, kFloat, kInt, kString, kTensor, kFloats, kInts, kStrings, kGraph };
  Kind kind = Kind::kUndefined;
  float f = 0.0f;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::shared_ptr<Subgraph> graph;  // kGraph: the compiled body (see backend/subgraph.h)
};

// Typed attribute values, for the nodes passes write and tests build.
inline Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute IntsAttr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
inline Attribute FloatAttr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute FloatsAttr(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}
inline Attribute StringAttr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}
inline Attribute StringsAttr(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = std::move(v);
  return a;
}
inline Attribute TensorAttr(Tensor t) {
  Attribute a;
  a.kind = Attribute::Kind::kTensor;
  a.t = std::move(t);
  return a;
}

class AttributeMap {
 public:
  void Set(const std::string& name, Attribute value) { attrs_[name] = std::move(value); }
  bool Has(const std::string& name) const { return attrs_.count(name) != 0; }
  const Attribute* Find(const std::string& name) const;
  const std::map<std::string, Attribute>& all() const { return attrs_; }

  int64_t GetInt(const std::string& name, int64_t fallback) const;
  float GetFloat(const std::string& name, float fallback) const;
  std::string GetString(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> GetInts(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> GetFloats(const std::string& name, std::vector<float> fallback = {}) const;
  // nullptr when absent or not a tensor attribute.
  const Tensor* GetTensor(const std::string& name) const;
  // nullptr when absent or not a graph attribute.
  const Subgraph* GetGraph(const std::string& name) const;

 private:
  std::map<std::string, Attribute> attrs_;
};

}  // namespace edgeai
