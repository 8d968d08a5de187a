// The CPU kernel table and Attributes accessors. Op files register themselves
// from static initializers, so the table is a function-local static: it is
// built on first use, whatever order the translation units initialize in.
#include <utility>

#include "cpu/kernel.h"

namespace maas {
namespace {

std::map<std::string, OpKernel>& KernelTable() {
  static std::map<std::string, OpKernel> table;
  return table;
}

}  // namespace

KernelRegistrar::KernelRegistrar(OpKernel kernel) {
  std::string op_type = kernel.op_type;
  KernelTable()[op_type] = std::move(kernel);
}

const OpKernel* FindCpuKernel(const std::string& op_type) {
  const auto& table = KernelTable();
  auto it = table.find(op_type);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<std::string> CpuKernelOpTypes() {
  std::vector<std::string> names;
  for (const auto& entry : KernelTable()) names.push_back(entry.first);
  return names;
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

}  // namespace maas
