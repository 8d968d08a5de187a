// Identity, Reshape, Flatten: ops that only relabel the shape. Their schemas
// declare the output a view of input 0, so the output shares the input's
// bytes (no copy, no memory of its own in the plan); any dtype works.
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/layout.h"

namespace maas {
namespace {

Status IdentityCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Identity", ctx, 1));
  ctx.exec.SetOutputView(0, *ctx.inputs[0], ctx.inputs[0]->shape);
  return Status::Ok();
}

Status ReshapeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 1));
  const Tensor& data = *ctx.inputs[0];
  const bool allowzero = ctx.attrs && ctx.attrs->GetInt("allowzero", 0) != 0;
  std::vector<int64_t> spec;
  if (ctx.opset < 5) {
    spec = ctx.attrs ? ctx.attrs->GetInts("shape", {}) : std::vector<int64_t>{};
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 2));
    if (!ReadShapeTensor(*ctx.inputs[1], &spec)) return InvalidArgument("Reshape: shape must be a 1-D int64 tensor");
  }
  Shape out_shape;
  Status s = ResolveReshape(data.shape, spec, allowzero, &out_shape);
  if (!s.ok()) return InvalidArgument(s.message());
  ctx.exec.SetOutputView(0, data, out_shape);
  return Status::Ok();
}

Status FlattenCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Flatten", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  Status s = FlattenAxis(static_cast<int64_t>(in.shape.size()), ctx.attrs, &axis);
  if (!s.ok()) return InvalidArgument(s.message());
  const int64_t rows = DimProduct(in.shape, 0, axis);
  const int64_t columns = DimProduct(in.shape, axis, in.shape.size());
  // Only an empty tensor can get here with such dims, e.g. [0, 2^40, 2^40].
  if (rows < 0 || columns < 0) return InvalidArgument("Flatten: " + ShapeToString(in.shape) + " flattens past int64");
  ctx.exec.SetOutputView(0, in, {rows, columns});
  return Status::Ok();
}

CpuKernel Make(const std::string& op, CpuKernel::ComputeFn compute) {
  CpuKernel k;
  k.op_type = op;
  k.compute = std::move(compute);
  return k;
}

CpuKernelRegistrar identity_registrar(Make("Identity", IdentityCompute));
CpuKernelRegistrar reshape_registrar(Make("Reshape", ReshapeCompute));
CpuKernelRegistrar flatten_registrar(Make("Flatten", FlattenCompute));

}  // namespace
}  // namespace maas
