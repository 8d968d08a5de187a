// Schemas of Softmax and LogSoftmax (float types): same dtype and shape out;
// the axis rules differ before and from opset 13 (ops/layout.h).
#include "ops/layout.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status Infer(const std::string& op, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsFloatDType(in.dtype)) return UnsupportedDType(op, in.dtype);
  if (in.rank_known) {
    SoftmaxLayout layout;
    MAAS_RETURN_IF_ERROR(ResolveSoftmaxLayout(in.shape, ctx.attrs, ctx.opset, &layout));
  }
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

OpSchema Make(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 1;
  s.attributes = {{"axis", Attribute::Kind::kInt}};
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) { return Infer(op, ctx, outputs); };
  return s;
}

SchemaRegistrar softmax(Make("Softmax"));
SchemaRegistrar log_softmax(Make("LogSoftmax"));

}  // namespace
}  // namespace maas
