#include "cpu/kernel_util.h"

namespace maas {

Status RequireInputs(const std::string& op, const KernelContext& ctx, size_t min_inputs) {
  if (ctx.inputs.size() < min_inputs)
    return InvalidArgument(op + ": expects at least " + std::to_string(min_inputs) + " inputs");
  for (size_t i = 0; i < min_inputs; ++i)
    if (!ctx.inputs[i] || (!ctx.inputs[i]->buffer && ctx.inputs[i]->num_elements() != 0))
      return InvalidArgument(op + ": input " + std::to_string(i) + " is missing");
  if (ctx.num_outputs() == 0) return Internal(op + ": no output slot");
  return Status::Ok();
}

Status AllocateOutput(const std::string& op, KernelContext& ctx, size_t index, DType dtype, const Shape& shape) {
  Status s = ctx.exec.AllocateOutput(index, dtype, shape);
  return s.ok() ? s : Status(s.code(), op + ": " + s.message());
}

}  // namespace maas
