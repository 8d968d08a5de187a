// Schema of LayerNormalization (opset 17): Y = (X − mean) / √(var + ε) · Scale + B
// over the dims from `axis` on; optional outputs Mean and InvStdDev (float32,
// X's shape with the normalized dims as 1). The fusion pass
// (graph/fusions_norm.cc) also makes it from the primitive ops exporters write.
#include "ops/normalization.h"

#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {

Status ResolveLayerNorm(const Shape& x, const Attributes* attrs, LayerNormLayout* layout) {
  const int64_t rank = static_cast<int64_t>(x.size());
  const int64_t axis = attrs ? attrs->GetInt("axis", -1) : -1;
  if (!NormalizeAxis(axis, rank, &layout->axis))
    return InvalidModel("LayerNormalization: axis " + std::to_string(axis) + " out of range for rank " +
                        std::to_string(rank));
  layout->rows = DimProduct(x, 0, layout->axis);
  layout->size = DimProduct(x, layout->axis, x.size());
  return Status::Ok();
}

bool LayerNormParamFits(const Shape& param, int64_t size) {
  const int64_t n = NumElements(param);
  return n < 0 || size < 0 || n == size || n == 1;
}

namespace {

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  const char* op = "LayerNormalization";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const ValueInfo& x = ctx.inputs[0];
  if (!IsFloatDType(x.dtype)) return UnsupportedDType(op, x.dtype);
  for (size_t i = 1; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i].dtype != DType::kUndefined && ctx.inputs[i].dtype != x.dtype)
      return InvalidModel(std::string(op) + ": Scale and B must have X's dtype");
  if (ctx.attrs && ctx.attrs->GetInt("stash_type", 1) != 1)
    return Unsupported(std::string(op) + ": stash_type other than float32");
  outputs[0].dtype = x.dtype;
  outputs[0].shape = x.shape;
  outputs[0].rank_known = x.rank_known;
  for (size_t i = 1; i < outputs.size(); ++i) {
    outputs[i].dtype = DType::kFloat32;
    outputs[i].rank_known = x.rank_known;
  }
  if (!x.rank_known) return Status::Ok();
  LayerNormLayout layout;
  MAAS_RETURN_IF_ERROR(ResolveLayerNorm(x.shape, ctx.attrs, &layout));
  for (size_t i = 1; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i].rank_known && ctx.inputs[i].dtype != DType::kUndefined &&
        !LayerNormParamFits(ctx.inputs[i].shape, layout.size))
      return InvalidModel(std::string(op) + ": Scale and B must hold one value per normalized element");
  for (size_t i = 1; i < outputs.size(); ++i) {
    outputs[i].shape = x.shape;
    for (size_t d = static_cast<size_t>(layout.axis); d < x.shape.size(); ++d) outputs[i].shape[d] = 1;
  }
  return Status::Ok();
}

OpSchema Make() {
  OpSchema s;
  s.op_type = "LayerNormalization";
  s.min_inputs = 2;
  s.max_inputs = 3;
  s.min_outputs = 1;
  s.max_outputs = 3;
  s.attributes = {
      {"axis", Attribute::Kind::kInt}, {"epsilon", Attribute::Kind::kFloat}, {"stash_type", Attribute::Kind::kInt}};
  s.infer = Infer;
  return s;
}

SchemaRegistrar registrar(Make());

}  // namespace
}  // namespace maas
