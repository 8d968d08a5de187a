// Relu, Sigmoid, Tanh: one-input elementwise ops on float32/float64 (Relu
// also on int32/int64, allowed since opset 14). Output shape = input shape.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "cpu/fast_math.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

struct ReluOp {
  template <typename T> static T Apply(T x) { return x > T(0) ? x : T(0); }
};
struct SigmoidOp {
  static float Apply(float x) { return StableSigmoid(x); }
  static double Apply(double x) {
    const double e = std::exp(-std::fabs(x));
    return (x >= 0 ? 1.0 : e) / (1.0 + e);
  }
};
struct TanhOp {
  template <typename T> static T Apply(T x) { return std::tanh(x); }
};

template <typename Op, typename T>
void RunUnary(const T* in, T* out, int64_t n, ThreadPool* pool) {
  MaybeParallelFor(pool, n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = Op::Apply(in[i]);
  });
}

template <typename Op>
OpKernel MakeUnaryKernel(const std::string& op, std::initializer_list<DType> dtypes) {
  std::vector<DType> allowed(dtypes);
  OpKernel k;
  k.op_type = op;
  k.infer = [op, allowed](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const ValueInfo& in = ctx.inputs[0];
    if (std::find(allowed.begin(), allowed.end(), in.dtype) == allowed.end()) return UnsupportedDType(op, in.dtype);
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = in.dtype;
    out.shape = in.shape;
    out.rank_known = in.rank_known;
    return Status::Ok();
  };
  k.compute = [op, allowed](KernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& in = *ctx.inputs[0];
    if (std::find(allowed.begin(), allowed.end(), in.dtype) == allowed.end()) return UnsupportedDType(op, in.dtype);
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
    Tensor& out = (*ctx.outputs)[0];
    const int64_t n = in.num_elements();
    switch (in.dtype) {
      case DType::kFloat32: RunUnary<Op>(in.data<float>(), out.data<float>(), n, ctx.pool); break;
      case DType::kFloat64: RunUnary<Op>(in.data<double>(), out.data<double>(), n, ctx.pool); break;
      default:
        if constexpr (std::is_same_v<Op, ReluOp>) {
          if (in.dtype == DType::kInt32) {
            RunUnary<Op>(in.data<int32_t>(), out.data<int32_t>(), n, ctx.pool);
            break;
          }
          if (in.dtype == DType::kInt64) {
            RunUnary<Op>(in.data<int64_t>(), out.data<int64_t>(), n, ctx.pool);
            break;
          }
        }
        return UnsupportedDType(op, in.dtype);
    }
    return Status::Ok();
  };
  return k;
}

KernelRegistrar relu_registrar(
    MakeUnaryKernel<ReluOp>("Relu", {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64}));
KernelRegistrar sigmoid_registrar(MakeUnaryKernel<SigmoidOp>("Sigmoid", {DType::kFloat32, DType::kFloat64}));
KernelRegistrar tanh_registrar(MakeUnaryKernel<TanhOp>("Tanh", {DType::kFloat32, DType::kFloat64}));

}  // namespace
}  // namespace maas
