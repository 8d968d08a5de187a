// Packing for the blocked SGEMM: A into mr-row strips and B into nr-column
// strips, each k-major and zero-padded to a whole tile, so the micro-kernel
// streams both with unit stride. Constant operands (weights) are packed once
// at load with the same layout (PackSgemmA / PackSgemmB).
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/gemm_internal.h"
#include "maas/op_types.h"

namespace maas {
namespace gemm {

void PackA(const MatrixView& a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t s = 0; s < mc; s += mr, dst += kc * mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - s);
    if (rows < mr) std::fill(dst, dst + kc * mr, 0.0f);
    if (a.rs == 1) {  // op(A) = A^T: a strip's rows are adjacent for each p
      for (int64_t p = 0; p < kc; ++p)
        std::memcpy(dst + p * mr, &a.data[(i0 + s) + (p0 + p) * a.cs], rows * sizeof(float));
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = a.data + (i0 + s + r) * a.rs + p0 * a.cs;
      float* d = dst + r;
      if (a.cs == 1) {
        for (int64_t p = 0; p < kc; ++p) d[p * mr] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) d[p * mr] = src[p * a.cs];
      }
    }
  }
}

void PackBStrips(const MatrixView& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0, int64_t t1,
                 float* dst) {
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t j = j0 + t * nr;
    const int64_t cols = std::min<int64_t>(nr, nc - t * nr);
    float* d = dst + t * kc * nr;
    if (b.cs == 1) {  // B's rows contiguous: one copy per depth step
      for (int64_t p = 0; p < kc; ++p, d += nr) {
        std::memcpy(d, b.data + (p0 + p) * b.rs + j, sizeof(float) * cols);
        if (cols < nr) std::fill(d + cols, d + nr, 0.0f);
      }
      continue;
    }
    if (cols < nr) std::fill(d, d + kc * nr, 0.0f);
    for (int64_t c = 0; c < cols; ++c) {  // op(B) = B^T: walk each source row once
      const float* src = b.data + p0 * b.rs + (j + c) * b.cs;
      for (int64_t p = 0; p < kc; ++p) d[p * nr + c] = src[p * b.rs];
    }
  }
}

namespace {

// Offsets of the panels of a packed operand: per (block of `block` along
// `outer`, depth slice of DepthStep(k)), each block rounded up to whole tiles.
// Returns the total floats.
size_t PanelOffsets(int64_t outer, int64_t block, int64_t k, int tile, std::vector<int64_t>* offsets) {
  size_t total = 0;
  const int64_t step = DepthStep(k);
  for (int64_t b0 = 0; b0 < outer; b0 += block) {
    const int64_t tiles = (std::min(block, outer - b0) + tile - 1) / tile;
    for (int64_t pc = 0; pc < k; pc += step) {
      offsets->push_back(static_cast<int64_t>(total));
      total += static_cast<size_t>(tiles * tile * std::min(step, k - pc));
    }
  }
  return total;
}

}  // namespace

std::unique_ptr<PackedA> PackAWith(const IsaKernels& kernels, const MatrixView& a, int64_t m, int64_t k) {
  std::unique_ptr<PackedA> packed(new PackedA());
  packed->isa = kernels.isa;
  packed->mr = kernels.mr;
  packed->m = m;
  packed->k = k;
  if (m <= 0 || k <= 0) return packed;
  if (!packed->data.Resize(PanelOffsets(m, kMc, k, kernels.mr, &packed->offsets))) return nullptr;
  size_t slot = 0;
  const int64_t step = DepthStep(k);
  for (int64_t i0 = 0; i0 < m; i0 += kMc)
    for (int64_t pc = 0; pc < k; pc += step, ++slot)
      PackA(a, i0, std::min(kMc, m - i0), pc, std::min(step, k - pc), kernels.mr,
            packed->data.data() + packed->offsets[slot]);
  return packed;
}

std::unique_ptr<PackedB> PackBWith(const IsaKernels& kernels, const MatrixView& b, int64_t k, int64_t n) {
  std::unique_ptr<PackedB> packed(new PackedB());
  packed->isa = kernels.isa;
  packed->nr = kernels.nr;
  packed->k = k;
  packed->n = n;
  if (k <= 0 || n <= 0) return packed;
  const int nr = kernels.nr;
  if (!packed->data.Resize(PanelOffsets(n, kNc, k, nr, &packed->offsets))) return nullptr;
  size_t slot = 0;
  const int64_t step = DepthStep(k);
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += step, ++slot)
      PackBStrips(b, pc, std::min(step, k - pc), jc, nc, nr, 0, (nc + nr - 1) / nr,
                  packed->data.data() + packed->offsets[slot]);
  }
  return packed;
}

}  // namespace gemm

std::unique_ptr<PackedB> PackSgemmB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, CpuIsa isa) {
  const gemm::MatrixView view = trans_b ? gemm::MatrixView{b, 1, ldb} : gemm::MatrixView{b, ldb, 1};
  return gemm::PackBWith(gemm::KernelsFor(isa), view, k, n);
}

std::unique_ptr<PackedA> PackSgemmA(bool trans_a, int64_t m, int64_t k, const float* a, int64_t lda, CpuIsa isa) {
  const gemm::MatrixView view = trans_a ? gemm::MatrixView{a, 1, lda} : gemm::MatrixView{a, lda, 1};
  return gemm::PackAWith(gemm::KernelsFor(isa), view, m, k);
}

void PrepareConstantB(const NodeDesc& node, bool trans_b, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
  const Tensor* b = node.inputs.size() >= 2 ? node.inputs[1].constant : nullptr;
  if (!b || b->dtype != DType::kFloat32 || b->shape.size() != 2 || b->num_elements() == 0) return;
  const int64_t k = trans_b ? b->shape[1] : b->shape[0];
  const int64_t n = trans_b ? b->shape[0] : b->shape[1];
  std::shared_ptr<const PackedB> packed(PackSgemmB(trans_b, k, n, b->data<float>(), b->shape[1]));
  if (!packed) return;  // no memory to spare: the runs pack as they go
  *state_bytes = packed->size_bytes();
  *prepared = std::move(packed);
}

}  // namespace maas
