// Gemm: Y = alpha * op(A) * op(B) + beta * C, float32, A and B 2-D, C optional
// (opset >= 11) and broadcast one-way to [M, N]. C is copied into Y first and
// the SGEMM accumulates on top of it with its beta.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "Gemm";

// True when a C of shape `c` broadcasts one-way to [m, n] (unknown dims pass).
bool CBroadcasts(const Shape& c, int64_t m, int64_t n) {
  if (c.size() > 2) return false;
  auto fits = [](int64_t have, int64_t want) { return have == 1 || have < 0 || want < 0 || have == want; };
  if (c.size() == 2) return fits(c[0], m) && fits(c[1], n);
  if (c.size() == 1) return fits(c[0], n);
  return true;
}

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 2));
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (a.dtype != DType::kFloat32) return UnsupportedDType(kOp, a.dtype);
  if (b.dtype != a.dtype) return InvalidModel(std::string(kOp) + ": A and B dtypes differ");
  const bool has_c = ctx.inputs.size() > 2 && ctx.inputs[2].dtype != DType::kUndefined;
  if (has_c && ctx.inputs[2].dtype != a.dtype) return InvalidModel(std::string(kOp) + ": C dtype differs");
  const bool trans_a = ctx.attrs && ctx.attrs->GetInt("transA", 0) != 0;
  const bool trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = a.dtype;
  out.rank_known = true;
  out.shape = {kUnknownDim, kUnknownDim};
  if ((a.rank_known && a.shape.size() != 2) || (b.rank_known && b.shape.size() != 2))
    return InvalidModel(std::string(kOp) + ": A and B must be 2-D");
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
    return InvalidModel(std::string(kOp) + ": inner dims differ (" + ShapeToString(a.shape) + " x " +
                        ShapeToString(b.shape) + ")");
  if (has_c && ctx.inputs[2].rank_known && !CBroadcasts(ctx.inputs[2].shape, out.shape[0], out.shape[1]))
    return InvalidModel(std::string(kOp) + ": C " + ShapeToString(ctx.inputs[2].shape) + " does not broadcast to " +
                        ShapeToString(out.shape));
  return Status::Ok();
}

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

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || (c && c->dtype != DType::kFloat32))
    return InvalidArgument(std::string(kOp) + ": expects float32 inputs");
  if (a.shape.size() != 2 || b.shape.size() != 2) return InvalidArgument(std::string(kOp) + ": A and B must be 2-D");
  const bool trans_a = ctx.attrs && ctx.attrs->GetInt("transA", 0) != 0;
  const bool trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  const float alpha = ctx.attrs ? ctx.attrs->GetFloat("alpha", 1.0f) : 1.0f;
  float beta = ctx.attrs ? ctx.attrs->GetFloat("beta", 1.0f) : 1.0f;
  SgemmShape s;
  s.trans_a = trans_a;
  s.trans_b = trans_b;
  s.m = trans_a ? a.shape[1] : a.shape[0];
  s.k = trans_a ? a.shape[0] : a.shape[1];
  s.n = trans_b ? b.shape[0] : b.shape[1];
  const int64_t k_b = trans_b ? b.shape[1] : b.shape[0];
  if (s.k != k_b)
    return InvalidArgument(std::string(kOp) + ": inner dims differ (" + ShapeToString(a.shape) + " x " +
                           ShapeToString(b.shape) + ")");
  if (c && !CBroadcasts(c->shape, s.m, s.n))
    return InvalidArgument(std::string(kOp) + ": C " + ShapeToString(c->shape) + " does not broadcast to [" +
                           std::to_string(s.m) + "," + std::to_string(s.n) + "]");
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, DType::kFloat32, {s.m, s.n}));
  float* y = (*ctx.outputs)[0].data<float>();
  if (s.m == 0 || s.n == 0) return Status::Ok();
  if (c && beta != 0.0f && c->num_elements() > 0) {
    FillWithC(*c, s.m, s.n, y);
  } else {
    beta = 0.0f;  // no C: Y is overwritten
  }
  s.lda = a.shape[1];
  s.ldb = b.shape[1];
  s.ldc = s.n;
  Sgemm(s, alpha, a.data<float>(), b.data<float>(), beta, y, ctx.pool, static_cast<const PackedB*>(ctx.prepared));
  return Status::Ok();
}

// A constant B (the usual weight initializer) is packed once here instead of
// on every run; Sgemm checks the packed shape against each call's.
Status Prepare(const InferContext& ctx, std::shared_ptr<const void>* prepared) {
  if (ctx.inputs.size() < 2) return Status::Ok();
  const Tensor* b = ctx.inputs[1].constant;
  if (!b || b->dtype != DType::kFloat32 || b->shape.size() != 2 || b->num_elements() == 0) return Status::Ok();
  const bool trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  const int64_t k = trans_b ? b->shape[1] : b->shape[0];
  const int64_t n = trans_b ? b->shape[0] : b->shape[1];
  *prepared = std::shared_ptr<const PackedB>(PackSgemmB(trans_b, k, n, b->data<float>(), b->shape[1]));
  return Status::Ok();
}

KernelRegistrar registrar(OpKernel{kOp, Infer, Compute, Prepare});

}  // namespace
}  // namespace maas
