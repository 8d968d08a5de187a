// Pad in every mode (constant, reflect, edge, wrap) for any fixed-size dtype:
// each output row (all dims but the last) maps to a source row through the
// mode's index rule, or to padding; within a row the middle is one copy and
// the sides follow the mode. Negative pads crop.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/pad_rules.h"

namespace maas {
namespace {

const char* const kOp = "Pad";

template <typename T>
void PadRows(const T* in, T* out, const Shape& in_shape, const Shape& out_shape, const std::vector<int64_t>& begin,
             PadMode mode, T value, ThreadPool* pool) {
  const size_t rank = in_shape.size();
  const int64_t in_inner = in_shape.back(), out_inner = out_shape.back();
  const int64_t rows = out_inner == 0 ? 0 : NumElements(out_shape) / out_inner;
  const int64_t b = begin.back();
  MaybeParallelFor(pool, rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, out_inner)),
                   [&](int64_t r0, int64_t r1) {
                     for (int64_t r = r0; r < r1; ++r) {
                       T* dst = out + r * out_inner;
                       // The source row: each outer coordinate through the mode's rule.
                       int64_t rest = r, src_row = 0, stride = 1;
                       bool padding = false;
                       for (size_t a = rank - 1; a-- > 0;) {
                         const int64_t coordinate = rest % out_shape[a];
                         rest /= out_shape[a];
                         const int64_t s = PadSourceIndex(mode, coordinate, begin[a], in_shape[a]);
                         padding |= s < 0;
                         src_row += s * stride;
                         stride *= in_shape[a];
                       }
                       if (padding || in_inner == 0) {
                         std::fill(dst, dst + out_inner, value);
                         continue;
                       }
                       const T* src = in + src_row * in_inner;
                       // Middle: output [lo, hi) reads src[j - b] directly.
                       const int64_t lo = std::min(std::max<int64_t>(b, 0), out_inner);
                       const int64_t hi = std::max(lo, std::min(out_inner, b + in_inner));
                       std::memcpy(dst + lo, src + (lo - b), (hi - lo) * sizeof(T));
                       for (int64_t j = 0; j < lo; ++j) {
                         const int64_t s = PadSourceIndex(mode, j, b, in_inner);
                         dst[j] = s < 0 ? value : src[s];
                       }
                       for (int64_t j = hi; j < out_inner; ++j) {
                         const int64_t s = PadSourceIndex(mode, j, b, in_inner);
                         dst[j] = s < 0 ? value : src[s];
                       }
                     }
                   });
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, ctx.opset < 11 ? 1 : 2));
  const Tensor& x = *ctx.inputs[0];
  PadMode mode;
  Status s = ParsePadMode(ctx.attrs, &mode);
  if (!s.ok()) return InvalidArgument(s.message());
  auto input = [&](size_t i) -> const Tensor* { return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr; };
  const Tensor* pads = ctx.opset >= 11 ? input(1) : nullptr;
  const Tensor* constant = ctx.opset >= 11 ? input(2) : nullptr;
  const Tensor* axes = ctx.opset >= 18 ? input(3) : nullptr;
  std::vector<int64_t> begin, end;
  MAAS_RETURN_IF_ERROR(ResolvePads(ctx.attrs, ctx.opset, static_cast<int64_t>(x.shape.size()), pads, axes,
                                   StatusCode::kInvalidArgument, &begin, &end));
  Shape out_shape;
  MAAS_RETURN_IF_ERROR(PaddedShape(mode, x.shape, begin, end, StatusCode::kInvalidArgument, &out_shape));
  if (constant && constant->num_elements() > 0 && constant->dtype != x.dtype)
    return InvalidArgument(std::string(kOp) + ": constant_value's dtype differs from data's");
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, x.dtype, out_shape));
  if (NumElements(out_shape) == 0) return Status::Ok();
  if (x.shape.empty()) {  // a scalar: nothing to pad
    std::memcpy(ctx.output(0).raw(), x.raw(), x.size_bytes());
    return Status::Ok();
  }
  if (x.num_elements() == 0 && mode != PadMode::kConstant)
    return InvalidArgument(std::string(kOp) + ": cannot pad an empty input in this mode");
  const bool ok = DispatchDType<AllTypes>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    T value = T(0);
    if (constant && constant->num_elements() > 0) value = constant->data<T>()[0];
    if (ctx.opset < 11 && ctx.attrs) value = static_cast<T>(ctx.attrs->GetFloat("value", 0.0f));
    PadRows(x.data<T>(), ctx.output(0).data<T>(), x.shape, out_shape, begin, mode, value, ctx.pool);
  });
  return ok ? Status::Ok() : UnsupportedDType(kOp, x.dtype);
}

CpuKernelRegistrar registrar(CpuKernel{kOp, DTypesOf<AllTypes>(), Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
