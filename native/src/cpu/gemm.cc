// SGEMM entry: picks the route for a shape. The packed, blocked driver
// (gemm_blocked.cc) takes everything except shapes where packing would cost
// as much as the arithmetic and no pre-packed operand exists: a few rows of
// C (each row a sum of scaled rows of B, or dot products) and N == 1.
#include <algorithm>
#include <vector>

#include "cpu/activation.h"
#include "cpu/gemm_internal.h"

namespace maas {
namespace gemm {
namespace {

// Below this many multiply-adds, waking the pool costs more than it saves.
constexpr int64_t kParallelMinMacs = 1 << 16;
// Small-shape paths: rows of C handled by axpy/dot instead of packing.
constexpr int64_t kSmallM = 4;

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

// m <= kSmallM and B's rows contiguous: each C row is a sum of scaled B rows.
void GemmSmallMAxpy(const IsaKernels& kernels, const SgemmArgs& args, const MatrixView& a, const MatrixView& b,
                    ThreadPool* pool) {
  const SgemmShape& s = args.shape;
  constexpr int64_t kColumnTile = 1024;  // keeps the C rows in L1 across p
  const int64_t grain = std::max<int64_t>(64, 65536 / std::max<int64_t>(1, s.k * s.m));
  RunParallel(pool, s.n, grain, [&](int64_t j0, int64_t j1) {
    for (int64_t jt = j0; jt < j1; jt += kColumnTile) {
      const int64_t width = std::min(kColumnTile, j1 - jt);
      ScaleRows(s.m, jt, jt + width, args.beta, args.c, s.ldc);
      for (int64_t p = 0; p < s.k; ++p) {
        const float* b_row = b.data + p * b.rs + jt;
        for (int64_t i = 0; i < s.m; ++i) kernels.axpy(width, args.alpha * a.at(i, p), b_row, args.c + i * s.ldc + jt);
      }
      ApplyEpilogue(args.epilogue, args.c, s.ldc, 0, s.m, jt, jt + width);
    }
  });
}

// Dot-product form: C(i, j) = alpha * <row i of op(A), column j of op(B)>, with
// the rows of op(A) and columns of op(B) contiguous (gathered when strided;
// this route is for shapes where that copy is small).
void GemmDots(const IsaKernels& kernels, const SgemmArgs& args, const MatrixView& a, const MatrixView& b,
              ThreadPool* pool) {
  const SgemmShape& s = args.shape;
  const int64_t m = s.m, n = s.n, k = s.k;
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
        float& out = args.c[i * s.ldc + j];
        const float dot = kernels.dot(k, a_base + i * a_stride, b_base + j * b_stride);
        out = args.alpha * dot + (args.beta != 0.0f ? args.beta * out : 0.0f);
      }
    ApplyEpilogue(args.epilogue, args.c, s.ldc, i0, i1, j0, j1);
  });
}

bool Fits(const PackedA* p, const IsaKernels& kernels, const SgemmShape& s) {
  return p && p->isa == kernels.isa && p->mr == kernels.mr && p->m == s.m && p->k == s.k && !p->data.empty();
}
bool Fits(const PackedB* p, const IsaKernels& kernels, const SgemmShape& s) {
  return p && p->isa == kernels.isa && p->nr == kernels.nr && p->k == s.k && p->n == s.n && !p->data.empty();
}

}  // namespace

void RunParallel(ThreadPool* pool, int64_t n, int64_t grain, RangeFn fn) {
  if (pool && n > grain) {
    pool->ParallelFor(n, grain, fn);
  } else if (n > 0) {
    fn(0, n);
  }
}

void ApplyEpilogue(const GemmEpilogue* epilogue, float* c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                   int64_t j1) {
  if (!epilogue || j1 <= j0) return;
  for (int64_t i = i0; i < i1; ++i) {
    float* row = c + i * ldc;
    if (epilogue->bias)
      for (int64_t j = j0; j < j1; ++j) row[j] += epilogue->bias[j];
    if (epilogue->row_bias)
      for (int64_t j = j0; j < j1; ++j) row[j] += epilogue->row_bias[i];
    ApplyActivation(epilogue->activation, row + j0, j1 - j0);
  }
}

bool SgemmWithKernels(const IsaKernels& kernels, const SgemmArgs& args, ThreadPool* pool) {
  const SgemmShape& s = args.shape;
  if (s.m <= 0 || s.n <= 0) return true;
  if (s.k <= 0 || args.alpha == 0.0f) {
    ScaleRows(s.m, 0, s.n, args.beta, args.c, s.ldc);
    ApplyEpilogue(args.epilogue, args.c, s.ldc, 0, s.m, 0, s.n);
    return true;
  }
  const MatrixView a = s.trans_a ? MatrixView{args.a, 1, s.lda} : MatrixView{args.a, s.lda, 1};
  const MatrixView b = s.trans_b ? MatrixView{args.b, 1, s.ldb} : MatrixView{args.b, s.ldb, 1};
  if (pool && (pool->num_threads() <= 1 || s.m * s.n * s.k < kParallelMinMacs)) pool = nullptr;
  const PackedA* packed_a = Fits(args.packed_a, kernels, s) ? args.packed_a : nullptr;
  const PackedB* packed_b = !args.b_source && Fits(args.packed_b, kernels, s) ? args.packed_b : nullptr;
  const bool prepacked = packed_a || packed_b;
  if (args.b_source) return GemmBlocked(kernels, args, a, b, pool, packed_a, nullptr);
  if (s.n == 1 && !s.trans_a) {
    GemmDots(kernels, args, a, b, pool);
  } else if (!prepacked && s.m <= kSmallM && !s.trans_b) {
    GemmSmallMAxpy(kernels, args, a, b, pool);
  } else if (!prepacked && s.m <= kSmallM && s.trans_b) {
    GemmDots(kernels, args, a, b, pool);
  } else {
    return GemmBlocked(kernels, args, a, b, pool, packed_a, packed_b);
  }
  return true;
}

}  // namespace gemm

bool Sgemm(const SgemmArgs& args, ThreadPool* pool, CpuIsa isa) {
  return gemm::SgemmWithKernels(gemm::KernelsFor(isa), args, pool);
}

}  // namespace maas
