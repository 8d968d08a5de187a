// The optional NVIDIA libraries the CUDA kernels use: cuBLASLt (GEMM with
// fused epilogues) and cuDNN (convolution). Neither is linked: each is
// dlopen'ed on first use (libcublasLt.so.13, libcudnn.so.9, or the same names
// under $MAAS_CUDA_LIB_DIR), so the addon loads and the CPU backend and the
// self-contained CUDA kernels run on a machine without them. Each function
// pointer is typed with decltype of the library's own declaration, so a
// header/library mismatch is a compile error, not a crash.
//
// Who owns what: the process owns the loaded libraries (never unloaded); the
// CUDA runtime owns one CudaLibraries per device (its handles, created on
// that device); kernels borrow it for one Run (cuda_kernel.h).
#pragma once
#include <memory>
#include <mutex>
#include <string>

// The libraries' handle types, declared here so this header does not need
// their headers (which only CUDA builds with MAAS_WITH_CUDA_LIBS have).
struct cublasLtContext;
struct cudnnContext;

namespace maas::cuda {

struct CublasLtApi;  // function table, native/cuda/libs/library_api.h
struct CudnnApi;

// The function tables, loaded once per process; null when the library (or
// one of its functions) is missing, with the reason in *why.
const CublasLtApi* LoadCublasLt(std::string* why = nullptr);
const CudnnApi* LoadCudnn(std::string* why = nullptr);

struct CudaLibraries {
  const CublasLtApi* cublaslt = nullptr;  // null: no cuBLASLt; GEMMs use our own kernel
  cublasLtContext* cublaslt_handle = nullptr;
  const CudnnApi* cudnn = nullptr;  // null: no cuDNN; Conv uses our own kernel
  cudnnContext* cudnn_handle = nullptr;
  // A cuDNN handle carries its stream (cudnnSetStream), so concurrent runs
  // on different streams take turns setting it and enqueuing their call.
  mutable std::mutex cudnn_mutex;
  std::string cublaslt_missing;  // why cublaslt is null ("" when loaded)
  std::string cudnn_missing;

  // Loads what it can and creates the handles on the current device (the
  // caller has made `device` current); never fails: a missing library or a
  // handle that cannot be created leaves that member null.
  static std::unique_ptr<CudaLibraries> Open(int device);
  // A table with no libraries (tests, and the runtime before Open).
  static std::unique_ptr<CudaLibraries> None();

  CudaLibraries() = default;
  CudaLibraries(const CudaLibraries&) = delete;
  CudaLibraries& operator=(const CudaLibraries&) = delete;
  ~CudaLibraries();
};

// The current device's CudaLibraries (cudaGetDevice; device 0 when that
// fails), opened on first use for that device and kept for the process's
// life; never null, its members may be. What the runtime passes kernels as
// CudaKernelContext::libs (the declaration is repeated in cuda_kernel.h).
const CudaLibraries* GetCudaLibraries();

}  // namespace maas::cuda
