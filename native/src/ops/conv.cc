// Schemas of the convolutions:
//   Conv            Y[N, M, out...] = X[N, C, in...] (*) W[M, C/group, k...] + B[M]
//   ConvTranspose   Y[N, M, out...] from X[N, C, in...] and W[C, M/group, k...], + B[M]
//   maas.FusedConv  act(Conv(X, W, B)), made by the fusion passes (graph/conv_fusions.cc)
// The spatial attributes (kernel_shape, strides, dilations, pads, auto_pad,
// output_padding, output_shape) follow ops/conv_geometry.h.
#include "ops/activation.h"
#include "ops/conv_geometry.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

const std::vector<AttrSpec> kConvAttrs = {
    {"auto_pad", Attribute::Kind::kString}, {"dilations", Attribute::Kind::kInts},
    {"group", Attribute::Kind::kInt},       {"kernel_shape", Attribute::Kind::kInts},
    {"pads", Attribute::Kind::kInts},       {"strides", Attribute::Kind::kInts}};

Status InferConv(const std::string& op, bool transpose, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const ValueInfo& x = ctx.inputs[0];
  const ValueInfo& w = ctx.inputs[1];
  const ValueInfo* bias = ctx.inputs.size() > 2 && ctx.inputs[2].dtype != DType::kUndefined ? &ctx.inputs[2] : nullptr;
  if (!IsFloatDType(x.dtype)) return UnsupportedDType(op, x.dtype);
  if (w.dtype != x.dtype) return InvalidModel(op + ": X and W dtypes differ");
  if (bias && bias->dtype != x.dtype) return InvalidModel(op + ": B dtype differs from X");
  if (bias && bias->rank_known && bias->shape.size() != 1) return InvalidModel(op + ": B must be 1-D");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = x.dtype;
  const int64_t rank =
      x.rank_known ? static_cast<int64_t>(x.shape.size()) : (w.rank_known ? static_cast<int64_t>(w.shape.size()) : -1);
  if (rank < 0) {
    out.rank_known = false;
    return Status::Ok();
  }
  if (rank < 3) return InvalidModel(op + ": X needs a batch, a channel and at least one spatial dim");
  if (x.rank_known && w.rank_known && static_cast<int64_t>(w.shape.size()) != rank)
    return InvalidModel(op + ": W's rank differs from X's");
  ConvParams params;
  MAAS_RETURN_IF_ERROR(ParseConvParams(op, ctx.attrs, transpose ? ConvFamily::kConvTranspose : ConvFamily::kConv,
                                       int(rank - 2), &params));
  out.rank_known = true;
  out.shape.assign(static_cast<size_t>(rank), kUnknownDim);
  if (x.rank_known) out.shape[0] = x.shape[0];
  const int64_t channels = x.rank_known ? x.shape[1] : kUnknownDim;
  const int64_t group = params.group;
  bool kernel_known = params.has_kernel;
  if (w.rank_known) {
    const int64_t w0 = w.shape[0], w1 = w.shape[1];
    if (!transpose) {
      // W [M, C/group, k...]
      if (w0 >= 0 && w0 % group != 0)
        return InvalidModel(op + ": M (" + std::to_string(w0) + ") is not a multiple of group");
      if (channels >= 0 && w1 >= 0 && channels != w1 * group)
        return InvalidModel(op + ": X has " + std::to_string(channels) + " channels, W expects " +
                            std::to_string(w1 * group));
      out.shape[1] = w0;
    } else {
      // W [C, M/group, k...]
      if (channels >= 0 && w0 >= 0 && channels != w0)
        return InvalidModel(op + ": X has " + std::to_string(channels) + " channels, W " + std::to_string(w0));
      if (w0 >= 0 && w0 % group != 0) return InvalidModel(op + ": C is not a multiple of group");
      out.shape[1] = w1 >= 0 ? w1 * group : kUnknownDim;
    }
    kernel_known = true;
    for (int64_t i = 2; i < rank; ++i) {
      if (w.shape[i] < 0) kernel_known = params.has_kernel;
      if (params.has_kernel && w.shape[i] >= 0 && w.shape[i] != params.kernel[kMaxSpatial - (rank - 2) + (i - 2)])
        return InvalidModel(op + ": kernel_shape differs from W's spatial dims");
    }
  }
  if (channels >= 0 && channels % group != 0) return InvalidModel(op + ": C is not a multiple of group");
  if (bias && bias->rank_known && bias->shape[0] >= 0 && out.shape[1] >= 0 && bias->shape[0] != out.shape[1])
    return InvalidModel(op + ": B has " + std::to_string(bias->shape[0]) + " values for " +
                        std::to_string(out.shape[1]) + " output channels");
  if (!x.rank_known || !kernel_known) return Status::Ok();
  const int64_t* weight_kernel = w.rank_known ? w.shape.data() + 2 : nullptr;
  ConvGeometry g{};
  MAAS_RETURN_IF_ERROR(
      ResolveConvGeometry(op, params, x.shape.data() + 2, weight_kernel, StatusCode::kInvalidModel, &g));
  for (int64_t i = 2; i < rank; ++i) out.shape[i] = g.out[kMaxSpatial - (rank - 2) + (i - 2)];
  return Status::Ok();
}

OpSchema ConvSchema(const std::string& op, bool transpose, bool fused) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 2;
  s.max_inputs = 3;
  s.attributes = kConvAttrs;
  if (transpose) {
    s.attributes.push_back({"output_padding", Attribute::Kind::kInts});
    s.attributes.push_back({"output_shape", Attribute::Kind::kInts});
  }
  if (fused) s.attributes.insert(s.attributes.end(), FusedActivationAttrs().begin(), FusedActivationAttrs().end());
  s.infer = [op, transpose, fused](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    if (fused) MAAS_RETURN_IF_ERROR(CheckFusedActivation(op, ctx));
    return InferConv(op, transpose, ctx, outputs);
  };
  return s;
}

SchemaRegistrar conv(ConvSchema("Conv", false, false));
SchemaRegistrar fused_conv(ConvSchema(kFusedConvOp, false, true));
SchemaRegistrar conv_transpose(ConvSchema("ConvTranspose", true, false));

}  // namespace
}  // namespace maas
