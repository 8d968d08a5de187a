// Cast between float32/float64, signed and unsigned 8..64-bit ints and bool.
// Float -> int saturates (NaN -> 0) instead of the undefined behaviour of a
// plain C++ conversion; anything -> bool is `x != 0`. Same type -> a view.
#include <limits>
#include <string>
#include <type_traits>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "Cast";

template <typename To, typename From>
inline To Convert(From x) {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To> && !std::is_same_v<To, bool>) {
    if (x != x) return 0;
    if (x <= static_cast<From>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (x >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

// Calls fn(T{}) with the C++ type stored for `dtype`; false when unsupported.
template <typename Fn>
bool VisitCastType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kFloat64: fn(double{}); return true;
    case DType::kInt8: fn(int8_t{}); return true;
    case DType::kUint8: fn(uint8_t{}); return true;
    case DType::kInt16: fn(int16_t{}); return true;
    case DType::kUint16: fn(uint16_t{}); return true;
    case DType::kInt32: fn(int32_t{}); return true;
    case DType::kUint32: fn(uint32_t{}); return true;
    case DType::kInt64: fn(int64_t{}); return true;
    case DType::kUint64: fn(uint64_t{}); return true;
    case DType::kBool: fn(bool{}); return true;
    default: return false;
  }
}

bool IsCastable(DType dtype) {
  return VisitCastType(dtype, [](auto) {});
}

Status ReadTarget(const Attributes* attrs, DType* to) {
  if (!attrs || !attrs->Has("to")) return InvalidModel(std::string(kOp) + ": missing 'to' attribute");
  *to = static_cast<DType>(attrs->GetInt("to", 0));
  if (!IsCastable(*to)) return Unsupported(std::string(kOp) + ": unsupported target dtype " + DTypeName(*to));
  return Status::Ok();
}

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsCastable(in.dtype)) return UnsupportedDType(kOp, in.dtype);
  DType to;
  MAAS_RETURN_IF_ERROR(ReadTarget(ctx.attrs, &to));
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = to;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  DType to;
  MAAS_RETURN_IF_ERROR(ReadTarget(ctx.attrs, &to));
  if (in.dtype == to) {
    (*ctx.outputs)[0] = in;
    return Status::Ok();
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, to, in.shape));
  const int64_t n = in.num_elements();
  void* out_raw = (*ctx.outputs)[0].raw();
  bool supported = VisitCastType(in.dtype, [&](auto from_tag) {
    using From = decltype(from_tag);
    VisitCastType(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      const From* src = static_cast<const From*>(in.raw());
      To* dst = static_cast<To*>(out_raw);
      MaybeParallelFor(ctx.pool, n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) dst[i] = Convert<To>(src[i]);
      });
    });
  });
  if (!supported) return UnsupportedDType(kOp, in.dtype);
  return Status::Ok();
}

KernelRegistrar registrar(OpKernel{kOp, Infer, Compute});

}  // namespace
}  // namespace maas
