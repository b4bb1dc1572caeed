#include "backend/op_attributes.h"

namespace edgeai {

const Attribute* AttributeMap::Find(const std::string& name) const {
  auto it = attrs_.find(name);
  return it == attrs_.end() ? nullptr : &it->second;
}

int64_t AttributeMap::GetInt(const std::string& name, int64_t fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kInt ? a->i : fallback;
}

float AttributeMap::GetFloat(const std::string& name, float fallback) const {
  const Attribute* a = Find(name);
  if (!a) return fallback;
  if (a->kind == Attribute::Kind::kFloat) return a->f;
  if (a->kind == Attribute::Kind::kInt) return static_cast<float>(a->i);
  return fallback;
}

std::string AttributeMap::GetString(const std::string& name, const std::string& fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kString ? a->s : fallback;
}

std::vector<int64_t> AttributeMap::GetInts(const std::string& name, std::vector<int64_t> fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : fallback;
}

std::vector<float> AttributeMap::GetFloats(const std::string& name, std::vector<float> fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : fallback;
}

const Tensor* AttributeMap::GetTensor(const std::string& name) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kTensor ? &a->t : nullptr;
}

const Subgraph* AttributeMap::GetGraph(const std::string& name) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kGraph ? a->graph.get() : nullptr;
}

}  // namespace edgeai
