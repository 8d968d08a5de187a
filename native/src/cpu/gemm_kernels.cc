// The SGEMM micro-kernels, written once with GCC vector extensions and
// compiled per ISA by the target attribute of thin wrappers:
//   AVX-512   12 x 32 tile, 24 zmm accumulators
//   AVX2+FMA   6 x 16 tile, 12 ymm accumulators
//   portable   4 x 8 tile of 128-bit vectors (SSE2 on x86, NEON elsewhere)
// Each tile shape is instantiated for every row count 1..mr, so a short edge
// (or a GEMM with a single row) does no multiply-adds on padding rows, and
// for two ways of finding B's rows: a packed panel, or rows left in place
// (an indirection table, for Conv's image columns).
//
// The templates are always inlined into the wrappers and live in an
// anonymous namespace, so no copy compiled for a wider ISA can be shared
// with (and run by) code for a narrower one.
#include <cstring>
#include <utility>

#include "cpu/gemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#define MAAS_GEMM_X86 1
#define MAAS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MAAS_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define MAAS_GEMM_X86 0
#endif
#define MAAS_ALWAYS_INLINE inline __attribute__((always_inline))

// The vector helpers below are always inlined into ISA-specific callers, so
// the calling-convention difference GCC warns about never materializes.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace maas {
namespace gemm {
namespace {

typedef float Vec16 __attribute__((vector_size(64)));
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec4 __attribute__((vector_size(16)));

template <typename Vec>
MAAS_ALWAYS_INLINE Vec LoadVec(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}
template <typename Vec>
MAAS_ALWAYS_INLINE void StoreVec(float* p, const Vec& v) {
  std::memcpy(p, &v, sizeof(Vec));
}
template <typename Vec>
MAAS_ALWAYS_INLINE Vec Splat(float x) {
  return Vec{} + x;
}

// Where row p of the B panel is: packed (kNr floats per row, one after the
// other) or in place (base + rows[p]).
template <int kNr>
struct PackedRows {
  const float* bp;
  MAAS_ALWAYS_INLINE const float* row(int64_t p) const { return bp + p * kNr; }
};
struct IndirectRows {
  const float* base;
  const int64_t* rows;
  MAAS_ALWAYS_INLINE const float* row(int64_t p) const { return base + rows[p]; }
};

// kRows x (kNv vectors) of C from an A panel with kMr-row strips. The k loop
// keeps every accumulator in a register: kRows * kNv + kNv + 1 vectors.
template <typename Vec, int kMr, int kRows, int kNv, typename BRows>
MAAS_ALWAYS_INLINE void MicroTile(int64_t kc, const float* __restrict ap, const BRows b_rows, float* c, int64_t ldc,
                                  float alpha, float beta, int cols, const TileEpilogue& ep) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  constexpr int kNr = kNv * kLanes;
  Vec acc[kRows][kNv];
#pragma GCC unroll 16
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) acc[i][j] = Vec{};
#pragma GCC unroll 16
  for (int i = 0; i < kRows; ++i) __builtin_prefetch(c + i * ldc, 1);
#pragma GCC unroll 8
  for (int64_t p = 0; p < kc; ++p) {
    const float* __restrict bp = b_rows.row(p);
    Vec b[kNv];
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) b[j] = LoadVec<Vec>(bp + j * kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < kRows; ++i) {
      const float a = ap[i];  // scalar * vector: one broadcast per a
#pragma GCC unroll 4
      for (int j = 0; j < kNv; ++j) acc[i][j] += a * b[j];
    }
    ap += kMr;
  }
  const Vec zero = Vec{};
  if (cols == kNr) {
#pragma GCC unroll 16
    for (int i = 0; i < kRows; ++i) {
      float* row = c + i * ldc;
      const Vec row_bias = ep.row_bias ? Splat<Vec>(ep.row_bias[i]) : zero;
#pragma GCC unroll 4
      for (int j = 0; j < kNv; ++j) {
        Vec out = alpha * acc[i][j];
        if (beta != 0.0f) out += beta * LoadVec<Vec>(row + j * kLanes);
        if (ep.bias) out += LoadVec<Vec>(ep.bias + j * kLanes);
        if (ep.row_bias) out += row_bias;
        if (ep.relu) out = out > zero ? out : zero;
        StoreVec(row + j * kLanes, out);
      }
    }
    return;
  }
  // Edge tile: spill the accumulators and write only the valid columns.
  float tile[kRows][kNr];
  std::memcpy(tile, acc, sizeof(tile));
  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < cols; ++j) {
      float out = alpha * tile[i][j];
      if (beta != 0.0f) out += beta * row[j];
      if (ep.bias) out += ep.bias[j];
      if (ep.row_bias) out += ep.row_bias[i];
      if (ep.relu) out = out > 0.0f ? out : 0.0f;
      row[j] = out;
    }
  }
}

// y[0, n) += a * x[0, n)
template <typename Vec>
MAAS_ALWAYS_INLINE void AxpyBody(int64_t n, float a, const float* x, float* y) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreVec(y + i, LoadVec<Vec>(y + i) + a * LoadVec<Vec>(x + i));
  for (; i < n; ++i) y[i] += a * x[i];
}

// sum x[i] * y[i] with four independent vector accumulators.
template <typename Vec>
MAAS_ALWAYS_INLINE float DotBody(int64_t n, const float* x, const float* y) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  Vec s0 = Vec{}, s1 = Vec{}, s2 = Vec{}, s3 = Vec{};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    s0 += LoadVec<Vec>(x + i) * LoadVec<Vec>(y + i);
    s1 += LoadVec<Vec>(x + i + kLanes) * LoadVec<Vec>(y + i + kLanes);
    s2 += LoadVec<Vec>(x + i + 2 * kLanes) * LoadVec<Vec>(y + i + 2 * kLanes);
    s3 += LoadVec<Vec>(x + i + 3 * kLanes) * LoadVec<Vec>(y + i + 3 * kLanes);
  }
  for (; i + kLanes <= n; i += kLanes) s0 += LoadVec<Vec>(x + i) * LoadVec<Vec>(y + i);
  Vec s = (s0 + s1) + (s2 + s3);
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += s[l];
  for (; i < n; ++i) total += x[i] * y[i];
  return total;
}

// One wrapper pair per (ISA, row count): B from a packed panel, or B's rows
// in place. Each ISA's tile is a struct template over the row count; the
// tables below are filled from it.
#define MAAS_MICRO_ARGS                                                                                   \
  int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, float alpha, float beta, int cols, \
      const TileEpilogue &ep
#define MAAS_INDIRECT_ARGS                                                                                     \
  int64_t kc, const float *ap, const float *b_base, const int64_t *b_rows, float *c, int64_t ldc, float alpha, \
      float beta, int cols, const TileEpilogue &ep

template <int kRows>
struct PortableTile {
  static constexpr int kMr = 4, kNv = 2, kNr = kNv * 4;
  static void Packed(MAAS_MICRO_ARGS) {
    MicroTile<Vec4, kMr, kRows, kNv>(kc, ap, PackedRows<kNr>{bp}, c, ldc, alpha, beta, cols, ep);
  }
  static void Indirect(MAAS_INDIRECT_ARGS) {
    MicroTile<Vec4, kMr, kRows, kNv>(kc, ap, IndirectRows{b_base, b_rows}, c, ldc, alpha, beta, cols, ep);
  }
};
void AxpyPortable(int64_t n, float a, const float* x, float* y) { AxpyBody<Vec4>(n, a, x, y); }
float DotPortable(int64_t n, const float* x, const float* y) { return DotBody<Vec4>(n, x, y); }

#if MAAS_GEMM_X86
template <int kRows>
struct Avx2Tile {
  static constexpr int kMr = 6, kNv = 2, kNr = kNv * 8;
  MAAS_TARGET_AVX2 static void Packed(MAAS_MICRO_ARGS) {
    MicroTile<Vec8, kMr, kRows, kNv>(kc, ap, PackedRows<kNr>{bp}, c, ldc, alpha, beta, cols, ep);
  }
  MAAS_TARGET_AVX2 static void Indirect(MAAS_INDIRECT_ARGS) {
    MicroTile<Vec8, kMr, kRows, kNv>(kc, ap, IndirectRows{b_base, b_rows}, c, ldc, alpha, beta, cols, ep);
  }
};
MAAS_TARGET_AVX2 void AxpyAvx2(int64_t n, float a, const float* x, float* y) { AxpyBody<Vec8>(n, a, x, y); }
MAAS_TARGET_AVX2 float DotAvx2(int64_t n, const float* x, const float* y) { return DotBody<Vec8>(n, x, y); }

template <int kRows>
struct Avx512Tile {
  static constexpr int kMr = 12, kNv = 2, kNr = kNv * 16;
  MAAS_TARGET_AVX512 static void Packed(MAAS_MICRO_ARGS) {
    MicroTile<Vec16, kMr, kRows, kNv>(kc, ap, PackedRows<kNr>{bp}, c, ldc, alpha, beta, cols, ep);
  }
  MAAS_TARGET_AVX512 static void Indirect(MAAS_INDIRECT_ARGS) {
    MicroTile<Vec16, kMr, kRows, kNv>(kc, ap, IndirectRows{b_base, b_rows}, c, ldc, alpha, beta, cols, ep);
  }
};
MAAS_TARGET_AVX512 void AxpyAvx512(int64_t n, float a, const float* x, float* y) { AxpyBody<Vec16>(n, a, x, y); }
MAAS_TARGET_AVX512 float DotAvx512(int64_t n, const float* x, const float* y) { return DotBody<Vec16>(n, x, y); }

// The AVX-512 shape in AVX2 code (each 512-bit vector is two ymm registers).
template <int kRows>
struct WideOnAvx2Tile {
  static constexpr int kMr = 12, kNv = 2, kNr = kNv * 16;
  MAAS_TARGET_AVX2 static void Packed(MAAS_MICRO_ARGS) {
    MicroTile<Vec16, kMr, kRows, kNv>(kc, ap, PackedRows<kNr>{bp}, c, ldc, alpha, beta, cols, ep);
  }
  MAAS_TARGET_AVX2 static void Indirect(MAAS_INDIRECT_ARGS) {
    MicroTile<Vec16, kMr, kRows, kNv>(kc, ap, IndirectRows{b_base, b_rows}, c, ldc, alpha, beta, cols, ep);
  }
};
#endif

#undef MAAS_MICRO_ARGS
#undef MAAS_INDIRECT_ARGS

template <template <int> class Tile, int... kRowsLess1>
void FillTables(IsaKernels* k, std::integer_sequence<int, kRowsLess1...> /*rows*/) {
  ((k->micro[kRowsLess1] = &Tile<kRowsLess1 + 1>::Packed), ...);
  ((k->micro_indirect[kRowsLess1] = &Tile<kRowsLess1 + 1>::Indirect), ...);
}

// The kernel set of one tile: micro[rows - 1] for every row count 1..mr.
template <template <int> class Tile>
IsaKernels MakeKernels(CpuIsa isa, AxpyFn axpy, DotFn dot) {
  constexpr int kMr = Tile<1>::kMr;
  static_assert(kMr <= kMaxMr, "the tables hold kMaxMr row counts");
  IsaKernels k{};
  k.isa = isa;
  k.mr = kMr;
  k.nr = Tile<1>::kNr;
  FillTables<Tile>(&k, std::make_integer_sequence<int, kMr>{});
  k.axpy = axpy;
  k.dot = dot;
  return k;
}

}  // namespace

const IsaKernels& KernelsFor(CpuIsa isa) {
  static const IsaKernels portable = MakeKernels<PortableTile>(CpuIsa::kPortable, AxpyPortable, DotPortable);
#if MAAS_GEMM_X86
  static const IsaKernels avx2 = MakeKernels<Avx2Tile>(CpuIsa::kAvx2Fma, AxpyAvx2, DotAvx2);
  static const IsaKernels avx512 = MakeKernels<Avx512Tile>(CpuIsa::kAvx512, AxpyAvx512, DotAvx512);
  switch (UsableIsa(isa)) {
    case CpuIsa::kAvx512: return avx512;
    case CpuIsa::kAvx2Fma: return avx2;
    case CpuIsa::kPortable: break;
  }
#endif
  return portable;
}

const IsaKernels* Avx512LayoutOnAvx2() {
#if MAAS_GEMM_X86
  static const IsaKernels wide = MakeKernels<WideOnAvx2Tile>(CpuIsa::kAvx2Fma, AxpyAvx2, DotAvx2);
  if (CpuSupportsIsa(CpuIsa::kAvx2Fma)) return &wide;
#endif
  return nullptr;
}

}  // namespace gemm
}  // namespace maas
