// Transpose for any fixed-size dtype (moved as raw 1/2/4/8-byte elements).
// Output dims that stay adjacent in the input are merged first, so e.g.
// [N,C,H,W] -> [N,H,W,C] becomes a 2-D transpose per N; then either whole
// rows are copied (innermost dim unchanged) or 2-D tiles are transposed so
// reads and writes both stay within a few cache lines.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/layout.h"

namespace maas {
namespace {

const char* const kOp = "Transpose";
constexpr int64_t kTile = 16;

// Output dims (size > 1 only, merged where possible) with input strides.
struct TransposePlan {
  std::vector<int64_t> dims;
  std::vector<int64_t> in_strides;
};

TransposePlan MakePlan(const Shape& in_shape, const std::vector<int64_t>& perm) {
  const size_t rank = in_shape.size();
  std::vector<int64_t> contiguous(rank, 1);
  for (size_t i = rank; i-- > 1;) contiguous[i - 1] = contiguous[i] * in_shape[i];
  TransposePlan plan;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dim = in_shape[perm[i]], stride = contiguous[perm[i]];
    if (dim == 1) continue;
    if (!plan.dims.empty() && plan.in_strides.back() == stride * dim) {
      plan.dims.back() *= dim;
      plan.in_strides.back() = stride;
    } else {
      plan.dims.push_back(dim);
      plan.in_strides.push_back(stride);
    }
  }
  return plan;
}

// Input offset of the `index`-th combination of the first `count` plan dims.
int64_t OuterOffset(const TransposePlan& plan, size_t count, int64_t index) {
  int64_t offset = 0;
  for (size_t i = count; i-- > 0;) {
    offset += (index % plan.dims[i]) * plan.in_strides[i];
    index /= plan.dims[i];
  }
  return offset;
}

template <typename T>
void TransposeTiles(const TransposePlan& plan, const T* in, T* out, ThreadPool* pool) {
  const size_t r = plan.dims.size();
  const int64_t rows = plan.dims[r - 2], cols = plan.dims[r - 1];
  const int64_t rs = plan.in_strides[r - 2], cs = plan.in_strides[r - 1];
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  int64_t outer = 1;
  for (size_t i = 0; i + 2 < r; ++i) outer *= plan.dims[i];
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (kTile * cols));
  MaybeParallelFor(pool, outer * row_tiles, grain, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / row_tiles, r0 = (task % row_tiles) * kTile;
      const int64_t r1 = std::min(rows, r0 + kTile);
      const T* src = in + OuterOffset(plan, r - 2, o);
      T* dst = out + o * rows * cols;
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t i = r0; i < r1; ++i)
          for (int64_t j = c0; j < c1; ++j) dst[i * cols + j] = src[i * rs + j * cs];
      }
    }
  });
}

void TransposeBytes(const TransposePlan& plan, const uint8_t* in, uint8_t* out, size_t elem, int64_t count,
                    ThreadPool* pool) {
  if (plan.dims.size() <= 1) {  // nothing actually moves
    std::memcpy(out, in, static_cast<size_t>(count) * elem);
    return;
  }
  const size_t r = plan.dims.size();
  if (plan.in_strides[r - 1] == 1) {
    // Innermost dim intact: copy whole rows.
    const int64_t inner = plan.dims[r - 1];
    const int64_t row_count = count / inner;
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / inner);
    MaybeParallelFor(pool, row_count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        std::memcpy(out + row * inner * elem, in + OuterOffset(plan, r - 1, row) * elem, inner * elem);
    });
    return;
  }
  switch (elem) {
    case 1: TransposeTiles(plan, in, out, pool); break;
    case 2: TransposeTiles(plan, reinterpret_cast<const uint16_t*>(in), reinterpret_cast<uint16_t*>(out), pool); break;
    case 4: TransposeTiles(plan, reinterpret_cast<const uint32_t*>(in), reinterpret_cast<uint32_t*>(out), pool); break;
    default: TransposeTiles(plan, reinterpret_cast<const uint64_t*>(in), reinterpret_cast<uint64_t*>(out), pool); break;
  }
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  const size_t elem = DTypeSizeBytes(in.dtype);
  if (elem != 1 && elem != 2 && elem != 4 && elem != 8) return UnsupportedDType(kOp, in.dtype);
  std::vector<int64_t> perm;
  Status s = ResolvePerm(ctx.attrs, in.shape.size(), &perm);
  if (!s.ok()) return InvalidArgument(s.message());
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(in.shape[p]);
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, in.dtype, out_shape));
  const int64_t count = in.num_elements();
  if (count == 0) return Status::Ok();
  TransposeBytes(MakePlan(in.shape, perm), static_cast<const uint8_t*>(in.raw()),
                 static_cast<uint8_t*>(ctx.output(0).raw()), elem, count, ctx.pool);
  return Status::Ok();
}

CpuKernelRegistrar registrar(CpuKernel{kOp, {}, Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
