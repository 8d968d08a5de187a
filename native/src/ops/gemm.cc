// Schemas of the matrix products and their fused forms:
//   Gemm             Y = alpha * op(A) op(B) + beta * C   (A, B 2-D; C broadcast one-way)
//   MatMul           numpy matmul (1-D promotion, broadcast batch dims)
//   maas.FusedGemm   act(Gemm(A, B, C))                   (made by the fusion pass)
//   maas.FusedMatMul act(MatMul(A, B) + bias)            bias 1-D [N], optional
// The fused ops carry `activation` (ops/activation.h) and are the engine's
// own: models may not use them directly (graph_builder refuses domain maas).
#include "ops/activation.h"
#include "ops/gemm_shapes.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {

bool GemmCBroadcasts(const Shape& c, int64_t m, int64_t n) {
  if (c.size() > 2) return false;
  auto fits = [](int64_t have, int64_t want) { return have == 1 || have < 0 || want < 0 || have == want; };
  if (c.size() == 2) return fits(c[0], m) && fits(c[1], n);
  if (c.size() == 1) return fits(c[0], n);
  return true;
}

namespace {

bool MatrixDType(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt32, DType::kInt64, DType::kUint32, DType::kUint64});
}

Status InferGemm(const std::string& op, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (!MatrixDType(a.dtype)) return UnsupportedDType(op, a.dtype);
  if (b.dtype != a.dtype) return InvalidModel(op + ": A and B dtypes differ");
  const bool has_c = ctx.inputs.size() > 2 && ctx.inputs[2].dtype != DType::kUndefined;
  if (has_c && ctx.inputs[2].dtype != a.dtype) return InvalidModel(op + ": C dtype differs");
  const bool trans_a = ctx.attrs && ctx.attrs->GetInt("transA", 0) != 0;
  const bool trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = a.dtype;
  out.rank_known = true;
  out.shape = {kUnknownDim, kUnknownDim};
  if ((a.rank_known && a.shape.size() != 2) || (b.rank_known && b.shape.size() != 2))
    return InvalidModel(op + ": A and B must be 2-D");
  int64_t k_a = kUnknownDim, k_b = kUnknownDim;
  if (a.rank_known) {
    out.shape[0] = trans_a ? a.shape[1] : a.shape[0];
    k_a = trans_a ? a.shape[0] : a.shape[1];
  }
  if (b.rank_known) {
    out.shape[1] = trans_b ? b.shape[0] : b.shape[1];
    k_b = trans_b ? b.shape[1] : b.shape[0];
  }
  if (k_a >= 0 && k_b >= 0 && k_a != k_b)
    return InvalidModel(op + ": inner dims differ (" + ShapeToString(a.shape) + " x " + ShapeToString(b.shape) + ")");
  if (has_c && ctx.inputs[2].rank_known && !GemmCBroadcasts(ctx.inputs[2].shape, out.shape[0], out.shape[1]))
    return InvalidModel(op + ": C " + ShapeToString(ctx.inputs[2].shape) + " does not broadcast to " +
                        ShapeToString(out.shape));
  return Status::Ok();
}

Status InferMatMul(const std::string& op, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (!MatrixDType(a.dtype)) return UnsupportedDType(op, a.dtype);
  if (b.dtype != a.dtype) return InvalidModel(op + ": input dtypes differ");
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = a.dtype;
  out.shape.clear();
  out.rank_known = a.rank_known && b.rank_known;
  if (!out.rank_known) return Status::Ok();
  std::string error;
  if (!MatMulShape(a.shape, b.shape, &out.shape, &error)) return InvalidModel(error);
  return Status::Ok();
}

// The fused MatMul's bias: 1-D, as long as B's last dim.
Status CheckBias(const std::string& op, const InferContext& ctx) {
  if (ctx.inputs.size() < 3 || ctx.inputs[2].dtype == DType::kUndefined) return Status::Ok();
  const ValueInfo& bias = ctx.inputs[2];
  if (bias.dtype != ctx.inputs[0].dtype) return InvalidModel(op + ": bias dtype differs");
  if (!bias.rank_known || bias.shape.size() != 1) return InvalidModel(op + ": bias must be 1-D");
  const ValueInfo& b = ctx.inputs[1];
  if (b.rank_known && b.shape.size() >= 2 && b.shape.back() >= 0 && bias.shape[0] >= 0 &&
      bias.shape[0] != b.shape.back())
    return InvalidModel(op + ": bias length " + std::to_string(bias.shape[0]) + " differs from N " +
                        std::to_string(b.shape.back()));
  return Status::Ok();
}

const std::vector<AttrSpec> kGemmAttrs = {{"transA", Attribute::Kind::kInt},
                                          {"transB", Attribute::Kind::kInt},
                                          {"alpha", Attribute::Kind::kFloat},
                                          {"beta", Attribute::Kind::kFloat}};

OpSchema GemmSchema(const std::string& op, bool fused) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 2;
  s.max_inputs = 3;
  s.attributes = kGemmAttrs;
  if (fused) s.attributes.insert(s.attributes.end(), FusedActivationAttrs().begin(), FusedActivationAttrs().end());
  s.infer = [op, fused](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    if (fused) MAAS_RETURN_IF_ERROR(CheckFusedActivation(op, ctx));
    return InferGemm(op, ctx, outputs);
  };
  return s;
}

OpSchema MatMulSchema(const std::string& op, bool fused) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 2;
  s.max_inputs = fused ? 3 : 2;
  if (fused) s.attributes = FusedActivationAttrs();
  s.infer = [op, fused](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    if (fused) MAAS_RETURN_IF_ERROR(CheckFusedActivation(op, ctx));
    if (fused) MAAS_RETURN_IF_ERROR(CheckBias(op, ctx));
    return InferMatMul(op, ctx, outputs);
  };
  return s;
}

SchemaRegistrar gemm(GemmSchema("Gemm", false));
SchemaRegistrar matmul(MatMulSchema("MatMul", false));
SchemaRegistrar fused_gemm(GemmSchema(kFusedGemmOp, true));
SchemaRegistrar fused_matmul(MatMulSchema(kFusedMatMulOp, true));

}  // namespace
}  // namespace maas
