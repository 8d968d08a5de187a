// Relu, Sigmoid, Tanh: one-input elementwise kernels on float32/float64 (Relu
// also on int32/int64). The functions themselves are in cpu/activation.h,
// shared with the GEMM epilogue. In place is allowed (out == in).
#include <type_traits>

#include "cpu/activation.h"
#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

template <typename Op, typename T>
void RunUnary(const T* in, T* out, int64_t n, ThreadPool* pool) {
  MaybeParallelFor(pool, n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = Op::Apply(in[i]);
  });
}

template <typename Op, typename Types>
CpuKernel MakeUnaryKernel(const std::string& op) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = DTypesOf<Types>();
  k.compute = [op](KernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& in = *ctx.inputs[0];
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
    Tensor& out = ctx.output(0);
    const int64_t n = in.num_elements();
    const bool supported = DispatchDType<Types>(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      RunUnary<Op>(in.data<T>(), out.data<T>(), n, ctx.pool);
    });
    return supported ? Status::Ok() : UnsupportedDType(op, in.dtype);
  };
  return k;
}

CpuKernelRegistrar relu_registrar(MakeUnaryKernel<ReluFn, TypeList<float, double, int32_t, int64_t>>("Relu"));
CpuKernelRegistrar sigmoid_registrar(MakeUnaryKernel<SigmoidFn, FloatTypes>("Sigmoid"));
CpuKernelRegistrar tanh_registrar(MakeUnaryKernel<TanhFn, FloatTypes>("Tanh"));

}  // namespace
}  // namespace maas
