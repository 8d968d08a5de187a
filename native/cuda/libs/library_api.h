// The function tables of cuBLASLt and cuDNN (only in builds with their
// headers, MAAS_WITH_CUDA_LIBS). One X-macro list per library names every
// function we call; the loader (cuda_libraries.cc) resolves each with dlsym
// and kernels call them as `api->cublasLtMatmul(...)`.
#pragma once
#if MAAS_WITH_CUDA_LIBS
#include <cublasLt.h>
#include <cudnn.h>

#define MAAS_CUBLASLT_FUNCTIONS(X)        \
  X(cublasLtCreate)                       \
  X(cublasLtDestroy)                      \
  X(cublasLtMatmulDescCreate)             \
  X(cublasLtMatmulDescDestroy)            \
  X(cublasLtMatmulDescSetAttribute)       \
  X(cublasLtMatrixLayoutCreate)           \
  X(cublasLtMatrixLayoutDestroy)          \
  X(cublasLtMatrixLayoutSetAttribute)     \
  X(cublasLtMatmulPreferenceCreate)       \
  X(cublasLtMatmulPreferenceDestroy)      \
  X(cublasLtMatmulPreferenceSetAttribute) \
  X(cublasLtMatmulAlgoGetHeuristic)       \
  X(cublasLtMatmul)

#define MAAS_CUDNN_FUNCTIONS(X)              \
  X(cudnnCreate)                             \
  X(cudnnDestroy)                            \
  X(cudnnSetStream)                          \
  X(cudnnGetErrorString)                     \
  X(cudnnCreateTensorDescriptor)             \
  X(cudnnDestroyTensorDescriptor)            \
  X(cudnnSetTensorNdDescriptor)              \
  X(cudnnCreateFilterDescriptor)             \
  X(cudnnDestroyFilterDescriptor)            \
  X(cudnnSetFilterNdDescriptor)              \
  X(cudnnCreateConvolutionDescriptor)        \
  X(cudnnDestroyConvolutionDescriptor)       \
  X(cudnnSetConvolutionNdDescriptor)         \
  X(cudnnSetConvolutionGroupCount)           \
  X(cudnnSetConvolutionMathType)             \
  X(cudnnGetConvolutionForwardAlgorithm_v7)  \
  X(cudnnGetConvolutionForwardWorkspaceSize) \
  X(cudnnConvolutionForward)

namespace maas::cuda {

#define MAAS_DECLARE_POINTER(name) decltype(&::name) name = nullptr;
struct CublasLtApi {
  MAAS_CUBLASLT_FUNCTIONS(MAAS_DECLARE_POINTER)
};
struct CudnnApi {
  MAAS_CUDNN_FUNCTIONS(MAAS_DECLARE_POINTER)
};
#undef MAAS_DECLARE_POINTER

}  // namespace maas::cuda
#else
namespace maas::cuda {
// Built without the headers: empty tables that are never loaded.
struct CublasLtApi {};
struct CudnnApi {};
}  // namespace maas::cuda
#endif  // MAAS_WITH_CUDA_LIBS
