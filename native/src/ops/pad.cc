// Schema of Pad (opsets 2 to 19): constant, reflect, edge and wrap modes,
// pads as an attribute (opset < 11) or an input, opset 18's axes input.
// The output shape is known at load when the pads are constants.
#include "ops/op_util.h"
#include "ops/pad_rules.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status InferPad(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  const std::string op = "Pad";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, ctx.opset < 11 ? 1 : 2));
  PadMode mode;
  MAAS_RETURN_IF_ERROR(ParsePadMode(ctx.attrs, &mode));
  const ValueInfo& x = ctx.inputs[0];
  if (!IsFixedSizeDType(x.dtype)) return UnsupportedDType(op, x.dtype);
  if (ctx.opset >= 11 && ctx.inputs.size() > 2 && ctx.inputs[2].dtype != DType::kUndefined &&
      ctx.inputs[2].dtype != x.dtype)
    return InvalidModel(op + ": constant_value's dtype differs from data's");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = x.dtype;
  out.rank_known = x.rank_known;
  if (!x.rank_known) return Status::Ok();
  out.shape.assign(x.shape.size(), kUnknownDim);
  const Tensor* pads = ctx.opset >= 11 ? ctx.inputs[1].constant : nullptr;
  const bool has_axes = ctx.opset >= 18 && ctx.inputs.size() > 3 && ctx.inputs[3].dtype != DType::kUndefined;
  const Tensor* axes = has_axes ? ctx.inputs[3].constant : nullptr;
  if ((ctx.opset >= 11 && !pads) || (has_axes && !axes)) return Status::Ok();  // known at run time
  std::vector<int64_t> begin, end;
  MAAS_RETURN_IF_ERROR(ResolvePads(ctx.attrs, ctx.opset, static_cast<int64_t>(x.shape.size()), pads, axes,
                                   StatusCode::kInvalidModel, &begin, &end));
  return PaddedShape(mode, x.shape, begin, end, StatusCode::kInvalidModel, &out.shape);
}

OpSchema PadSchema() {
  OpSchema s;
  s.op_type = "Pad";
  s.min_inputs = 1;
  s.max_inputs = 4;
  s.attributes = {
      {"mode", Attribute::Kind::kString}, {"pads", Attribute::Kind::kInts}, {"value", Attribute::Kind::kFloat}};
  s.infer = InferPad;
  return s;
}

SchemaRegistrar pad(PadSchema());

}  // namespace
}  // namespace maas
