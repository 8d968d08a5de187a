// Schema of BatchNormalization in inference mode:
//   Y = (X - mean) / sqrt(var + epsilon) * scale + B, per channel (dim 1)
// X [N, C, ...]; scale, B, mean, var [C]. Training mode (training_mode=1,
// or the running-statistics outputs of opsets before 14) is not supported:
// the engine serves inference. Conv + BatchNormalization with constant
// parameters is folded into the Conv at load (graph/conv_fusions.cc).
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

Status InferBatchNorm(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  const std::string op = "BatchNormalization";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 5));
  if (outputs.size() > 1) return Unsupported(op + ": training outputs (running mean and variance)");
  if (ctx.attrs && ctx.attrs->GetInt("training_mode", 0) != 0) return Unsupported(op + ": training_mode");
  const ValueInfo& x = ctx.inputs[0];
  if (!IsFloatDType(x.dtype)) return UnsupportedDType(op, x.dtype);
  const int64_t channels = x.rank_known && x.shape.size() >= 2 ? x.shape[1] : kUnknownDim;
  if (x.rank_known && x.shape.size() < 2) return InvalidModel(op + ": X needs a batch and a channel dim");
  for (size_t i = 1; i < 5; ++i) {
    const ValueInfo& p = ctx.inputs[i];
    // Opset 15 lets mean and var differ in type from X (float16 X, float stats).
    if (!IsFloatDType(p.dtype)) return InvalidModel(op + ": input " + std::to_string(i) + " must be a float tensor");
    if (!p.rank_known) continue;
    if (p.shape.size() != 1) return InvalidModel(op + ": input " + std::to_string(i) + " must be 1-D");
    if (channels >= 0 && p.shape[0] >= 0 && p.shape[0] != channels)
      return InvalidModel(op + ": input " + std::to_string(i) + " has " + std::to_string(p.shape[0]) + " values for " +
                          std::to_string(channels) + " channels");
  }
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = x.dtype;
  out.shape = x.shape;
  out.rank_known = x.rank_known;
  return Status::Ok();
}

OpSchema BatchNormSchema() {
  OpSchema s;
  s.op_type = "BatchNormalization";
  s.min_inputs = 5;
  s.max_inputs = 5;
  s.max_outputs = 5;
  s.attributes = {{"epsilon", Attribute::Kind::kFloat},
                  {"momentum", Attribute::Kind::kFloat},
                  {"training_mode", Attribute::Kind::kInt}};
  s.infer = InferBatchNorm;
  s.in_place = {0};  // elementwise over X
  return s;
}

SchemaRegistrar batch_norm(BatchNormSchema());

}  // namespace
}  // namespace maas
