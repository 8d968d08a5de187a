// Single-precision GEMM for the CPU backend:
//   C[m,n] = act(alpha * op(A)[m,k] * op(B)[k,n] + beta * C + bias)
// row-major with leading dimensions, op(X) = X or X^T. beta == 0 overwrites C
// without reading it (NaNs in C are ignored, as BLAS does).
//
// Packed and cache-blocked (gemm_blocked.cc) around register-tiled
// micro-kernels per ISA (gemm_kernels.cc): AVX-512 (12x32 tile), AVX2+FMA
// (6x16), and a portable 128-bit path, chosen at run time from the CPU's
// features (cpu/cpu_features.h). Every ISA computes each element as the same
// k-ordered sum of products, so they agree to float rounding (FMA or not).
// Small shapes (a few rows, N == 1) skip the packing (gemm.cc).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/aligned_floats.h"
#include "cpu/cpu_features.h"
#include "ops/activation.h"

namespace maas {

class ThreadPool;
struct NodeDesc;

struct SgemmShape {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // row strides of A, B, C as stored
};

// op(B) [k, n] packed once, in the blocked kernel's strip layout for one ISA,
// for reuse across calls (a constant weight). Read-only once packed, so one
// PackedB may serve concurrent calls.
struct PackedB {
  CpuIsa isa = CpuIsa::kPortable;
  int nr = 0;
  int64_t k = 0, n = 0;
  std::vector<int64_t> offsets;  // per (column block, depth slice): start in data
  AlignedFloats data;
  size_t size_bytes() const { return data.size() * sizeof(float); }
};

// op(A) [m, k] packed once (Conv's weights, the A side of its GEMM).
struct PackedA {
  CpuIsa isa = CpuIsa::kPortable;
  int mr = 0;
  int64_t m = 0, k = 0;
  std::vector<int64_t> offsets;  // per (row block, depth slice): start in data
  AlignedFloats data;
  size_t size_bytes() const { return data.size() * sizeof(float); }
};

// Packs op(B) ([k, n]; B stored with row stride ldb, transposed when trans_b)
// for `isa` (downgraded to one the CPU runs). Null only when out of memory.
std::unique_ptr<PackedB> PackSgemmB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                                    CpuIsa isa = DetectCpuIsa());
// Packs op(A) ([m, k]; A stored with row stride lda, transposed when trans_a).
std::unique_ptr<PackedA> PackSgemmA(bool trans_a, int64_t m, int64_t k, const float* a, int64_t lda,
                                    CpuIsa isa = DetectCpuIsa());

// Work applied to C after the product, while each tile is still in cache:
//   C = act(alpha * op(A) op(B) + beta * C + bias + row_bias)
// in that order, with the same float operations as running the product,
// then an Add of the bias, then the activation as separate ops.
struct GemmEpilogue {
  const float* bias = nullptr;      // [n], added to every row; null: none
  const float* row_bias = nullptr;  // [m], added to every column (Conv's per-channel bias); null: none
  ActivationSpec activation;
  bool empty() const { return !bias && !row_bias && activation.kind == Activation::kNone; }
};

// A B operand that is never stored whole: packs op(B)'s strips [t0, t1)
// (nr columns each, from column j0 of a column block nc wide) over depth
// [p0, p0 + kc) into dst, in the layout the blocked driver packs into
// (strip t at dst + t * kc * nr, k-major, columns past nc zero). Conv uses
// it to pack image columns straight from the input (implicit Im2Col).
struct GemmBSource {
  void (*pack)(const void* context, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0, int64_t t1,
               float* dst) = nullptr;
  const void* context = nullptr;
  // Optional: strips whose rows already lie in memory as nr contiguous
  // floats are read in place instead of packed (an indirection table, as in
  // an indirect GEMM). strip_base gives, for the strip starting at column j,
  // the address such that its row p is base + row_offsets[p]; null when
  // that strip has to be packed.
  const float* (*strip_base)(const void* context, int64_t j, int nr) = nullptr;
  const int64_t* row_offsets = nullptr;  // one per row of op(B) (k of them)
};

struct SgemmArgs {
  SgemmShape shape;
  float alpha = 1.0f;
  float beta = 0.0f;
  const float* a = nullptr;  // always set, also when packed: some paths read them
  const float* b = nullptr;
  float* c = nullptr;
  // When given, op(A) / op(B) of this call packed by PackSgemmA / PackSgemmB;
  // one for another shape or ISA is ignored. Paths that do not pack (N == 1,
  // no scratch memory) read a and b directly.
  const PackedA* packed_a = nullptr;
  const PackedB* packed_b = nullptr;
  // When set, B comes from here (b and packed_b are not read) and the
  // blocked driver always runs.
  const GemmBSource* b_source = nullptr;
  const GemmEpilogue* epilogue = nullptr;  // null: none
};

// pool may be null (single-threaded). May be called from inside a
// ParallelFor of the same pool (the pool runs nested calls inline when its
// threads are busy). `isa` is downgraded to one the CPU runs. False only
// when a b_source call finds no memory for its packing scratch (every other
// form falls back to unpacked loops).
bool Sgemm(const SgemmArgs& args, ThreadPool* pool, CpuIsa isa = DetectCpuIsa());

// The classic form: `packed_b`, when given, is op(B) packed by PackSgemmB.
inline void Sgemm(const SgemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c,
                  ThreadPool* pool, const PackedB* packed_b = nullptr, const GemmEpilogue* epilogue = nullptr) {
  SgemmArgs args;
  args.shape = shape;
  args.alpha = alpha;
  args.beta = beta;
  args.a = a;
  args.b = b;
  args.c = c;
  args.packed_b = packed_b;
  args.epilogue = epilogue;
  Sgemm(args, pool);
}

// For a kernel's load-time prepare: packs input 1 of `node` when it is a
// constant 2-D float32 B (op(B) with trans_b), else leaves *prepared null.
// *state_bytes: the packed copy's size.
void PrepareConstantB(const NodeDesc& node, bool trans_b, std::shared_ptr<const void>* prepared, size_t* state_bytes);

}  // namespace maas
