// Two-or-more-input elementwise kernels with numpy broadcasting:
//   Add Sub Mul Div   the dtypes binary_arithmetic.cc leaves out: int8, int16,
//                     uint8..uint64, float16, bfloat16
//   Pow               base float/double/float16/bfloat16/int32/int64, any numeric exponent
//   Min Max           one or more inputs, every numeric type
//   Equal Less Greater LessOrEqual GreaterOrEqual → bool;  And Or Xor on bool
//   Where             bool condition, X and Y of any fixed-size dtype
// The 16-bit floats are computed in float32 and rounded once. Integer
// arithmetic wraps; integer division truncates, x/0 gives 0.
#include <cmath>
#include <type_traits>

#include "cpu/broadcast_nary.h"
#include "cpu/dtype_dispatch.h"
#include "cpu/elementwise.h"
#include "cpu/kernel.h"

namespace maas {
namespace {

using NumericTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                              uint32_t, uint64_t>;
using ExtraArithmeticTypes = TypeList<Float16, BFloat16, int8_t, int16_t, uint8_t, uint16_t, uint32_t, uint64_t>;

Status PlanFor(const std::string& op, const Tensor& a, const Tensor& b, BinaryBroadcastPlan* plan) {
  if (MakeBinaryBroadcastPlan(a.shape, b.shape, plan)) return Status::Ok();
  return InvalidArgument(op + ": shapes " + ShapeToString(a.shape) + " and " + ShapeToString(b.shape) +
                         " do not broadcast");
}

// A kernel over two inputs of one dtype in Types. fn works on compute
// values; with kBoolOut its result is the (bool) output element, otherwise
// it is rounded back to the input dtype.
template <typename Types, bool kBoolOut, typename Fn>
CpuKernel SameTypeBinary(const std::string& op, Fn fn) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = DTypesOf<Types>();
  k.compute = [op, fn](KernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    if (a.dtype != b.dtype) return InvalidArgument(op + ": input dtypes differ");
    BinaryBroadcastPlan plan;
    MAAS_RETURN_IF_ERROR(PlanFor(op, a, b, &plan));
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, kBoolOut ? DType::kBool : a.dtype, plan.out_shape));
    Tensor& out = ctx.output(0);
    const bool supported = DispatchDType<Types>(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kBoolOut) {
        MapBinary(plan, a.data<T>(), b.data<T>(), out.data<bool>(), ctx.pool,
                  [&](T x, T y) { return static_cast<bool>(fn(Widen(x), Widen(y))); });
      } else {
        MapBinary(plan, a.data<T>(), b.data<T>(), out.data<T>(), ctx.pool, Lifted<T>(fn));
      }
    });
    return supported ? Status::Ok() : UnsupportedDType(op, a.dtype);
  };
  return k;
}

template <typename Types, typename Fn>
CpuKernel Arithmetic(const std::string& op, Fn fn) {
  return SameTypeBinary<Types, false>(op, fn);
}
template <typename Types, typename Fn>
CpuKernel Comparison(const std::string& op, Fn fn) {
  return SameTypeBinary<Types, true>(op, fn);
}

struct DivFn {
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<C>) {
        // Narrow signed types promote to int, so MIN / -1 cannot trap; it wraps on narrowing.
        if (b == -1) return static_cast<C>(0 - static_cast<std::make_unsigned_t<C>>(a));
      }
      return static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};

// ---- Pow -----------------------------------------------------------------------------

// Same-type float powers use the float function; everything else goes
// through double, as onnxruntime does.
template <typename C, typename E>
C PowOf(C x, E e) {
  if constexpr (std::is_same_v<C, E> && std::is_floating_point_v<C>)
    return std::pow(x, e);
  else
    return static_cast<C>(std::pow(static_cast<double>(x), static_cast<double>(e)));
}

Status PowCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Pow", ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  BinaryBroadcastPlan plan;
  MAAS_RETURN_IF_ERROR(PlanFor("Pow", a, b, &plan));
  MAAS_RETURN_IF_ERROR(AllocateOutput("Pow", ctx, 0, a.dtype, plan.out_shape));
  Tensor& out = ctx.output(0);
  bool exponent_ok = false;
  const bool supported =
      DispatchDType<TypeList<float, double, Float16, BFloat16, int32_t, int64_t>>(a.dtype, [&](auto base) {
        using T = decltype(base);
        exponent_ok = DispatchDType<NumericTypes>(b.dtype, [&](auto exponent) {
          using E = decltype(exponent);
          MapBinary(plan, a.data<T>(), b.data<E>(), out.data<T>(), ctx.pool,
                    [](T x, E e) { return Narrow<T>(PowOf(Widen(x), Widen(e))); });
        });
      });
  if (!supported) return UnsupportedDType("Pow", a.dtype);
  return exponent_ok ? Status::Ok() : UnsupportedDType("Pow", b.dtype);
}

// ---- Min / Max -----------------------------------------------------------------------

template <bool kMax>
Status MinMaxCompute(KernelContext& ctx) {
  const std::string op = kMax ? "Max" : "Min";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, std::max<size_t>(1, ctx.inputs.size())));
  const Tensor& first = *ctx.inputs[0];
  Shape shape = first.shape;
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i]->dtype != first.dtype) return InvalidArgument(op + ": inputs have different dtypes");
    Shape merged;
    if (!BroadcastShapes(shape, ctx.inputs[i]->shape, &merged))
      return InvalidArgument(op + ": shapes " + ShapeToString(shape) + " and " + ShapeToString(ctx.inputs[i]->shape) +
                             " do not broadcast");
    shape = std::move(merged);
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, first.dtype, shape));
  Tensor& out = ctx.output(0);
  // The first input spread over the output, then each next one folded in
  // place (the output always has the full shape, so only B broadcasts).
  if (!BroadcastCopy(first, out, ctx.pool)) return UnsupportedDType(op, first.dtype);
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const Tensor& next = *ctx.inputs[i];
    BinaryBroadcastPlan plan;
    MAAS_RETURN_IF_ERROR(PlanFor(op, out, next, &plan));
    const bool supported = DispatchDType<NumericTypes>(first.dtype, [&](auto tag) {
      using T = decltype(tag);
      MapBinary(plan, out.data<T>(), next.data<T>(), out.data<T>(), ctx.pool, [](T x, T y) {
        const auto a = Widen(x), b = Widen(y);
        // NaN wins, as in onnxruntime.
        if (a != a) return x;
        if (b != b) return y;
        return (kMax ? a < b : b < a) ? y : x;
      });
    });
    if (!supported) return UnsupportedDType(op, first.dtype);
  }
  return Status::Ok();
}

// ---- Where ---------------------------------------------------------------------------

Status WhereCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Where", ctx, 3));
  const Tensor& cond = *ctx.inputs[0];
  const Tensor& x = *ctx.inputs[1];
  const Tensor& y = *ctx.inputs[2];
  if (cond.dtype != DType::kBool || x.dtype != y.dtype) return InvalidArgument("Where: bad input dtypes");
  const Shape* shapes[] = {&cond.shape, &x.shape, &y.shape};
  NaryBroadcastPlan plan;
  if (!MakeNaryBroadcastPlan(shapes, 3, &plan))
    return InvalidArgument("Where: shapes " + ShapeToString(cond.shape) + ", " + ShapeToString(x.shape) + " and " +
                           ShapeToString(y.shape) + " do not broadcast");
  MAAS_RETURN_IF_ERROR(AllocateOutput("Where", ctx, 0, x.dtype, plan.out_shape));
  if (plan.num_elements == 0) return Status::Ok();
  const bool supported = DispatchElementSize(DTypeSizeBytes(x.dtype), [&](auto tag) {
    using U = decltype(tag);
    const bool* c = cond.data<bool>();
    const U* xs = x.data<U>();
    const U* ys = y.data<U>();
    U* out = ctx.output(0).data<U>();
    const int64_t inner = plan.inner();
    const int64_t cs = plan.strides[0].back(), xs_step = plan.strides[1].back(), ys_step = plan.strides[2].back();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner));
    MaybeParallelFor(ctx.pool, plan.rows(), grain, [&](int64_t begin, int64_t end) {
      ForEachNaryRow(plan, begin, end, [&](int64_t out_off, const int64_t* off) {
        for (int64_t i = 0; i < inner; ++i)
          out[out_off + i] = c[off[0] + i * cs] ? xs[off[1] + i * xs_step] : ys[off[2] + i * ys_step];
      });
    });
  });
  return supported ? Status::Ok() : UnsupportedDType("Where", x.dtype);
}

using ET = ExtraArithmeticTypes;
using NumericOrBool = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                               uint32_t, uint64_t, bool>;
using Bools = TypeList<bool>;

CpuKernelRegistrar add_k(Arithmetic<ET>("Add", [](auto a, auto b) { return a + b; }));
CpuKernelRegistrar sub_k(Arithmetic<ET>("Sub", [](auto a, auto b) { return a - b; }));
CpuKernelRegistrar mul_k(Arithmetic<ET>("Mul", [](auto a, auto b) { return a * b; }));
CpuKernelRegistrar div_k(Arithmetic<ET>("Div", DivFn()));
CpuKernelRegistrar pow_k(CpuKernel{"Pow", DTypesOf<TypeList<float, double, Float16, BFloat16, int32_t, int64_t>>(),
                                   PowCompute, nullptr, nullptr});
CpuKernelRegistrar min_k(CpuKernel{"Min", DTypesOf<NumericTypes>(), MinMaxCompute<false>, nullptr, nullptr});
CpuKernelRegistrar max_k(CpuKernel{"Max", DTypesOf<NumericTypes>(), MinMaxCompute<true>, nullptr, nullptr});
CpuKernelRegistrar equal_k(Comparison<NumericOrBool>("Equal", [](auto a, auto b) { return a == b; }));
CpuKernelRegistrar less_k(Comparison<NumericTypes>("Less", [](auto a, auto b) { return a < b; }));
CpuKernelRegistrar greater_k(Comparison<NumericTypes>("Greater", [](auto a, auto b) { return a > b; }));
CpuKernelRegistrar less_eq_k(Comparison<NumericTypes>("LessOrEqual", [](auto a, auto b) { return a <= b; }));
CpuKernelRegistrar greater_eq_k(Comparison<NumericTypes>("GreaterOrEqual", [](auto a, auto b) { return a >= b; }));
CpuKernelRegistrar and_k(Arithmetic<Bools>("And", [](bool a, bool b) { return a && b; }));
CpuKernelRegistrar or_k(Arithmetic<Bools>("Or", [](bool a, bool b) { return a || b; }));
CpuKernelRegistrar xor_k(Arithmetic<Bools>("Xor", [](bool a, bool b) { return a != b; }));
CpuKernelRegistrar where_k(CpuKernel{"Where", {DType::kBool}, WhereCompute, nullptr, nullptr});

}  // namespace
}  // namespace maas
