// Weak stand-ins for the kernel registry and the library loader
// (native/cuda/kernels/, native/cuda/libs/): until those are linked in, the
// backend builds and reports every op as having no CUDA kernel. The real
// definitions are strong symbols and replace these at link time.
#include "cuda_kernel.h"

namespace maas::cuda {

__attribute__((weak)) const CudaLibraries* GetCudaLibraries() { return nullptr; }

__attribute__((weak)) const CudaKernel* FindCudaKernel(const std::string& op_type, DType dtype) {
  (void)op_type;
  (void)dtype;
  return nullptr;
}

__attribute__((weak)) std::vector<std::string> CudaKernelOpTypes() { return {}; }

__attribute__((weak)) std::string CheckCudaNode(const NodeDesc& node) {
  (void)node;
  return "no CUDA kernels in this build";
}

}  // namespace maas::cuda
