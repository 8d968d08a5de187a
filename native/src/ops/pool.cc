// Schemas of the pooling ops over the spatial dims of X [N, C, in...]:
//   MaxPool            Y [N, C, out...], optional Indices (int64, flat input positions)
//   AveragePool        Y [N, C, out...]; count_include_pad chooses the divisor
//   GlobalAveragePool  Y [N, C, 1...]
//   GlobalMaxPool      Y [N, C, 1...]
// Windows, padding, ceil_mode and dilations follow ops/conv_geometry.h.
#include "ops/conv_geometry.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status CheckPoolDType(const std::string& op, DType dtype, bool max_pool) {
  if (IsFloatDType(dtype)) return Status::Ok();
  if (max_pool && IsOneOf(dtype, {DType::kInt8, DType::kUint8})) return Status::Ok();
  return UnsupportedDType(op, dtype);
}

Status InferPool(const std::string& op, bool max_pool, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const ValueInfo& x = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckPoolDType(op, x.dtype, max_pool));
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = x.dtype;
  out.rank_known = x.rank_known;
  if (max_pool && outputs.size() > 1) {
    if (ctx.attrs && ctx.attrs->GetInt("storage_order", 0) != 0 && ctx.attrs->GetInt("storage_order", 0) != 1)
      return InvalidModel(op + ": storage_order must be 0 or 1");
    outputs[1].dtype = DType::kInt64;
    outputs[1].rank_known = x.rank_known;
  }
  if (!x.rank_known) return Status::Ok();
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank < 3) return InvalidModel(op + ": X needs a batch, a channel and at least one spatial dim");
  ConvParams params;
  MAAS_RETURN_IF_ERROR(ParseConvParams(op, ctx.attrs, ConvFamily::kPool, int(rank - 2), &params));
  ConvGeometry g{};
  MAAS_RETURN_IF_ERROR(ResolveConvGeometry(op, params, x.shape.data() + 2, nullptr, StatusCode::kInvalidModel, &g));
  out.shape = x.shape;
  for (int64_t i = 2; i < rank; ++i) out.shape[i] = g.out[kMaxSpatial - (rank - 2) + (i - 2)];
  if (max_pool && outputs.size() > 1) outputs[1].shape = out.shape;
  return Status::Ok();
}

OpSchema PoolSchema(const std::string& op, bool max_pool) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 1;
  s.max_inputs = 1;
  s.max_outputs = max_pool ? 2 : 1;
  s.attributes = {{"auto_pad", Attribute::Kind::kString}, {"ceil_mode", Attribute::Kind::kInt},
                  {"dilations", Attribute::Kind::kInts},  {"kernel_shape", Attribute::Kind::kInts, true},
                  {"pads", Attribute::Kind::kInts},       {"strides", Attribute::Kind::kInts}};
  if (max_pool)
    s.attributes.push_back({"storage_order", Attribute::Kind::kInt});
  else
    s.attributes.push_back({"count_include_pad", Attribute::Kind::kInt});
  s.infer = [op, max_pool](const InferContext& ctx, std::vector<ValueInfo>& outputs) {
    return InferPool(op, max_pool, ctx, outputs);
  };
  return s;
}

OpSchema GlobalPoolSchema(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 1;
  s.max_inputs = 1;
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const ValueInfo& x = ctx.inputs[0];
    if (!IsFloatDType(x.dtype)) return UnsupportedDType(op, x.dtype);
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = x.dtype;
    out.rank_known = x.rank_known;
    if (!x.rank_known) return Status::Ok();
    if (x.shape.size() < 3) return InvalidModel(op + ": X needs a batch, a channel and at least one spatial dim");
    out.shape = x.shape;
    for (size_t i = 2; i < out.shape.size(); ++i) out.shape[i] = 1;
    return Status::Ok();
  };
  return s;
}

SchemaRegistrar max_pool(PoolSchema("MaxPool", true));
SchemaRegistrar average_pool(PoolSchema("AveragePool", false));
SchemaRegistrar global_average_pool(GlobalPoolSchema("GlobalAveragePool"));
SchemaRegistrar global_max_pool(GlobalPoolSchema("GlobalMaxPool"));

}  // namespace
}  // namespace maas
