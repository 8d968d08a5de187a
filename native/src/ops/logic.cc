// Schemas of comparisons and logic: Equal, Less, Greater, LessOrEqual,
// GreaterOrEqual (numeric inputs; Equal also bool) give bool outputs; And,
// Or, Xor, Not take bool; Where(cond, x, y) picks between two tensors of one
// dtype. All broadcast numpy-style.
#include "ops/elementwise_schema.h"
#include "ops/op_util.h"

namespace maas {
namespace {

bool IsBool(DType d) { return d == DType::kBool; }
bool NumericOrBool(DType d) { return IsNumericDType(d) || d == DType::kBool; }

Status WhereInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Where", ctx, 3));
  if (ctx.inputs[0].dtype != DType::kBool) return InvalidModel("Where: the condition must be bool");
  const DType dtype = ctx.inputs[1].dtype;
  if (!IsFixedSizeDType(dtype)) return UnsupportedDType("Where", dtype);
  if (ctx.inputs[2].dtype != dtype) return InvalidModel("Where: X and Y dtypes differ");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = dtype;
  return InferBroadcastShape("Where", ctx, 0, 3, &out);
}

OpSchema WhereSchema() {
  OpSchema s;
  s.op_type = "Where";
  s.min_inputs = s.max_inputs = 3;
  s.infer = WhereInfer;
  return s;
}

SchemaRegistrar equal(BinarySchema("Equal", NumericOrBool, true));
SchemaRegistrar less(BinarySchema("Less", IsNumericDType, true));
SchemaRegistrar greater(BinarySchema("Greater", IsNumericDType, true));
SchemaRegistrar less_or_equal(BinarySchema("LessOrEqual", IsNumericDType, true));
SchemaRegistrar greater_or_equal(BinarySchema("GreaterOrEqual", IsNumericDType, true));
SchemaRegistrar and_schema(BinarySchema("And", IsBool));
SchemaRegistrar or_schema(BinarySchema("Or", IsBool));
SchemaRegistrar xor_schema(BinarySchema("Xor", IsBool));
SchemaRegistrar not_schema(UnarySchema("Not", IsBool));
SchemaRegistrar where(WhereSchema());

}  // namespace
}  // namespace maas
