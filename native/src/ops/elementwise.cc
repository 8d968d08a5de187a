// Schemas of the elementwise ops: Add, Sub, Mul, Div (numpy broadcasting)
// and the one-input activations Relu, Sigmoid, Tanh. Outputs may reuse an
// input's memory (in place) when that input dies here.
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status InferBinary(const std::string& op, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (!IsNumericDType(a.dtype)) return UnsupportedDType(op, a.dtype);
  if (a.dtype != b.dtype)
    return InvalidModel(op + ": input dtypes differ (" + DTypeName(a.dtype) + " vs " + DTypeName(b.dtype) + ")");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = a.dtype;
  out.rank_known = a.rank_known && b.rank_known;
  out.shape.clear();
  if (out.rank_known && !BroadcastShapes(a.shape, b.shape, &out.shape))
    return InvalidModel(op + ": shapes " + ShapeToString(a.shape) + " and " + ShapeToString(b.shape) +
                        " do not broadcast");
  return Status::Ok();
}

OpSchema BinarySchema(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 2;
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) { return InferBinary(op, ctx, outputs); };
  // The output may take over A's memory (the planner checks A has the
  // output's full size, so only B can be broadcast).
  s.in_place = {0};
  return s;
}

// One input, same dtype and shape out; `legal` is the op's type constraint.
OpSchema UnarySchema(const std::string& op, bool (*legal)(DType)) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 1;
  s.infer = [op, legal](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const ValueInfo& in = ctx.inputs[0];
    if (!legal(in.dtype)) return UnsupportedDType(op, in.dtype);
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = in.dtype;
    out.shape = in.shape;
    out.rank_known = in.rank_known;
    return Status::Ok();
  };
  s.in_place = {0};
  return s;
}

// Relu since opset 14 also takes signed integers.
bool ReluDType(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64});
}

SchemaRegistrar add(BinarySchema("Add"));
SchemaRegistrar sub(BinarySchema("Sub"));
SchemaRegistrar mul(BinarySchema("Mul"));
SchemaRegistrar div(BinarySchema("Div"));
SchemaRegistrar relu(UnarySchema("Relu", ReluDType));
SchemaRegistrar sigmoid(UnarySchema("Sigmoid", IsFloatDType));
SchemaRegistrar tanh_schema(UnarySchema("Tanh", IsFloatDType));

}  // namespace
}  // namespace maas
