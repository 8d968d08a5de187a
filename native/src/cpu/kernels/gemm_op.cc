// Gemm and maas.FusedGemm on float32: Y = act(alpha * op(A) op(B) + beta * C),
// A and B 2-D, C optional (opset >= 11) and broadcast one-way to [M, N]. C is
// copied into Y first and the SGEMM accumulates on top of it with its beta;
// the fused activation runs in the SGEMM's epilogue.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/gemm_shapes.h"

namespace maas {
namespace {

// Writes C broadcast to [m, n] into y.
void FillWithC(const Tensor& c, int64_t m, int64_t n, float* y) {
  const float* src = c.data<float>();
  const int64_t c_rows = c.shape.size() == 2 ? c.shape[0] : 1;
  const int64_t c_cols = c.shape.empty() ? 1 : c.shape.back();
  for (int64_t i = 0; i < m; ++i) {
    const float* row = src + (c_rows == 1 ? 0 : i) * c_cols;
    float* dst = y + i * n;
    if (c_cols == n) {
      std::memcpy(dst, row, sizeof(float) * n);
    } else {
      std::fill(dst, dst + n, row[0]);
    }
  }
}

Status Compute(const std::string& op, KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || (c && c->dtype != DType::kFloat32))
    return InvalidArgument(op + ": expects float32 inputs");
  if (a.shape.size() != 2 || b.shape.size() != 2) return InvalidArgument(op + ": A and B must be 2-D");
  const bool trans_a = ctx.attrs && ctx.attrs->GetInt("transA", 0) != 0;
  const bool trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  const float alpha = ctx.attrs ? ctx.attrs->GetFloat("alpha", 1.0f) : 1.0f;
  float beta = ctx.attrs ? ctx.attrs->GetFloat("beta", 1.0f) : 1.0f;
  GemmEpilogue epilogue;
  if (ctx.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*ctx.attrs, &epilogue.activation));
  SgemmShape s;
  s.trans_a = trans_a;
  s.trans_b = trans_b;
  s.m = trans_a ? a.shape[1] : a.shape[0];
  s.k = trans_a ? a.shape[0] : a.shape[1];
  s.n = trans_b ? b.shape[0] : b.shape[1];
  const int64_t k_b = trans_b ? b.shape[1] : b.shape[0];
  if (s.k != k_b)
    return InvalidArgument(op + ": inner dims differ (" + ShapeToString(a.shape) + " x " + ShapeToString(b.shape) +
                           ")");
  if (c && !GemmCBroadcasts(c->shape, s.m, s.n))
    return InvalidArgument(op + ": C " + ShapeToString(c->shape) + " does not broadcast to [" + std::to_string(s.m) +
                           "," + std::to_string(s.n) + "]");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kFloat32, {s.m, s.n}));
  float* y = ctx.output(0).data<float>();
  if (s.m == 0 || s.n == 0) return Status::Ok();
  if (c && beta != 0.0f && c->num_elements() > 0) {
    FillWithC(*c, s.m, s.n, y);
  } else {
    beta = 0.0f;  // no C: Y is overwritten
  }
  s.lda = a.shape[1];
  s.ldb = b.shape[1];
  s.ldc = s.n;
  const bool has_epilogue = epilogue.activation.kind != Activation::kNone;
  Sgemm(s, alpha, a.data<float>(), b.data<float>(), beta, y, ctx.pool, static_cast<const PackedB*>(ctx.prepared),
        has_epilogue ? &epilogue : nullptr);
  return Status::Ok();
}

// A constant B (the usual weight initializer) is packed once at load instead
// of on every run; Sgemm checks the packed shape against each call's.
Status Prepare(const NodeDesc& node, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
  PrepareConstantB(node, node.attrs && node.attrs->GetInt("transB", 0) != 0, prepared, state_bytes);
  return Status::Ok();
}

CpuKernelRegistrar gemm_registrar(CpuKernel{
    "Gemm", {DType::kFloat32}, [](KernelContext& ctx) { return Compute("Gemm", ctx); }, Prepare, nullptr});
CpuKernelRegistrar fused_registrar(CpuKernel{
    kFusedGemmOp, {DType::kFloat32}, [](KernelContext& ctx) { return Compute(kFusedGemmOp, ctx); }, Prepare, nullptr});

}  // namespace
}  // namespace maas
