// Concat along `axis` (negative allowed) for any fixed-size dtype. The output
// is `outer` rows, each the inputs' contiguous slabs laid side by side.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "Concat";

Status ReadAxis(const Attributes* attrs, int opset, int64_t rank, int64_t* axis) {
  if (!attrs || !attrs->Has("axis")) {
    if (opset >= 4) return InvalidModel(std::string(kOp) + ": missing 'axis' attribute");
  }
  const int64_t a = attrs ? attrs->GetInt("axis", 1) : 1;  // opset < 4 defaulted to 1
  if (!NormalizeAxis(a, rank, axis))
    return InvalidModel(std::string(kOp) + ": axis " + std::to_string(a) + " out of range for rank " +
                        std::to_string(rank));
  return Status::Ok();
}

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const DType dtype = ctx.inputs[0].dtype;
  if (DTypeSizeBytes(dtype) == 0) return UnsupportedDType(kOp, dtype);
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = dtype;
  out.shape.clear();
  out.rank_known = false;
  const ValueInfo* ranked = nullptr;
  for (const ValueInfo& in : ctx.inputs) {
    if (in.dtype != dtype) return InvalidModel(std::string(kOp) + ": inputs have different dtypes");
    if (in.rank_known && !ranked) ranked = &in;
  }
  if (!ranked) return Status::Ok();
  const int64_t rank = static_cast<int64_t>(ranked->shape.size());
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(ReadAxis(ctx.attrs, ctx.opset, rank, &axis));
  Shape shape(rank, kUnknownDim);
  int64_t axis_total = 0;
  bool all_ranked = true;
  for (const ValueInfo& in : ctx.inputs) {
    if (!in.rank_known) {
      all_ranked = false;
      continue;
    }
    if (static_cast<int64_t>(in.shape.size()) != rank) return InvalidModel(std::string(kOp) + ": inputs differ in rank");
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) continue;
      if (in.shape[d] < 0) continue;
      if (shape[d] >= 0 && shape[d] != in.shape[d])
        return InvalidModel(std::string(kOp) + ": dim " + std::to_string(d) + " differs between inputs");
      shape[d] = in.shape[d];
    }
    axis_total = (axis_total < 0 || in.shape[axis] < 0) ? kUnknownDim : axis_total + in.shape[axis];
  }
  shape[axis] = all_ranked ? axis_total : kUnknownDim;
  out.shape = shape;
  out.rank_known = true;
  return Status::Ok();
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& first = *ctx.inputs[0];
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  const size_t elem = DTypeSizeBytes(first.dtype);
  if (elem == 0) return UnsupportedDType(kOp, first.dtype);
  int64_t axis = 0;
  Status s = ReadAxis(ctx.attrs, ctx.opset, rank, &axis);
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
  uint8_t* out = static_cast<uint8_t*>((*ctx.outputs)[0].raw());
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

KernelRegistrar registrar(OpKernel{kOp, Infer, Compute});

}  // namespace
}  // namespace maas
