// Cast between float16/bfloat16/float32/float64, signed and unsigned 8..64-bit
// ints and bool. Float -> int saturates (NaN -> 0) instead of the undefined
// behaviour of a plain C++ conversion; anything -> bool is `x != 0`; the
// 16-bit floats convert through float32, rounding to nearest even.
#include <limits>
#include <string>
#include <type_traits>

#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "Cast";

template <typename To, typename From>
inline To Convert(From x) {
  if constexpr (kIsHalf<From> && kIsHalf<To>) {
    return Narrow<To>(Widen(x));
  } else if constexpr (kIsHalf<From>) {
    return Convert<To>(Widen(x));  // exact widening, then as from float32
  } else if constexpr (kIsHalf<To>) {
    // Through float32, as onnxruntime does (a double is rounded twice).
    return Narrow<To>(Convert<float>(x));
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To> && !std::is_same_v<To, bool>) {
    if (x != x) return 0;
    if (x <= static_cast<From>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (x >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

using CastTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t,
                           bool, Float16, BFloat16>;

DType TargetOf(const Attributes* attrs) { return static_cast<DType>(attrs ? attrs->GetInt("to", 0) : 0); }

bool IsCastable(DType dtype) {
  return DispatchDType<CastTypes>(dtype, [](auto) {});
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  const DType to = TargetOf(ctx.attrs);
  if (!IsCastable(to)) return Unsupported(std::string(kOp) + ": unsupported target dtype " + DTypeName(to));
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, to, in.shape));
  const int64_t n = in.num_elements();
  void* out_raw = ctx.output(0).raw();
  // (A cast to the same type is a copy here; the optimizer removes such nodes.)
  bool supported = DispatchDType<CastTypes>(in.dtype, [&](auto from_tag) {
    using From = decltype(from_tag);
    DispatchDType<CastTypes>(to, [&](auto to_tag) {
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

// Every fixed-size dtype converts to every other, so no finer support check.
CpuKernelRegistrar registrar(CpuKernel{kOp, DTypesOf<CastTypes>(), Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
