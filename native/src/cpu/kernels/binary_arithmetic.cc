// Add, Sub, Mul, Div with numpy broadcasting over float32/float64/int32/int64.
// The broadcast plan coalesces dims, so the common cases (equal shapes, a
// scalar, a bias row) reduce to one tight loop the compiler vectorizes.
// The output may be A's memory (the schema allows in place): every loop
// reads a[i] before writing out[i] and never reads a written element again.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cpu/broadcast.h"
#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

// Integer results wrap, as in ONNX Runtime: the arithmetic runs in an unsigned
// type (signed overflow is undefined in C++; a hostile model's constants reach
// it), at least as wide as unsigned int so that narrow types do not promote
// back to a signed int.
template <typename T>
using WrapType = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

struct AddOp {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<WrapType<T>>(a) + static_cast<WrapType<T>>(b));
    } else {
      return a + b;
    }
  }
};
struct SubOp {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<WrapType<T>>(a) - static_cast<WrapType<T>>(b));
    } else {
      return a - b;
    }
  }
};
struct MulOp {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<WrapType<T>>(a) * static_cast<WrapType<T>>(b));
    } else {
      return a * b;
    }
  }
};
struct DivOp {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      // Truncating like ORT; x/0 gives 0 and MIN/-1 wraps, instead of SIGFPE.
      if (b == 0) return 0;
      if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
      return a / b;
    } else {
      return a / b;
    }
  }
};

// One innermost row; a_step/b_step are 0 (broadcast) or 1. Separate loops per
// case so each one is a simple stream the vectorizer recognizes.
template <typename Op, typename T>
void BinaryRow(int64_t n, const T* a, int64_t a_step, const T* b, int64_t b_step, T* out) {
  if (a_step && b_step) {
    for (int64_t i = 0; i < n; ++i) out[i] = Op::Apply(a[i], b[i]);
  } else if (b_step) {
    const T av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = Op::Apply(av, b[i]);
  } else if (a_step) {
    const T bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = Op::Apply(a[i], bv);
  } else {
    const T v = Op::Apply(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

template <typename Op, typename T>
void RunBinary(const BinaryBroadcastPlan& plan, const T* a, const T* b, T* out, ThreadPool* pool) {
  const int64_t inner = plan.inner();
  const int64_t a_step = plan.a_strides.back(), b_step = plan.b_strides.back();
  if (plan.dims.size() == 1) {
    // Flat: split the single row itself.
    MaybeParallelFor(pool, inner, kElementwiseGrain, [&](int64_t begin, int64_t end) {
      BinaryRow<Op>(end - begin, a + begin * a_step, a_step, b + begin * b_step, b_step, out + begin);
    });
    return;
  }
  const int64_t row_grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner));
  MaybeParallelFor(pool, plan.rows(), row_grain, [&](int64_t row_begin, int64_t row_end) {
    ForEachBroadcastRow(plan, row_begin, row_end, [&](int64_t out_off, int64_t a_off, int64_t b_off) {
      BinaryRow<Op>(inner, a + a_off, a_step, b + b_off, b_step, out + out_off);
    });
  });
}

using BinaryTypes = TypeList<float, double, int32_t, int64_t>;

template <typename Op>
Status ComputeBinary(const std::string& op, KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  if (a.dtype != b.dtype) return InvalidArgument(op + ": input dtypes differ");
  BinaryBroadcastPlan plan;
  if (!MakeBinaryBroadcastPlan(a.shape, b.shape, &plan))
    return InvalidArgument(op + ": shapes " + ShapeToString(a.shape) + " and " + ShapeToString(b.shape) +
                           " do not broadcast");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, a.dtype, plan.out_shape));
  if (plan.num_elements == 0) return Status::Ok();
  Tensor& out = ctx.output(0);
  const bool supported = DispatchDType<BinaryTypes>(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    RunBinary<Op>(plan, a.data<T>(), b.data<T>(), out.data<T>(), ctx.pool);
  });
  return supported ? Status::Ok() : UnsupportedDType(op, a.dtype);
}

template <typename Op>
CpuKernel MakeBinaryKernel(const std::string& op) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = DTypesOf<BinaryTypes>();
  k.compute = [op](KernelContext& ctx) { return ComputeBinary<Op>(op, ctx); };
  return k;
}

CpuKernelRegistrar add_registrar(MakeBinaryKernel<AddOp>("Add"));
CpuKernelRegistrar sub_registrar(MakeBinaryKernel<SubOp>("Sub"));
CpuKernelRegistrar mul_registrar(MakeBinaryKernel<MulOp>("Mul"));
CpuKernelRegistrar div_registrar(MakeBinaryKernel<DivOp>("Div"));

}  // namespace
}  // namespace maas
