// Schema of Resize (opsets 10 to 19): nearest and linear modes over any
// axes, the coordinate transformations of ops/resize_rules.h. The output
// shape is known at load when scales or sizes are constants; otherwise only
// its rank, and the kernel allocates it.
#include "ops/op_util.h"
#include "ops/resize_rules.h"
#include "ops/schema.h"

namespace maas {
namespace {

bool NearestDType(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt8, DType::kUint8, DType::kInt32, DType::kInt64});
}

Status InferResize(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  const std::string op = "Resize";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  ResizeParams params;
  MAAS_RETURN_IF_ERROR(ParseResizeParams(ctx.attrs, ctx.opset, &params));
  const ValueInfo& x = ctx.inputs[0];
  if (params.mode == ResizeMode::kLinear ? !IsFloatDType(x.dtype) : !NearestDType(x.dtype))
    return UnsupportedDType(op, x.dtype);
  const ResizeInputs at = ResizeInputIndices(ctx.opset);
  auto input = [&](int i) -> const ValueInfo* {
    return i >= 0 && static_cast<size_t>(i) < ctx.inputs.size() && ctx.inputs[i].dtype != DType::kUndefined
               ? &ctx.inputs[i]
               : nullptr;
  };
  const ValueInfo* scales = input(at.scales);
  const ValueInfo* sizes = input(at.sizes);
  if (!scales && !sizes) return InvalidModel(op + ": needs scales or sizes");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = x.dtype;
  out.rank_known = x.rank_known;
  if (!x.rank_known) return Status::Ok();
  out.shape.assign(x.shape.size(), kUnknownDim);
  const bool scales_ready = !scales || scales->constant;
  const bool sizes_ready = !sizes || sizes->constant;
  if (!scales_ready || !sizes_ready || !x.concrete()) return Status::Ok();
  std::vector<float> axis_scales;
  return ResolveResizeShape(params, x.shape, scales ? scales->constant : nullptr, sizes ? sizes->constant : nullptr,
                            StatusCode::kInvalidModel, &out.shape, &axis_scales);
}

OpSchema ResizeSchema() {
  OpSchema s;
  s.op_type = "Resize";
  s.min_inputs = 1;
  s.max_inputs = 4;
  s.attributes = {{"antialias", Attribute::Kind::kInt},
                  {"axes", Attribute::Kind::kInts},
                  {"coordinate_transformation_mode", Attribute::Kind::kString},
                  {"cubic_coeff_a", Attribute::Kind::kFloat},
                  {"exclude_outside", Attribute::Kind::kInt},
                  {"extrapolation_value", Attribute::Kind::kFloat},
                  {"keep_aspect_ratio_policy", Attribute::Kind::kString},
                  {"mode", Attribute::Kind::kString},
                  {"nearest_mode", Attribute::Kind::kString}};
  s.infer = InferResize;
  return s;
}

SchemaRegistrar resize(ResizeSchema());

}  // namespace
}  // namespace maas
