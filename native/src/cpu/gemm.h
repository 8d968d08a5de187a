// Single-precision GEMM for the CPU backend:
//   C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C
// row-major with leading dimensions, op(X) = X or X^T. beta == 0 overwrites C
// without reading it (NaNs in C are ignored, as BLAS does).
//
// The kernel is picked once from the CPU's features (AVX2+FMA, else a
// portable SSE-width path); both give the same results within float rounding.
#pragma once
#include <cstdint>

namespace maas {

class ThreadPool;

enum class CpuIsa { kPortable, kAvx2Fma };

// The best ISA this CPU supports (detected once).
CpuIsa DetectCpuIsa();
const char* CpuIsaName(CpuIsa isa);

struct SgemmShape {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // row strides of A, B, C as stored
};

// pool may be null (single-threaded). Must not be called from inside a
// ParallelFor of the same pool; pass null there.
void Sgemm(const SgemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c,
           ThreadPool* pool);

// The same with the ISA forced (tests compare the paths against each other).
// Asking for kAvx2Fma on a CPU without it runs the portable path.
void SgemmWithIsa(CpuIsa isa, const SgemmShape& shape, float alpha, const float* a, const float* b, float beta,
                  float* c, ThreadPool* pool);

}  // namespace maas
