// MatMul and maas.FusedMatMul with numpy semantics on float32: a 1-D A is a
// row [1,K] and a 1-D B a column [K,1] (the added dim is dropped from the
// output); the leading "batch" dims broadcast against each other. The fused
// form adds a bias [N] and an activation in the SGEMM's epilogue.
// When B has no batch and A's batch is not broadcast, the batch folds into
// M and the whole op is one SGEMM; otherwise one SGEMM per batch entry.
#include <algorithm>
#include <string>

#include "cpu/broadcast.h"
#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "cpu/thread_pool.h"
#include "ops/gemm_shapes.h"

namespace maas {
namespace {

// A batch entry smaller than this (multiply-adds) gets one thread of its own
// instead of the pool splitting the single SGEMM.
constexpr int64_t kSmallMatrixMacs = 1 << 18;

Status Compute(const std::string& op, KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || (bias && bias->dtype != DType::kFloat32))
    return InvalidArgument(op + ": expects float32 inputs");
  Shape out_shape;
  std::string error;
  if (!MatMulShape(a.shape, b.shape, &out_shape, &error)) return InvalidArgument(error);
  GemmEpilogue epilogue;
  if (ctx.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*ctx.attrs, &epilogue.activation));
  if (bias) {
    const int64_t n_out = b.shape.size() >= 2 ? b.shape.back() : 1;
    if (bias->shape.size() != 1 || bias->shape[0] != n_out || b.shape.size() < 2)
      return InvalidArgument(op + ": bias " + ShapeToString(bias->shape) + " does not match N of " +
                             ShapeToString(b.shape));
    epilogue.bias = bias->data<float>();
  }
  const GemmEpilogue* fused = bias || epilogue.activation.kind != Activation::kNone ? &epilogue : nullptr;
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kFloat32, out_shape));
  float* y = ctx.output(0).data<float>();
  if (NumElements(out_shape) == 0) return Status::Ok();

  const int64_t m = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  const int64_t k = a.shape.back();
  const int64_t n = b.shape.size() >= 2 ? b.shape.back() : 1;
  const Shape a_batch(a.shape.begin(), a.shape.end() - std::min<size_t>(a.shape.size(), 2));
  const Shape b_batch(b.shape.begin(), b.shape.end() - std::min<size_t>(b.shape.size(), 2));
  const float* a_data = a.data<float>();
  const float* b_data = b.data<float>();

  SgemmShape s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.lda = k;
  s.ldb = n;
  s.ldc = n;

  BinaryBroadcastPlan plan;
  MakeBinaryBroadcastPlan(a_batch, b_batch, &plan);  // cannot fail: checked above
  const int64_t batches = plan.num_elements;
  if (NumElements(b_batch) == 1 && NumElements(a_batch) == batches) {
    s.m = batches * m;  // stacked A rows against the one B
    Sgemm(s, 1.0f, a_data, b_data, 0.0f, y, ctx.pool, static_cast<const PackedB*>(ctx.prepared), fused);
    return Status::Ok();
  }

  // Offsets of each batch entry's A and B matrices, in output order.
  std::vector<int64_t> a_offsets, b_offsets;
  a_offsets.reserve(batches);
  b_offsets.reserve(batches);
  const int64_t inner = plan.inner();
  const int64_t a_step = plan.a_strides.back(), b_step = plan.b_strides.back();
  ForEachBroadcastRow(plan, 0, plan.rows(), [&](int64_t, int64_t a_off, int64_t b_off) {
    for (int64_t j = 0; j < inner; ++j) {
      a_offsets.push_back((a_off + j * a_step) * m * k);
      b_offsets.push_back((b_off + j * b_step) * k * n);
    }
  });
  auto run_batches = [&](int64_t begin, int64_t end, ThreadPool* pool) {
    for (int64_t i = begin; i < end; ++i)
      Sgemm(s, 1.0f, a_data + a_offsets[i], b_data + b_offsets[i], 0.0f, y + i * m * n, pool, nullptr, fused);
  };
  const bool small = m * n * k < kSmallMatrixMacs;
  if (ctx.pool && ctx.pool->num_threads() > 1 && small && batches > 1) {
    const int64_t grain = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, m * n * k));
    MaybeParallelFor(ctx.pool, batches, grain, [&](int64_t begin, int64_t end) { run_batches(begin, end, nullptr); });
  } else {
    run_batches(0, batches, ctx.pool);
  }
  return Status::Ok();
}

// A constant 2-D B (a weight) is packed once at load; only the single-SGEMM
// route above uses it, and Sgemm checks its shape against the call's.
Status Prepare(const NodeDesc& node, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
  PrepareConstantB(node, false, prepared, state_bytes);
  return Status::Ok();
}

CpuKernelRegistrar matmul_registrar(CpuKernel{
    "MatMul", {DType::kFloat32}, [](KernelContext& ctx) { return Compute("MatMul", ctx); }, Prepare, nullptr});
CpuKernelRegistrar fused_registrar(CpuKernel{kFusedMatMulOp,
                                             {DType::kFloat32},
                                             [](KernelContext& ctx) { return Compute(kFusedMatMulOp, ctx); },
                                             Prepare,
                                             nullptr});

}  // namespace
}  // namespace maas
