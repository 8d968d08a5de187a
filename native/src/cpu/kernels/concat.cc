// Concat along `axis` (negative allowed) for any fixed-size dtype. The output
// is `outer` rows, each the inputs' contiguous slabs laid side by side.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/layout.h"

namespace maas {
namespace {

const char* const kOp = "Concat";

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& first = *ctx.inputs[0];
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  const size_t elem = DTypeSizeBytes(first.dtype);
  if (elem == 0) return UnsupportedDType(kOp, first.dtype);
  int64_t axis = 0;
  Status s = ConcatAxis(ctx.attrs, ctx.opset, rank, &axis);
  if (!s.ok()) return InvalidArgument(s.message());
  Shape out_shape = first.shape;
  out_shape[axis] = 0;
  for (const Tensor* in : ctx.inputs) {
    if (!in) return InvalidArgument(std::string(kOp) + ": missing input");
    if (in->dtype != first.dtype || static_cast<int64_t>(in->shape.size()) != rank)
      return InvalidArgument(std::string(kOp) + ": inputs differ in dtype or rank");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && in->shape[d] != first.shape[d])
        return InvalidArgument(std::string(kOp) + ": cannot concat " + ShapeToString(first.shape) + " and " +
                               ShapeToString(in->shape) + " on axis " + std::to_string(axis));
    out_shape[axis] += in->shape[axis];
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, first.dtype, out_shape));
  const int64_t total = NumElements(out_shape);
  if (total == 0) return Status::Ok();
  const int64_t outer = DimProduct(out_shape, 0, axis);
  const int64_t inner = DimProduct(out_shape, axis + 1, out_shape.size());
  const size_t out_row_bytes = static_cast<size_t>(out_shape[axis] * inner) * elem;
  uint8_t* out = static_cast<uint8_t*>(ctx.output(0).raw());
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, out_shape[axis] * inner));
  MaybeParallelFor(ctx.pool, outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      uint8_t* dst = out + o * out_row_bytes;
      for (const Tensor* in : ctx.inputs) {
        const size_t slab = static_cast<size_t>(in->shape[axis] * inner) * elem;
        if (slab == 0) continue;
        std::memcpy(dst, static_cast<const uint8_t*>(in->raw()) + o * slab, slab);
        dst += slab;
      }
    }
  });
  return Status::Ok();
}

CpuKernelRegistrar registrar(CpuKernel{kOp, {}, Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
