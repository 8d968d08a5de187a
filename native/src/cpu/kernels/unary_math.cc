// One-input elementwise kernels: Sqrt, Exp, Log, Erf, Reciprocal, Floor,
// Ceil, LeakyRelu, HardSigmoid, HardSwish, Gelu (float32, float64, float16,
// bfloat16), Neg (also signed ints), Abs (also every int), Clip (every
// numeric type), Not (bool), and the 16-bit-float (and int8/int16 Relu)
// kernels of Relu, Sigmoid and Tanh beside activations.cc's. The 16-bit
// floats are computed in float32 (cpu/half.h). In place is allowed.
#include <cmath>
#include <limits>
#include <type_traits>

#include "cpu/activation.h"
#include "cpu/dtype_dispatch.h"
#include "cpu/elementwise.h"
#include "cpu/fast_erf.h"
#include "cpu/kernel.h"

namespace maas {
namespace {

using FloatAndHalfTypes = TypeList<float, double, Float16, BFloat16>;
using SignedTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                              uint32_t, uint64_t>;

// `make(ctx)` builds the element function (reading attributes once per run);
// it must accept the compute type of every T in Types.
template <typename Types, typename Make>
CpuKernel UnaryKernel(const std::string& op, Make make) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = DTypesOf<Types>();
  k.compute = [op, make](KernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& in = *ctx.inputs[0];
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
    Tensor& out = ctx.output(0);
    const auto fn = make(ctx);
    const bool supported = DispatchDType<Types>(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      MapUnary(in.data<T>(), out.data<T>(), in.num_elements(), ctx.pool, Lifted<T>(fn));
    });
    return supported ? Status::Ok() : UnsupportedDType(op, in.dtype);
  };
  return k;
}

// A function that needs no attributes.
template <typename Fn>
auto Fixed(Fn fn) {
  return [fn](const KernelContext&) { return fn; };
}

// float32 through the branch-free versions, float64 through libm.
struct ExpFn {
  float operator()(float x) const { return FastExp(x); }
  double operator()(double x) const { return std::exp(x); }
};
struct ErfFn {
  float operator()(float x) const { return FastErf(x); }
  double operator()(double x) const { return std::erf(x); }
};

template <typename C>
C AbsOf(C x) {
  if constexpr (std::is_unsigned_v<C>)
    return x;
  else
    return x < C(0) ? static_cast<C>(-x) : x;
}

struct GeluFn {
  bool tanh_form;
  template <typename C>
  C operator()(C x) const {
    return tanh_form ? GeluTanh(x) : GeluErf(x);
  }
};

auto MakeGelu(const KernelContext& ctx) {
  return GeluFn{ctx.attrs && ctx.attrs->GetString("approximate", "none") == "tanh"};
}

auto MakeLeakyRelu(const KernelContext& ctx) {
  const float alpha = ctx.attrs ? ctx.attrs->GetFloat("alpha", 0.01f) : 0.01f;
  return [alpha](auto x) { return x >= 0 ? x : static_cast<decltype(x)>(alpha) * x; };
}

// max(0, min(1, alpha·x + beta)); HardSwish is x times it with alpha = 1/6, beta = 0.5.
template <typename C>
C HardSigmoidOf(C x, C alpha, C beta) {
  return std::fmax(C(0), std::fmin(C(1), alpha * x + beta));
}

auto MakeHardSigmoid(const KernelContext& ctx) {
  const float alpha = ctx.attrs ? ctx.attrs->GetFloat("alpha", 0.2f) : 0.2f;
  const float beta = ctx.attrs ? ctx.attrs->GetFloat("beta", 0.5f) : 0.5f;
  return [alpha, beta](auto x) {
    using C = decltype(x);
    return HardSigmoidOf<C>(x, static_cast<C>(alpha), static_cast<C>(beta));
  };
}

// ---- Clip ---------------------------------------------------------------------------

// The bound from input `index` (opset 11+), else the attribute (before), else `fallback`.
template <typename T>
ComputeType<T> ClipBound(const KernelContext& ctx, size_t index, const char* attr, ComputeType<T> fallback) {
  using C = ComputeType<T>;
  if (ctx.opset >= 11) {
    const Tensor* bound = ctx.inputs.size() > index ? ctx.inputs[index] : nullptr;
    return bound && bound->num_elements() == 1 ? static_cast<C>(Widen(bound->data<T>()[0])) : fallback;
  }
  return ctx.attrs && ctx.attrs->Has(attr) ? static_cast<C>(ctx.attrs->GetFloat(attr, 0.0f)) : fallback;
}

Status ClipCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Clip", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  for (size_t i = 1; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i] && (ctx.inputs[i]->dtype != in.dtype || ctx.inputs[i]->num_elements() != 1))
      return InvalidArgument("Clip: bounds must be scalars of the input's dtype");
  MAAS_RETURN_IF_ERROR(AllocateOutput("Clip", ctx, 0, in.dtype, in.shape));
  Tensor& out = ctx.output(0);
  const bool supported = DispatchDType<NumericTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const C lo = ClipBound<T>(ctx, 1, "min", std::numeric_limits<C>::lowest());
    const C hi = ClipBound<T>(ctx, 2, "max", std::numeric_limits<C>::max());
    // NaN stays NaN: the comparisons are false for it.
    MapUnary(in.data<T>(), out.data<T>(), in.num_elements(), ctx.pool,
             Lifted<T>([lo, hi](C x) { return x < lo ? lo : (x > hi ? hi : x); }));
  });
  return supported ? Status::Ok() : UnsupportedDType("Clip", in.dtype);
}

using FH = FloatAndHalfTypes;
CpuKernelRegistrar sqrt_k(UnaryKernel<FH>("Sqrt", Fixed([](auto x) { return std::sqrt(x); })));
CpuKernelRegistrar exp_k(UnaryKernel<FH>("Exp", Fixed(ExpFn())));
CpuKernelRegistrar log_k(UnaryKernel<FH>("Log", Fixed([](auto x) { return std::log(x); })));
CpuKernelRegistrar erf_k(UnaryKernel<FH>("Erf", Fixed(ErfFn())));
CpuKernelRegistrar reciprocal_k(UnaryKernel<FH>("Reciprocal", Fixed([](auto x) { return decltype(x)(1) / x; })));
CpuKernelRegistrar floor_k(UnaryKernel<FH>("Floor", Fixed([](auto x) { return std::floor(x); })));
CpuKernelRegistrar ceil_k(UnaryKernel<FH>("Ceil", Fixed([](auto x) { return std::ceil(x); })));
CpuKernelRegistrar neg_k(UnaryKernel<SignedTypes>("Neg", Fixed([](auto x) { return -x; })));
CpuKernelRegistrar abs_k(UnaryKernel<NumericTypes>("Abs", Fixed([](auto x) { return AbsOf(x); })));
CpuKernelRegistrar leaky_relu_k(UnaryKernel<FH>("LeakyRelu", MakeLeakyRelu));
CpuKernelRegistrar hard_sigmoid_k(UnaryKernel<FH>("HardSigmoid", MakeHardSigmoid));
CpuKernelRegistrar hard_swish_k(UnaryKernel<FH>("HardSwish", Fixed([](auto x) {
                                                  using C = decltype(x);
                                                  return x * HardSigmoidOf<C>(x, C(1) / C(6), C(0.5));
                                                })));
CpuKernelRegistrar gelu_k(UnaryKernel<FH>("Gelu", MakeGelu));
CpuKernelRegistrar clip_k(CpuKernel{"Clip", DTypesOf<NumericTypes>(), ClipCompute, nullptr, nullptr});
CpuKernelRegistrar not_k(UnaryKernel<TypeList<bool>>("Not", Fixed([](bool x) { return !x; })));

// Beside activations.cc's kernels (float32/float64, Relu also int32/int64).
CpuKernelRegistrar relu_more_k(UnaryKernel<TypeList<Float16, BFloat16, int8_t, int16_t>>("Relu", Fixed([](auto x) {
                                                                                           return ReluFn::Apply(x);
                                                                                         })));
CpuKernelRegistrar sigmoid_half_k(UnaryKernel<HalfTypes>("Sigmoid",
                                                         Fixed([](float x) { return SigmoidFn::Apply(x); })));
CpuKernelRegistrar tanh_half_k(UnaryKernel<HalfTypes>("Tanh", Fixed([](float x) { return std::tanh(x); })));

}  // namespace
}  // namespace maas
