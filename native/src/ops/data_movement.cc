// Schemas of the ops that move or relabel data: Identity, Reshape, Flatten
// (views: the output is the input's bytes under a new shape), Transpose and
// Concat. Any fixed-size dtype.
#include "ops/layout.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

ValueInfo& SetOutput(std::vector<ValueInfo>& outputs, DType dtype) {
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = dtype;
  return out;
}

Status RequireFixedSize(const std::string& op, DType dtype) {
  return IsFixedSizeDType(dtype) ? Status::Ok() : UnsupportedDType(op, dtype);
}

// ---- Identity ------------------------------------------------------------

Status IdentityInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Identity", ctx, 1));
  MAAS_RETURN_IF_ERROR(RequireFixedSize("Identity", ctx.inputs[0].dtype));
  ValueInfo& out = SetOutput(outputs, ctx.inputs[0].dtype);
  out.shape = ctx.inputs[0].shape;
  out.rank_known = ctx.inputs[0].rank_known;
  return Status::Ok();
}

// ---- Reshape -------------------------------------------------------------

Status ReshapeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 1));
  const ValueInfo& data = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(RequireFixedSize("Reshape", data.dtype));
  const bool allowzero = ctx.attrs && ctx.attrs->GetInt("allowzero", 0) != 0;
  ValueInfo& out = SetOutput(outputs, data.dtype);
  std::vector<int64_t> spec;
  if (ctx.opset < 5) {
    if (!ctx.attrs || !ctx.attrs->Has("shape")) return InvalidModel("Reshape: missing 'shape' attribute");
    spec = ctx.attrs->GetInts("shape", {});
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 2));
    const ValueInfo& shape_in = ctx.inputs[1];
    if (shape_in.dtype != DType::kInt64) return InvalidModel("Reshape: shape input must be int64");
    if (!shape_in.constant) {
      // Only the rank is known: the length of the 1-D shape input.
      out.rank_known = shape_in.rank_known && shape_in.shape.size() == 1 && shape_in.shape[0] >= 0;
      out.shape = out.rank_known ? Shape(static_cast<size_t>(shape_in.shape[0]), kUnknownDim) : Shape{};
      return Status::Ok();
    }
    if (!ReadShapeTensor(*shape_in.constant, &spec)) return InvalidModel("Reshape: shape must be a 1-D int64 tensor");
  }
  if (!data.rank_known) {
    // Without the input rank, a 0 cannot be resolved and -1 cannot be inferred.
    out.shape.clear();
    for (int64_t s : spec) out.shape.push_back(s > 0 || (s == 0 && allowzero) ? s : kUnknownDim);
    out.rank_known = true;
    return Status::Ok();
  }
  out.rank_known = true;
  return ResolveReshape(data.shape, spec, allowzero, &out.shape);
}

// ---- Flatten -------------------------------------------------------------

Status FlattenInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Flatten", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(RequireFixedSize("Flatten", in.dtype));
  ValueInfo& out = SetOutput(outputs, in.dtype);
  out.rank_known = true;
  if (!in.rank_known) {
    out.shape = {kUnknownDim, kUnknownDim};
    return Status::Ok();
  }
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(FlattenAxis(static_cast<int64_t>(in.shape.size()), ctx.attrs, &axis));
  out.shape = {DimProduct(in.shape, 0, axis), DimProduct(in.shape, axis, in.shape.size())};
  return Status::Ok();
}

// ---- Transpose -----------------------------------------------------------

Status TransposeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Transpose", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(RequireFixedSize("Transpose", in.dtype));
  ValueInfo& out = SetOutput(outputs, in.dtype);
  out.rank_known = in.rank_known;
  out.shape.clear();
  if (!in.rank_known) return Status::Ok();
  std::vector<int64_t> perm;
  MAAS_RETURN_IF_ERROR(ResolvePerm(ctx.attrs, in.shape.size(), &perm));
  for (int64_t p : perm) out.shape.push_back(in.shape[p]);
  return Status::Ok();
}

// ---- Concat --------------------------------------------------------------

Status ConcatInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Concat", ctx, 1));
  const DType dtype = ctx.inputs[0].dtype;
  MAAS_RETURN_IF_ERROR(RequireFixedSize("Concat", dtype));
  ValueInfo& out = SetOutput(outputs, dtype);
  out.shape.clear();
  out.rank_known = false;
  const ValueInfo* ranked = nullptr;
  for (const ValueInfo& in : ctx.inputs) {
    if (in.dtype != dtype) return InvalidModel("Concat: inputs have different dtypes");
    if (in.rank_known && !ranked) ranked = &in;
  }
  if (!ranked) return Status::Ok();
  const int64_t rank = static_cast<int64_t>(ranked->shape.size());
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(ConcatAxis(ctx.attrs, ctx.opset, rank, &axis));
  Shape shape(rank, kUnknownDim);
  int64_t axis_total = 0;
  bool all_ranked = true;
  for (const ValueInfo& in : ctx.inputs) {
    if (!in.rank_known) {
      all_ranked = false;
      continue;
    }
    if (static_cast<int64_t>(in.shape.size()) != rank) return InvalidModel("Concat: inputs differ in rank");
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis || in.shape[d] < 0) continue;
      if (shape[d] >= 0 && shape[d] != in.shape[d])
        return InvalidModel("Concat: dim " + std::to_string(d) + " differs between inputs");
      shape[d] = in.shape[d];
    }
    axis_total = (axis_total < 0 || in.shape[axis] < 0) ? kUnknownDim : axis_total + in.shape[axis];
  }
  shape[axis] = all_ranked ? axis_total : kUnknownDim;
  out.shape = shape;
  out.rank_known = true;
  return Status::Ok();
}

OpSchema Schema(const std::string& op, int min_inputs, int max_inputs, OpSchema::InferFn infer,
                std::vector<AttrSpec> attrs, bool view) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.infer = std::move(infer);
  s.attributes = std::move(attrs);
  if (view) s.views = {0};
  return s;
}

using K = Attribute::Kind;
SchemaRegistrar identity(Schema("Identity", 1, 1, IdentityInfer, {}, true));
SchemaRegistrar reshape(Schema("Reshape", 1, 2, ReshapeInfer, {{"allowzero", K::kInt}, {"shape", K::kInts}}, true));
SchemaRegistrar flatten(Schema("Flatten", 1, 1, FlattenInfer, {{"axis", K::kInt}}, true));
SchemaRegistrar transpose(Schema("Transpose", 1, 1, TransposeInfer, {{"perm", K::kInts}}, false));
SchemaRegistrar concat(Schema("Concat", 1, -1, ConcatInfer, {{"axis", K::kInt}}, false));

}  // namespace
}  // namespace maas
