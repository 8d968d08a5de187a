// Attributes accessors and NodeDesc helpers (maas/op_types.h).
#include "maas/op_types.h"

namespace maas {

const char* AttributeKindName(Attribute::Kind kind) {
  switch (kind) {
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kTensor: return "tensor";
  }
  return "unknown";
}

const Attribute* Attributes::Find(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

int64_t Attributes::GetInt(const std::string& name, int64_t fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kInt ? a->i : fallback;
}

float Attributes::GetFloat(const std::string& name, float fallback) const {
  const Attribute* a = Find(name);
  if (!a) return fallback;
  if (a->kind == Attribute::Kind::kFloat) return a->f;
  // Some exporters write integral floats (alpha=1) as ints.
  if (a->kind == Attribute::Kind::kInt) return static_cast<float>(a->i);
  return fallback;
}

std::string Attributes::GetString(const std::string& name, const std::string& fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kString ? a->s : fallback;
}

std::vector<int64_t> Attributes::GetInts(const std::string& name, const std::vector<int64_t>& fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : fallback;
}

std::vector<float> Attributes::GetFloats(const std::string& name, const std::vector<float>& fallback) const {
  const Attribute* a = Find(name);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : fallback;
}

void Attributes::SetInt(const std::string& name, int64_t value) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = value;
  values[name] = std::move(a);
}

void Attributes::SetFloat(const std::string& name, float value) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = value;
  values[name] = std::move(a);
}

void Attributes::SetString(const std::string& name, const std::string& value) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = value;
  values[name] = std::move(a);
}

DType NodeDesc::key_dtype() const {
  if (!inputs.empty() && inputs[0].dtype != DType::kUndefined) return inputs[0].dtype;
  if (!outputs.empty()) return outputs[0].dtype;
  return DType::kUndefined;
}

}  // namespace maas
