// Blocked SGEMM in the Goto/BLIS style:
//   for each kNc-wide column block of C
//     for each kKc-deep slice of k: pack B's slice into kNr-wide strips
//       tasks over (kMc-row block of A, group of B strips), each packs its A
//       block into kMr-row strips and runs the register-tiled micro-kernel.
// The micro-kernel is written once with GCC vector extensions and compiled
// twice: for AVX2+FMA (6x16 tile, 12 ymm accumulators) and for the baseline
// ISA (4x8 tile of 128-bit vectors). Small shapes (m <= 4, n == 1) skip the
// packing, which would cost as much as the arithmetic.
#include "cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpu/activation.h"
#include "cpu/thread_pool.h"
#include "maas/op_types.h"

#if defined(__x86_64__) || defined(__i386__)
#define MAAS_GEMM_X86 1
#define MAAS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define MAAS_GEMM_X86 0
#define MAAS_TARGET_AVX2
#endif
#define MAAS_ALWAYS_INLINE inline __attribute__((always_inline))

// The vector helpers below are always inlined into ISA-specific callers, so
// the calling-convention difference GCC warns about never materializes.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace maas {
namespace {

typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec4 __attribute__((vector_size(16)));

// Block sizes: a packed A block (kMc x kKc floats, 96 KiB) lives in L2, one
// packed B strip (kKc x 16 floats, 16 KiB) in L1.
constexpr int64_t kKc = 256;
constexpr int64_t kMc = 96;  // a multiple of every kMr below
constexpr int64_t kNc = 2048;
// Below this many multiply-adds, waking the pool costs more than it saves.
constexpr int64_t kParallelMinMacs = 1 << 16;
// Small-shape paths: rows of C handled by axpy/dot instead of packing.
constexpr int64_t kSmallM = 4;

// op(X) as a strided view: element (r, c) at data[r * rs + c * cs].
struct MatrixView {
  const float* data;
  int64_t rs, cs;
  float at(int64_t r, int64_t c) const { return data[r * rs + c * cs]; }
};

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

// C[rows, cols] = alpha * Apanel * Bpanel + beta * C (+ bias[cols], then
// Relu when asked: the last depth slice's part of the epilogue), where Apanel
// is kc x kMr (k-major) and Bpanel kc x kNr (k-major), both zero-padded to
// full tiles.
template <typename Vec, int kMr, int kNv>
MAAS_ALWAYS_INLINE void MicroTile(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* c,
                                  int64_t ldc, float alpha, float beta, int rows, int cols, const float* bias,
                                  bool relu) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  constexpr int kNr = kNv * kLanes;
  Vec acc[kMr][kNv];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) acc[i][j] = Vec{};
  for (int64_t p = 0; p < kc; ++p) {
    Vec b[kNv];
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) b[j] = LoadVec<Vec>(bp + j * kLanes);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const float a = ap[i];  // scalar * vector: GCC emits one broadcast per a
#pragma GCC unroll 4
      for (int j = 0; j < kNv; ++j) acc[i][j] += a * b[j];
    }
    ap += kMr;
    bp += kNr;
  }
  if (rows == kMr && cols == kNr) {
    const Vec zero = Vec{};
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      float* row = c + i * ldc;
#pragma GCC unroll 4
      for (int j = 0; j < kNv; ++j) {
        Vec out = alpha * acc[i][j];
        if (beta != 0.0f) out += beta * LoadVec<Vec>(row + j * kLanes);
        if (bias) out += LoadVec<Vec>(bias + j * kLanes);
        if (relu) out = out > zero ? out : zero;
        StoreVec(row + j * kLanes, out);
      }
    }
    return;
  }
  // Edge tile: spill the accumulators and write only the valid part.
  float tile[kMr][kNr];
  std::memcpy(tile, acc, sizeof(tile));
  for (int i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < cols; ++j) {
      float out = alpha * tile[i][j] + (beta != 0.0f ? beta * row[j] : 0.0f);
      if (bias) out += bias[j];
      if (relu) out = ReluFn::Apply(out);
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

using MicroFn = void (*)(int64_t, const float*, const float*, float*, int64_t, float, float, int, int, const float*,
                         bool);
using AxpyFn = void (*)(int64_t, float, const float*, float*);
using DotFn = float (*)(int64_t, const float*, const float*);

void MicroTilePortable(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, float alpha, float beta,
                       int rows, int cols, const float* bias, bool relu) {
  MicroTile<Vec4, 4, 2>(kc, ap, bp, c, ldc, alpha, beta, rows, cols, bias, relu);
}
void AxpyPortable(int64_t n, float a, const float* x, float* y) { AxpyBody<Vec4>(n, a, x, y); }
float DotPortable(int64_t n, const float* x, const float* y) { return DotBody<Vec4>(n, x, y); }

#if MAAS_GEMM_X86
MAAS_TARGET_AVX2 void MicroTileAvx2(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, float alpha,
                                    float beta, int rows, int cols, const float* bias, bool relu) {
  MicroTile<Vec8, 6, 2>(kc, ap, bp, c, ldc, alpha, beta, rows, cols, bias, relu);
}
MAAS_TARGET_AVX2 void AxpyAvx2(int64_t n, float a, const float* x, float* y) { AxpyBody<Vec8>(n, a, x, y); }
MAAS_TARGET_AVX2 float DotAvx2(int64_t n, const float* x, const float* y) { return DotBody<Vec8>(n, x, y); }
#endif

struct IsaKernels {
  MicroFn micro;
  int mr, nr;
  AxpyFn axpy;
  DotFn dot;
};

const IsaKernels& KernelsFor(CpuIsa isa) {
  static const IsaKernels portable{MicroTilePortable, 4, 8, AxpyPortable, DotPortable};
#if MAAS_GEMM_X86
  static const IsaKernels avx2{MicroTileAvx2, 6, 16, AxpyAvx2, DotAvx2};
  if (isa == CpuIsa::kAvx2Fma && DetectCpuIsa() == CpuIsa::kAvx2Fma) return avx2;
#endif
  return portable;
}

// A per-thread, 64-byte aligned scratch area that only grows.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer() { std::free(data_); }
  // It owns data_: a copy would free it twice.
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  float* Get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      capacity_ = data_ ? floats : 0;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local ScratchBuffer tls_a_pack;
thread_local ScratchBuffer tls_b_pack;

void ScaleRows(int64_t rows, int64_t j0, int64_t j1, float beta, float* c, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < rows; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      std::fill(row + j0, row + j1, 0.0f);
    } else {
      for (int64_t j = j0; j < j1; ++j) row[j] *= beta;
    }
  }
}

// The epilogue on C[i0, i1) x [j0, j1), for paths that do not apply it in
// the micro-kernel: bias, then the activation, row by row.
void ApplyEpilogue(const GemmEpilogue* epilogue, float* c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                   int64_t j1) {
  if (!epilogue || j1 <= j0) return;
  for (int64_t i = i0; i < i1; ++i) {
    float* row = c + i * ldc;
    if (epilogue->bias)
      for (int64_t j = j0; j < j1; ++j) row[j] += epilogue->bias[j];
    ApplyActivation(epilogue->activation, row + j0, j1 - j0);
  }
}

// Rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into mr-row strips.
void PackA(const MatrixView& a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t s = 0; s < mc; s += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - s);
    for (int64_t p = 0; p < kc; ++p) {
      float* d = dst + p * mr;
      for (int64_t r = 0; r < rows; ++r) d[r] = a.at(i0 + s + r, p0 + p);
      for (int64_t r = rows; r < mr; ++r) d[r] = 0.0f;
    }
    dst += kc * mr;
  }
}

// Strips [t0, t1) (nr columns each, from column j0) x depth [p0, p0+kc) of op(B).
void PackBStrips(const MatrixView& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0, int64_t t1,
                 float* dst) {
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t j = j0 + t * nr;
    const int64_t cols = std::min<int64_t>(nr, nc - t * nr);
    float* d = dst + t * kc * nr;
    for (int64_t p = 0; p < kc; ++p, d += nr) {
      if (b.cs == 1 && cols == nr) {
        std::memcpy(d, b.data + (p0 + p) * b.rs + j, sizeof(float) * nr);
        continue;
      }
      for (int64_t c = 0; c < cols; ++c) d[c] = b.at(p0 + p, j + c);
      for (int64_t c = cols; c < nr; ++c) d[c] = 0.0f;
    }
  }
}

// Unpacked fallback for when scratch memory cannot be had.
void NaiveBlock(const MatrixView& a, const MatrixView& b, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t p0,
                int64_t p1, float alpha, float beta, float* c, int64_t ldc) {
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t j = j0; j < j1; ++j) {
      float sum = 0.0f;
      for (int64_t p = p0; p < p1; ++p) sum += a.at(i, p) * b.at(p, j);
      float& out = c[i * ldc + j];
      out = alpha * sum + (beta != 0.0f ? beta * out : 0.0f);
    }
}

void RunParallel(ThreadPool* pool, int64_t n, int64_t grain, RangeFn fn) {
  if (pool && n > grain) {
    pool->ParallelFor(n, grain, fn);
  } else if (n > 0) {
    fn(0, n);
  }
}

// `packed`, when non-null, holds every (column block, depth slice) of op(B)
// already packed (PackSgemmB), and B is not read.
void GemmBlocked(const IsaKernels& isa, int64_t m, int64_t n, int64_t k, float alpha, const MatrixView& a,
                 const MatrixView& b, float beta, float* c, int64_t ldc, ThreadPool* pool, const PackedB* packed,
                 const GemmEpilogue* epilogue) {
  // Bias and Relu run inside the micro-kernel on the last depth slice; other
  // activations right after it, on the tile it just wrote.
  const bool relu_in_tile = epilogue && epilogue->activation.kind == Activation::kRelu;
  const bool act_after_tile = epilogue && !relu_in_tile && epilogue->activation.kind != Activation::kNone;
  const int mr = isa.mr, nr = isa.nr;
  const int64_t threads = pool ? pool->num_threads() : 1;
  const int64_t m_blocks = (m + kMc - 1) / kMc;
  const int64_t k_slices = (k + kKc - 1) / kKc;
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    const int64_t strips = (nc + nr - 1) / nr;
    // Split B's strips into groups only as far as needed to feed every thread.
    int64_t groups = std::min<int64_t>(strips, (2 * threads + m_blocks - 1) / m_blocks);
    groups = std::max<int64_t>(1, groups);
    const int64_t strips_per_group = (strips + groups - 1) / groups;
    groups = (strips + strips_per_group - 1) / strips_per_group;

    for (int64_t pc = 0; pc < k; pc += kKc) {
      const int64_t kc = std::min(kKc, k - pc);
      const float beta_now = pc == 0 ? beta : 1.0f;  // later slices accumulate
      const bool last_slice = pc + kc >= k;
      const float* b_pack;
      if (packed) {
        b_pack = packed->data.data() + packed->offsets[(jc / kNc) * k_slices + pc / kKc];
      } else {
        float* b_scratch = tls_b_pack.Get(static_cast<size_t>(strips * nr * kc));
        if (!b_scratch) {
          NaiveBlock(a, b, 0, m, jc, jc + nc, pc, pc + kc, alpha, beta_now, c, ldc);
          if (last_slice) ApplyEpilogue(epilogue, c, ldc, 0, m, jc, jc + nc);
          continue;
        }
        RunParallel(pool, strips, std::max<int64_t>(1, 16384 / (kc * nr)),
                    [&](int64_t t0, int64_t t1) { PackBStrips(b, pc, kc, jc, nc, nr, t0, t1, b_scratch); });
        b_pack = b_scratch;
      }

      RunParallel(pool, m_blocks * groups, 1, [&](int64_t task0, int64_t task1) {
        float* a_pack = tls_a_pack.Get(static_cast<size_t>(kMc * kc));
        int64_t packed_block = -1;
        for (int64_t task = task0; task < task1; ++task) {
          const int64_t block = task / groups, group = task % groups;
          const int64_t i0 = block * kMc;
          const int64_t mc = std::min(kMc, m - i0);
          const int64_t t0 = group * strips_per_group;
          const int64_t t1 = std::min(strips, t0 + strips_per_group);
          if (!a_pack) {
            const int64_t j0 = jc + t0 * nr, j1 = std::min(n, jc + t1 * nr);
            NaiveBlock(a, b, i0, i0 + mc, j0, j1, pc, pc + kc, alpha, beta_now, c, ldc);
            if (last_slice) ApplyEpilogue(epilogue, c, ldc, i0, i0 + mc, j0, j1);
            continue;
          }
          if (block != packed_block) {
            PackA(a, i0, mc, pc, kc, mr, a_pack);
            packed_block = block;
          }
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t j = jc + t * nr;
            const int cols = static_cast<int>(std::min<int64_t>(nr, nc - t * nr));
            const float* b_strip = b_pack + t * kc * nr;
            const float* bias = last_slice && epilogue && epilogue->bias ? epilogue->bias + j : nullptr;
            const bool relu = last_slice && relu_in_tile;
            for (int64_t ir = 0; ir < mc; ir += mr) {
              const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
              float* c_tile = c + (i0 + ir) * ldc + j;
              isa.micro(kc, a_pack + ir * kc, b_strip, c_tile, ldc, alpha, beta_now, rows, cols, bias, relu);
              if (last_slice && act_after_tile)
                for (int r = 0; r < rows; ++r) ApplyActivation(epilogue->activation, c_tile + r * ldc, cols);
            }
          }
        }
      });
    }
  }
}

// m <= kSmallM and B's rows contiguous: each C row is a sum of scaled B rows.
void GemmSmallMAxpy(const IsaKernels& isa, int64_t m, int64_t n, int64_t k, float alpha, const MatrixView& a,
                    const MatrixView& b, float beta, float* c, int64_t ldc, ThreadPool* pool,
                    const GemmEpilogue* epilogue) {
  constexpr int64_t kColumnTile = 1024;  // keeps the C rows in L1 across p
  const int64_t grain = std::max<int64_t>(64, 65536 / std::max<int64_t>(1, k * m));
  RunParallel(pool, n, grain, [&](int64_t j0, int64_t j1) {
    for (int64_t jt = j0; jt < j1; jt += kColumnTile) {
      const int64_t width = std::min(kColumnTile, j1 - jt);
      ScaleRows(m, jt, jt + width, beta, c, ldc);
      for (int64_t p = 0; p < k; ++p) {
        const float* b_row = b.data + p * b.rs + jt;
        for (int64_t i = 0; i < m; ++i) isa.axpy(width, alpha * a.at(i, p), b_row, c + i * ldc + jt);
      }
      ApplyEpilogue(epilogue, c, ldc, 0, m, jt, jt + width);
    }
  });
}

// Dot-product form: C(i, j) = alpha * <row i of op(A), column j of op(B)>, with
// the rows of op(A) and columns of op(B) contiguous (gathered when strided).
void GemmDots(const IsaKernels& isa, int64_t m, int64_t n, int64_t k, float alpha, const MatrixView& a,
              const MatrixView& b, float beta, float* c, int64_t ldc, ThreadPool* pool, const GemmEpilogue* epilogue) {
  std::vector<float> a_rows, b_cols;
  const float* a_base = a.data;
  int64_t a_stride = a.rs;
  if (a.cs != 1) {
    a_rows.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) a_rows[i * k + p] = a.at(i, p);
    a_base = a_rows.data();
    a_stride = k;
  }
  const float* b_base = b.data;
  int64_t b_stride = b.cs;
  if (b.rs != 1) {
    b_cols.resize(static_cast<size_t>(n * k));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) b_cols[j * k + p] = b.at(p, j);
    b_base = b_cols.data();
    b_stride = k;
  }
  const bool over_rows = m >= n;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, k * (over_rows ? n : m)));
  RunParallel(pool, over_rows ? m : n, grain, [&](int64_t r0, int64_t r1) {
    const int64_t i0 = over_rows ? r0 : 0, i1 = over_rows ? r1 : m;
    const int64_t j0 = over_rows ? 0 : r0, j1 = over_rows ? n : r1;
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = j0; j < j1; ++j) {
        float& out = c[i * ldc + j];
        const float dot = isa.dot(k, a_base + i * a_stride, b_base + j * b_stride);
        out = alpha * dot + (beta != 0.0f ? beta * out : 0.0f);
      }
    ApplyEpilogue(epilogue, c, ldc, i0, i1, j0, j1);
  });
}

}  // namespace

CpuIsa DetectCpuIsa() {
#if MAAS_GEMM_X86
  static const CpuIsa isa =
      (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? CpuIsa::kAvx2Fma : CpuIsa::kPortable;
  return isa;
#else
  return CpuIsa::kPortable;
#endif
}

const char* CpuIsaName(CpuIsa isa) { return isa == CpuIsa::kAvx2Fma ? "avx2-fma" : "portable"; }

std::unique_ptr<PackedB> PackSgemmBWithIsa(CpuIsa isa_choice, bool trans_b, int64_t k, int64_t n, const float* b,
                                           int64_t ldb) {
  const IsaKernels& isa = KernelsFor(isa_choice);
  std::unique_ptr<PackedB> packed(new PackedB());
  packed->isa = isa.micro == KernelsFor(CpuIsa::kPortable).micro ? CpuIsa::kPortable : CpuIsa::kAvx2Fma;
  packed->nr = isa.nr;
  packed->k = k;
  packed->n = n;
  if (k <= 0 || n <= 0) return packed;
  const MatrixView bv = trans_b ? MatrixView{b, 1, ldb} : MatrixView{b, ldb, 1};
  const int nr = isa.nr;
  size_t total = 0;
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t strips = (std::min(kNc, n - jc) + nr - 1) / nr;
    for (int64_t pc = 0; pc < k; pc += kKc) {
      packed->offsets.push_back(static_cast<int64_t>(total));
      total += static_cast<size_t>(strips * nr * std::min(kKc, k - pc));
    }
  }
  packed->data.resize(total);
  size_t slot = 0;
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    const int64_t strips = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < k; pc += kKc, ++slot)
      PackBStrips(bv, pc, std::min(kKc, k - pc), jc, nc, nr, 0, strips, packed->data.data() + packed->offsets[slot]);
  }
  return packed;
}

std::unique_ptr<PackedB> PackSgemmB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb) {
  return PackSgemmBWithIsa(DetectCpuIsa(), trans_b, k, n, b, ldb);
}

void PrepareConstantB(const NodeDesc& node, bool trans_b, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
  const Tensor* b = node.inputs.size() >= 2 ? node.inputs[1].constant : nullptr;
  if (!b || b->dtype != DType::kFloat32 || b->shape.size() != 2 || b->num_elements() == 0) return;
  const int64_t k = trans_b ? b->shape[1] : b->shape[0];
  const int64_t n = trans_b ? b->shape[0] : b->shape[1];
  std::shared_ptr<const PackedB> packed(PackSgemmB(trans_b, k, n, b->data<float>(), b->shape[1]));
  *state_bytes = packed->data.size() * sizeof(float);
  *prepared = std::move(packed);
}

void SgemmWithIsa(CpuIsa isa_choice, const SgemmShape& s, float alpha, const float* a, const float* b, float beta,
                  float* c, ThreadPool* pool, const PackedB* packed_b, const GemmEpilogue* epilogue) {
  if (s.m <= 0 || s.n <= 0) return;
  if (s.k <= 0 || alpha == 0.0f) {
    ScaleRows(s.m, 0, s.n, beta, c, s.ldc);
    ApplyEpilogue(epilogue, c, s.ldc, 0, s.m, 0, s.n);
    return;
  }
  const MatrixView av = s.trans_a ? MatrixView{a, 1, s.lda} : MatrixView{a, s.lda, 1};
  const MatrixView bv = s.trans_b ? MatrixView{b, 1, s.ldb} : MatrixView{b, s.ldb, 1};
  const IsaKernels& isa = KernelsFor(isa_choice);
  if (pool && (pool->num_threads() <= 1 || s.m * s.n * s.k < kParallelMinMacs)) pool = nullptr;

  if (s.m <= kSmallM && !s.trans_b) {
    GemmSmallMAxpy(isa, s.m, s.n, s.k, alpha, av, bv, beta, c, s.ldc, pool, epilogue);
  } else if ((s.m <= kSmallM && s.trans_b) || (s.n == 1 && !s.trans_a)) {
    GemmDots(isa, s.m, s.n, s.k, alpha, av, bv, beta, c, s.ldc, pool, epilogue);
  } else {
    const bool use_packed =
        packed_b && packed_b->nr == isa.nr && packed_b->k == s.k && packed_b->n == s.n && !packed_b->data.empty();
    GemmBlocked(isa, s.m, s.n, s.k, alpha, av, bv, beta, c, s.ldc, pool, use_packed ? packed_b : nullptr, epilogue);
  }
}

void Sgemm(const SgemmShape& shape, float alpha, const float* a, const float* b, float beta, float* c, ThreadPool* pool,
           const PackedB* packed_b, const GemmEpilogue* epilogue) {
  SgemmWithIsa(DetectCpuIsa(), shape, alpha, a, b, beta, c, pool, packed_b, epilogue);
}

}  // namespace maas
