// The CPU kernel table. Kernel files register from static initializers, so
// the table is a function-local static built on first use, whatever order
// the translation units initialize in.
#include <algorithm>
#include <map>
#include <utility>

#include "cpu/kernel.h"

namespace maas {
namespace {

std::map<std::string, std::vector<CpuKernel>>& KernelTable() {
  static std::map<std::string, std::vector<CpuKernel>> table;
  return table;
}

bool Implements(const CpuKernel& kernel, DType dtype) {
  return kernel.dtypes.empty() || dtype == DType::kUndefined ||
         std::find(kernel.dtypes.begin(), kernel.dtypes.end(), dtype) != kernel.dtypes.end();
}

}  // namespace

CpuKernelRegistrar::CpuKernelRegistrar(CpuKernel kernel) {
  std::string op_type = kernel.op_type;
  KernelTable()[op_type].push_back(std::move(kernel));
}

const CpuKernel* FindCpuKernel(const std::string& op_type, DType dtype) {
  const auto& table = KernelTable();
  auto it = table.find(op_type);
  if (it == table.end()) return nullptr;
  for (const CpuKernel& kernel : it->second)
    if (Implements(kernel, dtype)) return &kernel;
  return nullptr;
}

std::vector<std::string> CpuKernelOpTypes() {
  std::vector<std::string> names;
  for (const auto& entry : KernelTable()) names.push_back(entry.first);
  return names;
}

std::string CheckCpuNode(const NodeDesc& node) {
  if (!node.op_type || !FindCpuKernel(*node.op_type)) return "no kernel";
  const CpuKernel* kernel = FindCpuKernel(*node.op_type, node.key_dtype());
  if (!kernel) return DTypeName(node.key_dtype());
  return kernel->check ? kernel->check(node) : std::string();
}

}  // namespace maas
