// Shared by the SGEMM's parts (gemm.cc: entry and small shapes,
// gemm_blocked.cc: the packed driver, gemm_pack.cc: packing, gemm_kernels.cc:
// the micro-kernels per ISA). Not for kernels: they use cpu/gemm.h.
#pragma once
#include <cstdint>

#include "cpu/cpu_features.h"
#include "cpu/gemm.h"
#include "cpu/thread_pool.h"

namespace maas {
namespace gemm {

// Block sizes: a packed A block (kMc x kKc floats, 96 KiB) lives in L2, one
// packed B strip (kKc x nr floats, 16 KiB for AVX2) in L1, a packed B slice
// (kKc x kNc, 2 MiB) in L3.
constexpr int64_t kKc = 256;
// The depth step: k cut into slices of at most kKc, as even as possible
// (a multiple of 8), so no slice is a thin remainder (k = 784: 4 x 196,
// not 3 x 256 + 16). Packing and driver cut the same way.
inline int64_t DepthStep(int64_t k) {
  const int64_t slices = (k + kKc - 1) / kKc;
  const int64_t even = (k + slices - 1) / slices;
  const int64_t rounded = (even + 7) / 8 * 8;
  return rounded < kKc ? rounded : kKc;
}
constexpr int64_t kMc = 96;  // a multiple of every ISA's mr
constexpr int64_t kNc = 2048;
// The widest tile any ISA uses (AVX-512: 12 x 32).
constexpr int kMaxMr = 12;
constexpr int kMaxNr = 32;

// op(X) as a strided view: element (r, c) at data[r * rs + c * cs].
struct MatrixView {
  const float* data;
  int64_t rs, cs;
  float at(int64_t r, int64_t c) const { return data[r * rs + c * cs]; }
};

// What a micro-kernel does with its tile after the product, on the last
// depth slice (earlier slices pass an empty one): bias per column of the
// tile, bias per row, then Relu. Other activations run after the tile.
struct TileEpilogue {
  const float* bias = nullptr;
  const float* row_bias = nullptr;
  bool relu = false;
};

// C[rows, cols] = alpha * Apanel * Bpanel + beta * C, then the epilogue,
// where Apanel is kc x mr (k-major) and Bpanel kc x nr (k-major), both
// zero-padded to full tiles; rows in [1, mr], cols in [1, nr].
using MicroFn = void (*)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, float alpha, float beta,
                         int cols, const TileEpilogue& epilogue);
// The same with B read in place: row p of the B panel is the nr floats at
// b_base + b_rows[p] (GemmBSource::strip_base).
using MicroIndirectFn = void (*)(int64_t kc, const float* ap, const float* b_base, const int64_t* b_rows, float* c,
                                 int64_t ldc, float alpha, float beta, int cols, const TileEpilogue& epilogue);
using AxpyFn = void (*)(int64_t n, float a, const float* x, float* y);  // y += a * x
using DotFn = float (*)(int64_t n, const float* x, const float* y);

struct IsaKernels {
  CpuIsa isa;
  int mr, nr;
  MicroFn micro[kMaxMr];  // micro[rows - 1]: a tile with that many valid rows
  MicroIndirectFn micro_indirect[kMaxMr];
  AxpyFn axpy;
  DotFn dot;
};

// The kernels for `isa` (which the CPU must support).
const IsaKernels& KernelsFor(CpuIsa isa);
// The AVX-512 tile shape (12 x 32, 512-bit vectors) compiled for AVX2: lets
// a machine without AVX-512 test the packing and edge handling that shape
// uses. Null where AVX2 is missing.
const IsaKernels* Avx512LayoutOnAvx2();

// Rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into mr-row strips.
void PackA(const MatrixView& a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr, float* dst);
// Strips [t0, t1) (nr columns each, from column j0) x depth [p0, p0+kc) of op(B).
void PackBStrips(const MatrixView& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0, int64_t t1,
                 float* dst);
// The packings of a whole constant operand, for a given kernel set.
std::unique_ptr<PackedA> PackAWith(const IsaKernels& kernels, const MatrixView& a, int64_t m, int64_t k);
std::unique_ptr<PackedB> PackBWith(const IsaKernels& kernels, const MatrixView& b, int64_t k, int64_t n);

// The packed driver; pool already decided (null: this thread only).
// False when B comes from args.b_source and no scratch memory was to be had.
bool GemmBlocked(const IsaKernels& kernels, const SgemmArgs& args, const MatrixView& a, const MatrixView& b,
                 ThreadPool* pool, const PackedA* packed_a, const PackedB* packed_b);

// Sgemm with the kernel set given (tests run it with Avx512LayoutOnAvx2).
bool SgemmWithKernels(const IsaKernels& kernels, const SgemmArgs& args, ThreadPool* pool);

// The epilogue on C[i0, i1) x [j0, j1), for paths that do not apply it in
// the micro-kernel: bias, row bias, then the activation, row by row.
void ApplyEpilogue(const GemmEpilogue* epilogue, float* c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1);

// fn over [0, n) on the pool when there is one and n > grain, else inline.
void RunParallel(ThreadPool* pool, int64_t n, int64_t grain, RangeFn fn);

}  // namespace gemm
}  // namespace maas
