// The CUDA kernel table, like the CPU one (native/src/cpu/kernel_registry.cc):
// kernel files register from static initializers into a function-local
// static, whatever order the translation units initialize in.
//
// maas_cuda is a static library, and a linker drops an archive member that
// nothing references, with its registrars. So each kernel file also defines
// an empty anchor function (MAAS_CUDA_KERNEL_ANCHOR in kernels/cuda_util.h)
// that this file calls: whoever uses FindCudaKernel pulls in every kernel.
#include <algorithm>
#include <map>
#include <utility>

#include "cuda/cuda_kernel.h"

namespace maas::cuda {

// One per kernel file (native/cuda/kernels/).
void LinkElementwiseKernels();
void LinkDataMovementKernels();
void LinkNormalizationKernels();
void LinkGemmKernels();
void LinkConvKernels();
void LinkPoolKernels();
void LinkPadKernels();

namespace {

std::map<std::string, std::vector<CudaKernel>>& KernelTable() {
  static std::map<std::string, std::vector<CudaKernel>> table;
  return table;
}

const std::map<std::string, std::vector<CudaKernel>>& LinkedTable() {
  static const bool linked = [] {
    LinkElementwiseKernels();
    LinkDataMovementKernels();
    LinkNormalizationKernels();
    LinkGemmKernels();
    LinkConvKernels();
    LinkPoolKernels();
    LinkPadKernels();
    return true;
  }();
  (void)linked;
  return KernelTable();
}

bool Implements(const CudaKernel& kernel, DType dtype) {
  return kernel.dtypes.empty() || dtype == DType::kUndefined ||
         std::find(kernel.dtypes.begin(), kernel.dtypes.end(), dtype) != kernel.dtypes.end();
}

}  // namespace

CudaKernelRegistrar::CudaKernelRegistrar(CudaKernel kernel) {
  std::string op_type = kernel.op_type;
  KernelTable()[op_type].push_back(std::move(kernel));
}

const CudaKernel* FindCudaKernel(const std::string& op_type, DType dtype) {
  const auto& table = LinkedTable();
  auto it = table.find(op_type);
  if (it == table.end()) return nullptr;
  for (const CudaKernel& kernel : it->second)
    if (Implements(kernel, dtype)) return &kernel;
  return nullptr;
}

std::vector<std::string> CudaKernelOpTypes() {
  std::vector<std::string> names;
  for (const auto& entry : LinkedTable()) names.push_back(entry.first);
  return names;
}

std::string CheckCudaNode(const NodeDesc& node) {
  if (!node.op_type || !FindCudaKernel(*node.op_type)) return "no kernel";
  const CudaKernel* kernel = FindCudaKernel(*node.op_type, node.key_dtype());
  if (!kernel) return DTypeName(node.key_dtype());
  return kernel->check ? kernel->check(node) : std::string();
}

}  // namespace maas::cuda
