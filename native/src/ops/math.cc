// Schemas of the elementwise math ops beyond the four arithmetic ones:
//   one input:   Sqrt Exp Log Erf Reciprocal Floor Ceil (floats), Neg (floats,
//                signed ints), Abs (numeric), LeakyRelu HardSigmoid HardSwish
//                Gelu (floats, parameters as attributes)
//   Clip         bounds as inputs (opset 11+) or attributes min/max (before)
//   Pow          base float/int32/int64, exponent any numeric type
//   Min, Max     one or more inputs of one dtype, broadcast together
// Outputs keep input 0's dtype and may reuse its memory.
#include "ops/elementwise_schema.h"
#include "ops/op_util.h"

namespace maas {
namespace {

using K = Attribute::Kind;

bool SignedOrFloat(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64});
}

bool PowBase(DType d) { return IsFloatDType(d) || IsOneOf(d, {DType::kInt32, DType::kInt64}); }

Status PowInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Pow", ctx, 2));
  if (!PowBase(ctx.inputs[0].dtype)) return UnsupportedDType("Pow", ctx.inputs[0].dtype);
  if (!IsNumericDType(ctx.inputs[1].dtype)) return UnsupportedDType("Pow", ctx.inputs[1].dtype);
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = ctx.inputs[0].dtype;
  return InferBroadcastShape("Pow", ctx, 0, 2, &out);
}

OpSchema PowSchema() {
  OpSchema s;
  s.op_type = "Pow";
  s.min_inputs = s.max_inputs = 2;
  s.infer = PowInfer;
  s.in_place = {0};
  return s;
}

OpSchema VariadicSchema(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 1;
  s.max_inputs = -1;
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const DType dtype = ctx.inputs[0].dtype;
    if (!IsNumericDType(dtype)) return UnsupportedDType(op, dtype);
    for (const ValueInfo& in : ctx.inputs)
      if (in.dtype != dtype) return InvalidModel(op + ": inputs have different dtypes");
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = dtype;
    return InferBroadcastShape(op, ctx, 0, ctx.inputs.size(), &out);
  };
  return s;
}

// Clip: the output has the input's shape; bounds are scalars of its dtype.
Status ClipInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Clip", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsNumericDType(in.dtype)) return UnsupportedDType("Clip", in.dtype);
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const ValueInfo& bound = ctx.inputs[i];
    if (bound.dtype == DType::kUndefined) continue;
    if (bound.dtype != in.dtype) return InvalidModel("Clip: bounds must have the input's dtype");
    if (bound.rank_known && NumElements(bound.shape) > 1) return InvalidModel("Clip: bounds must be scalars");
  }
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

OpSchema ClipSchema() {
  OpSchema s;
  s.op_type = "Clip";
  s.min_inputs = 1;
  s.max_inputs = 3;
  s.attributes = {{"min", K::kFloat}, {"max", K::kFloat}};
  s.infer = ClipInfer;
  s.in_place = {0};
  return s;
}

OpSchema GeluSchema() {
  OpSchema s = UnarySchema("Gelu", IsFloatDType, {{"approximate", K::kString}});
  OpSchema::InferFn unary = s.infer;
  s.infer = [unary](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    const std::string mode = ctx.attrs ? ctx.attrs->GetString("approximate", "none") : "none";
    if (mode != "none" && mode != "tanh") return InvalidModel("Gelu: approximate must be 'none' or 'tanh'");
    return unary(ctx, outputs);
  };
  return s;
}

SchemaRegistrar sqrt_schema(UnarySchema("Sqrt", IsFloatDType));
SchemaRegistrar exp_schema(UnarySchema("Exp", IsFloatDType));
SchemaRegistrar log_schema(UnarySchema("Log", IsFloatDType));
SchemaRegistrar erf_schema(UnarySchema("Erf", IsNumericDType));
SchemaRegistrar reciprocal_schema(UnarySchema("Reciprocal", IsFloatDType));
SchemaRegistrar floor_schema(UnarySchema("Floor", IsFloatDType));
SchemaRegistrar ceil_schema(UnarySchema("Ceil", IsFloatDType));
SchemaRegistrar neg_schema(UnarySchema("Neg", SignedOrFloat));
SchemaRegistrar abs_schema(UnarySchema("Abs", IsNumericDType));
SchemaRegistrar leaky_relu_schema(UnarySchema("LeakyRelu", IsFloatDType, {{"alpha", K::kFloat}}));
SchemaRegistrar hard_sigmoid_schema(UnarySchema("HardSigmoid", IsFloatDType,
                                                {{"alpha", K::kFloat}, {"beta", K::kFloat}}));
SchemaRegistrar hard_swish_schema(UnarySchema("HardSwish", IsFloatDType));
SchemaRegistrar gelu_schema(GeluSchema());
SchemaRegistrar clip_schema(ClipSchema());
SchemaRegistrar pow_schema(PowSchema());
SchemaRegistrar min_schema(VariadicSchema("Min"));
SchemaRegistrar max_schema(VariadicSchema("Max"));

}  // namespace
}  // namespace maas
