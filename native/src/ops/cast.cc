// Schema of Cast: any fixed-size dtype to any other (`to`); the shape is kept.
// Which pairs run is each backend's declaration (Backend::CheckNode).
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Cast", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsFixedSizeDType(in.dtype)) return UnsupportedDType("Cast", in.dtype);
  const DType to = static_cast<DType>(ctx.attrs ? ctx.attrs->GetInt("to", 0) : 0);
  if (!IsFixedSizeDType(to)) return Unsupported(std::string("Cast: unsupported target dtype ") + DTypeName(to));
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = to;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

OpSchema Make() {
  OpSchema s;
  s.op_type = "Cast";
  s.min_inputs = s.max_inputs = 1;
  s.attributes = {{"to", Attribute::Kind::kInt, true}, {"saturate", Attribute::Kind::kInt}};
  s.infer = Infer;
  return s;
}

SchemaRegistrar registrar(Make());

}  // namespace
}  // namespace maas
