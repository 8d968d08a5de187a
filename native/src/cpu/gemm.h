// Single-precision GEMM for the CPU backend:
//   C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C
// row-major with leading dimensions, op(X) = X or X^T. beta == 0 overwrites C
// without reading it (NaNs in C are ignored, as BLAS does).
//
// The kernel is picked once from the CPU's features (AVX2+FMA, else a
// portable SSE-width path); both give the same results within float rounding.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "ops/activation.h"

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

// op(B) [k, n] packed once, in the blocked kernel's strip layout for one ISA,
// for reuse across calls (a constant weight). Read-only after PackSgemmB, so
// one PackedB may serve concurrent calls.
struct PackedB {
  CpuIsa isa = CpuIsa::kPortable;
  int nr = 0;
  int64_t k = 0, n = 0;
  std::vector<int64_t> offsets;  // per (column block, depth slice): start in data
  std::vector<float> data;
};

// Packs op(B) ([k, n]; B stored with row stride ldb, transposed when trans_b)
// for the ISA Sgemm uses. Never null for k, n > 0.
std::unique_ptr<PackedB> PackSgemmB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb);
std::unique_ptr<PackedB> PackSgemmBWithIsa(CpuIsa isa, bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb);

// Work applied to C after the product, while each tile is still in cache:
//   C = act(alpha * op(A) op(B) + beta * C + bias)
// in that order, with the same float operations as running the product,
// then an Add of the bias, then the activation as separate ops.
struct GemmEpilogue {
  const float* bias = nullptr;  // [n], added to every row; null: none
  ActivationSpec activation;
};

// For a kernel's load-time prepare: packs input 1 of `node` when it is a
// constant 2-D float32 B (op(B) with trans_b), else leaves *prepared null.
// *state_bytes: the packed copy's size.
struct NodeDesc;
void PrepareConstantB(const NodeDesc& node, bool trans_b, std::shared_ptr<const void>* prepared, size_t* state_bytes);

// pool may be null (single-threaded). Must not be called from inside a
// ParallelFor of the same pool; pass null there.
// `packed_b`, when given, must be op(B) of this call packed by PackSgemmB
// (shape.k, shape.n equal); `b` must still point at B: shapes that do not use
// the packed layout (tiny M, N == 1) read it directly. A packed_b for another
// ISA or shape is ignored.
// `epilogue` may be null (none).
void Sgemm(const SgemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c, ThreadPool* pool,
           const PackedB* packed_b = nullptr, const GemmEpilogue* epilogue = nullptr);

// The same with the ISA forced (tests compare the paths against each other).
// Asking for kAvx2Fma on a CPU without it runs the portable path.
void SgemmWithIsa(CpuIsa isa, const SgemmShape& shape, float alpha, const float* a, const float* b, float beta,
                  float* c, ThreadPool* pool, const PackedB* packed_b = nullptr,
                  const GemmEpilogue* epilogue = nullptr);

}  // namespace maas
