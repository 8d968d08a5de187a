// Schemas of the elementwise ops: Add, Sub, Mul, Div (numpy broadcasting)
// and the one-input activations Relu, Sigmoid, Tanh; the builders other
// elementwise families share (ops/elementwise_schema.h). Outputs may reuse an
// input's memory (in place) when that input dies here.
#include "ops/elementwise_schema.h"
#include "ops/op_util.h"

namespace maas {

Status InferBroadcastShape(const std::string& op, const InferContext& ctx, size_t first, size_t count, ValueInfo* out) {
  out->rank_known = true;
  out->shape.clear();
  for (size_t i = first; i < first + count && i < ctx.inputs.size(); ++i) {
    const ValueInfo& in = ctx.inputs[i];
    if (in.dtype == DType::kUndefined) continue;
    if (!in.rank_known) {
      out->rank_known = false;
      continue;
    }
    Shape merged;
    if (!BroadcastShapes(out->shape, in.shape, &merged))
      return InvalidModel(op + ": shapes " + ShapeToString(out->shape) + " and " + ShapeToString(in.shape) +
                          " do not broadcast");
    out->shape = std::move(merged);
  }
  if (!out->rank_known) out->shape.clear();
  return Status::Ok();
}

OpSchema BinarySchema(const std::string& op, bool (*legal)(DType), bool bool_output) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 2;
  s.infer = [op, legal, bool_output](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
    const ValueInfo& a = ctx.inputs[0];
    const ValueInfo& b = ctx.inputs[1];
    if (!legal(a.dtype)) return UnsupportedDType(op, a.dtype);
    if (a.dtype != b.dtype)
      return InvalidModel(op + ": input dtypes differ (" + DTypeName(a.dtype) + " vs " + DTypeName(b.dtype) + ")");
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = bool_output ? DType::kBool : a.dtype;
    return InferBroadcastShape(op, ctx, 0, 2, &out);
  };
  // The output may take over A's memory (the planner checks A has the
  // output's full size, so only B can be broadcast).
  if (!bool_output) s.in_place = {0};
  return s;
}

OpSchema UnarySchema(const std::string& op, bool (*legal)(DType), std::vector<AttrSpec> attributes) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 1;
  s.attributes = std::move(attributes);
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

namespace {

// Relu since opset 14 also takes signed integers.
bool ReluDType(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64});
}

SchemaRegistrar add(BinarySchema("Add", IsNumericDType));
SchemaRegistrar sub(BinarySchema("Sub", IsNumericDType));
SchemaRegistrar mul(BinarySchema("Mul", IsNumericDType));
SchemaRegistrar div(BinarySchema("Div", IsNumericDType));
SchemaRegistrar relu(UnarySchema("Relu", ReluDType));
SchemaRegistrar sigmoid(UnarySchema("Sigmoid", IsFloatDType));
SchemaRegistrar tanh_schema(UnarySchema("Tanh", IsFloatDType));

}  // namespace
}  // namespace maas
