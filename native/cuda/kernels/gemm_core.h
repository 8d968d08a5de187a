// One row-major GEMM (optionally strided-batched) with the engine's
// epilogue: Y = act(alpha · op(A) op(B) + beta · Y + bias), where Y may hold
// Gemm's C on entry. RunGemm uses cuBLASLt when loaded (bias and Relu in its
// epilogue; Sigmoid and Tanh as a pass over Y), else our own tiled kernel
// (every epilogue fused). Used by MatMul/Gemm and their fused forms
// (gemm.cu); the conversion helpers serve the float16/bfloat16 precisions.
#pragma once
#include <cstdint>
#include <string>

#include "cuda/kernels/cuda_util.h"
#include "ops/activation.h"

namespace maas::cuda {

struct GemmCall {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;  // A stored [k, m], B stored [n, k]
  int64_t lda = 0, ldb = 0, ldc = 0;      // row strides in elements
  int64_t batch = 1;                      // strided batches (0 stride: shared)
  int64_t stride_a = 0, stride_b = 0, stride_y = 0;
  float alpha = 1.0f, beta = 0.0f;
  const void* a = nullptr;
  const void* b = nullptr;
  void* y = nullptr;
  DType a_type = DType::kFloat32;  // A and B share a type
  DType y_type = DType::kFloat32;  // also the bias's type
  const void* bias = nullptr;      // [n] or null
  Activation activation = Activation::kNone;
};

// Enqueues the GEMM on ctx.stream; `workspace` (may be null) is scratch for
// cuBLASLt. kUnsupported for a type combination neither path implements.
Status RunGemm(const std::string& op, const CudaKernelContext& ctx, const GemmCall& call, void* workspace,
               size_t workspace_bytes);

// Converts n float32 values to `to` (float16 or bfloat16) on the stream.
Status ConvertFloats(const std::string& op, const float* in, void* out, DType to, int64_t n, cudaStream_t stream);

// Host conversion of float32 weights at load (round to nearest even).
std::vector<uint16_t> NarrowOnHost(const float* in, int64_t n, DType to);

// The dtype GEMMs use for float32 data at this precision.
inline DType ReducedType(Precision precision) {
  return precision == Precision::kFloat16    ? DType::kFloat16
         : precision == Precision::kBFloat16 ? DType::kBFloat16
                                             : DType::kFloat32;
}

}  // namespace maas::cuda
