// Constant: its output is the attribute's value. The schema hands that value
// over at load, so every Constant folds away; this kernel exists for callers
// that run a node directly (tests, folding).
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/constant_value.h"

namespace maas {
namespace {

Status Compute(KernelContext& ctx) {
  if (ctx.num_outputs() == 0) return Internal("Constant: no output slot");
  Tensor value;
  MAAS_RETURN_IF_ERROR(ConstantValue(ctx.attrs, &value));
  ctx.exec.SetOutputView(0, value, value.shape);
  return Status::Ok();
}

CpuKernelRegistrar registrar(CpuKernel{"Constant", {}, Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
