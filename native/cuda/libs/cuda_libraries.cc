// Loads cuBLASLt and cuDNN with dlopen/dlsym (see cuda_libraries.h for why)
// and creates their per-device handles.
#include "cuda/libs/cuda_libraries.h"

#include <dlfcn.h>

#include <cuda_runtime.h>

#include <cstdlib>
#include <map>

#include "cuda/libs/library_api.h"

namespace maas::cuda {
namespace {

// dlopen by soname (the loader's search path), then under $MAAS_CUDA_LIB_DIR
// (e.g. a pip install's site-packages/nvidia/cu13/lib).
void* OpenLibrary(const char* soname, std::string* why) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle) return handle;
  const char* message = dlerror();  // read once: a second call returns null
  std::string error = message ? std::string(message) : std::string(soname) + " not found";
  if (const char* dir = std::getenv("MAAS_CUDA_LIB_DIR")) {
    const std::string path = std::string(dir) + "/" + soname;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) return handle;
  }
  *why = error;
  return nullptr;
}

template <typename Api>
struct Loaded {
  std::unique_ptr<Api> api;
  std::string why;
};

#if MAAS_WITH_CUDA_LIBS
// Resolves one symbol into its typed pointer; false (with the name) when absent.
template <typename Fn>
bool Resolve(void* library, const char* name, Fn* out, std::string* why) {
  *out = reinterpret_cast<Fn>(dlsym(library, name));
  if (!*out) *why = std::string("missing symbol ") + name;
  return *out != nullptr;
}

Loaded<CublasLtApi> OpenCublasLt() {
  Loaded<CublasLtApi> result;
  void* library = OpenLibrary("libcublasLt.so.13", &result.why);
  if (!library) return result;
  auto api = std::make_unique<CublasLtApi>();
  bool ok = true;
#define MAAS_RESOLVE(name) ok = ok && Resolve(library, #name, &api->name, &result.why);
  MAAS_CUBLASLT_FUNCTIONS(MAAS_RESOLVE)
  if (ok) result.api = std::move(api);
  return result;
}

Loaded<CudnnApi> OpenCudnn() {
  Loaded<CudnnApi> result;
  void* library = OpenLibrary("libcudnn.so.9", &result.why);
  if (!library) return result;
  auto api = std::make_unique<CudnnApi>();
  bool ok = true;
  MAAS_CUDNN_FUNCTIONS(MAAS_RESOLVE)
#undef MAAS_RESOLVE
  if (ok) result.api = std::move(api);
  return result;
}
#else
Loaded<CublasLtApi> OpenCublasLt() { return {nullptr, "built without the cuBLASLt headers"}; }
Loaded<CudnnApi> OpenCudnn() { return {nullptr, "built without the cuDNN headers"}; }
#endif

}  // namespace

const CublasLtApi* LoadCublasLt(std::string* why) {
  static const Loaded<CublasLtApi> loaded = OpenCublasLt();
  if (why) *why = loaded.why;
  return loaded.api.get();
}

const CudnnApi* LoadCudnn(std::string* why) {
  static const Loaded<CudnnApi> loaded = OpenCudnn();
  if (why) *why = loaded.why;
  return loaded.api.get();
}

std::unique_ptr<CudaLibraries> CudaLibraries::None() { return std::make_unique<CudaLibraries>(); }

std::unique_ptr<CudaLibraries> CudaLibraries::Open(int device) {
  (void)device;  // the handles bind to the current device, which the caller set
  auto libs = std::make_unique<CudaLibraries>();
#if MAAS_WITH_CUDA_LIBS
  if (const CublasLtApi* lt = LoadCublasLt(&libs->cublaslt_missing)) {
    cublasLtHandle_t handle = nullptr;
    if (lt->cublasLtCreate(&handle) == CUBLAS_STATUS_SUCCESS) {
      libs->cublaslt = lt;
      libs->cublaslt_handle = handle;
    } else {
      libs->cublaslt_missing = "cublasLtCreate failed";
    }
  }
  if (const CudnnApi* dnn = LoadCudnn(&libs->cudnn_missing)) {
    cudnnHandle_t handle = nullptr;
    const cudnnStatus_t status = dnn->cudnnCreate(&handle);
    if (status == CUDNN_STATUS_SUCCESS) {
      libs->cudnn = dnn;
      libs->cudnn_handle = handle;
    } else {
      libs->cudnn_missing = std::string("cudnnCreate: ") + dnn->cudnnGetErrorString(status);
    }
  }
#else
  LoadCublasLt(&libs->cublaslt_missing);
  LoadCudnn(&libs->cudnn_missing);
#endif
  return libs;
}

const CudaLibraries* GetCudaLibraries() {
  static std::mutex* mutex = new std::mutex();
  // Never destroyed: kernels may run until exit, and destroying handles
  // after the CUDA runtime has shut down is an error of its own.
  static auto* per_device = new std::map<int, std::unique_ptr<CudaLibraries>>();
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    device = 0;
  }
  std::lock_guard<std::mutex> lock(*mutex);
  std::unique_ptr<CudaLibraries>& libs = (*per_device)[device];
  if (!libs) libs = CudaLibraries::Open(device);
  return libs.get();
}

CudaLibraries::~CudaLibraries() {
#if MAAS_WITH_CUDA_LIBS
  if (cublaslt && cublaslt_handle) cublaslt->cublasLtDestroy(cublaslt_handle);
  if (cudnn && cudnn_handle) cudnn->cudnnDestroy(cudnn_handle);
#endif
}

}  // namespace maas::cuda
