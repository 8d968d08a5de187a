// ConvTranspose on float32, as the adjoint of the lowered Conv: per image
// and group, the GEMM col[M/g * kernel, HW_in] = W_g^T * X_g (W_g the
// group's [C/g, M/g * kernel] slice, packed at load when constant), then
// Col2Im scatters the columns into Y (initialized with the bias).
#include <algorithm>
#include <vector>

#include "cpu/conv_lowering.h"
#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/conv_geometry.h"

namespace maas {
namespace {

const char* const kOp = "ConvTranspose";

struct TransposeState {
  ConvParams params;
  std::vector<std::unique_ptr<PackedA>> packed;  // per group: W_g^T; empty: pack per call
};

struct TransposeCall {
  ConvGeometry g{};  // in: X's spatial dims, out: Y's
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1, cg = 0, mg = 0;
  int64_t col_rows() const { return mg * g.kernel_size(); }
  int64_t col_floats() const { return col_rows() * g.in_size(); }
};

Status PlanCall(const ConvParams& params, const Shape& x, const Shape& w, StatusCode bad, TransposeCall* call) {
  if (x.size() != static_cast<size_t>(params.rank) + 2 || w.size() != x.size())
    return Status(bad, std::string(kOp) + ": X " + ShapeToString(x) + " and W " + ShapeToString(w) +
                           " do not fit the attributes");
  if (w[0] != x[1] || x[1] % params.group != 0)
    return Status(bad, std::string(kOp) + ": channels of X " + ShapeToString(x) + " and W " + ShapeToString(w) +
                           " do not match group " + std::to_string(params.group));
  call->batch = x[0];
  call->in_channels = x[1];
  call->group = params.group;
  call->cg = x[1] / params.group;
  call->mg = w[1];
  call->out_channels = w[1] * params.group;
  return ResolveConvGeometry(kOp, params, x.data() + 2, w.data() + 2, bad, &call->g);
}

const ConvParams* ParamsFor(const KernelContext& ctx, const Tensor& x, ConvParams* own, Status* status) {
  const TransposeState* state = static_cast<const TransposeState*>(ctx.prepared);
  if (state && state->params.rank + 2 == static_cast<int>(x.shape.size())) return &state->params;
  *status = ParseConvParams(kOp, ctx.attrs, ConvFamily::kConvTranspose, static_cast<int>(x.shape.size()) - 2, own);
  if (!status->ok()) *status = InvalidArgument(status->message());
  return own;
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 2));
  const Tensor& x = *ctx.inputs[0];
  const Tensor& w = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (x.dtype != DType::kFloat32 || w.dtype != DType::kFloat32 || (bias && bias->dtype != DType::kFloat32))
    return UnsupportedDType(kOp, x.dtype);
  ConvParams own;
  Status status;
  const ConvParams* params = ParamsFor(ctx, x, &own, &status);
  MAAS_RETURN_IF_ERROR(status);
  TransposeCall c;
  MAAS_RETURN_IF_ERROR(PlanCall(*params, x.shape, w.shape, StatusCode::kInvalidArgument, &c));
  if (bias && (bias->shape.size() != 1 || bias->shape[0] != c.out_channels))
    return InvalidArgument(std::string(kOp) + ": B " + ShapeToString(bias->shape) + " does not match " +
                           std::to_string(c.out_channels) + " output channels");
  Shape out_shape = {c.batch, c.out_channels};
  for (int i = kMaxSpatial - params->rank; i < kMaxSpatial; ++i) out_shape.push_back(c.g.out[i]);
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, DType::kFloat32, out_shape));
  float* y = ctx.output(0).data<float>();
  if (NumElements(out_shape) == 0) return Status::Ok();
  const TransposeState* state = static_cast<const TransposeState*>(ctx.prepared);
  KernelScratch col(ctx, static_cast<size_t>(c.col_floats()));
  const int64_t in_size = c.g.in_size(), out_size = c.g.out_size();
  const float* w_data = w.data<float>();
  for (int64_t n = 0; n < c.batch; ++n) {
    for (int64_t grp = 0; grp < c.group; ++grp) {
      float* y_g = y + (n * c.out_channels + grp * c.mg) * out_size;
      for (int64_t m = 0; m < c.mg; ++m)
        std::fill(y_g + m * out_size, y_g + (m + 1) * out_size, bias ? bias->data<float>()[grp * c.mg + m] : 0.0f);
      SgemmArgs args;
      args.shape = SgemmShape{true, false, c.col_rows(), in_size, c.cg, c.col_rows(), in_size, in_size};
      args.a = w_data + grp * c.cg * c.col_rows();
      args.b = x.data<float>() + (n * c.in_channels + grp * c.cg) * in_size;
      args.c = col.data();
      args.packed_a =
          state && static_cast<int64_t>(state->packed.size()) == c.group ? state->packed[grp].get() : nullptr;
      Sgemm(args, ctx.pool);
      Col2Im(col.data(), c.mg, c.g, y_g, ctx.pool);
    }
  }
  return Status::Ok();
}

Status Prepare(const NodeDesc& node, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
  const ValueInfo& x = node.inputs[0];
  const ValueInfo& w = node.inputs[1];
  const int64_t rank = x.rank_known ? static_cast<int64_t>(x.shape.size()) : (w.rank_known ? w.shape.size() : -1);
  if (rank < 3) return Status::Ok();
  auto state = std::make_shared<TransposeState>();
  MAAS_RETURN_IF_ERROR(
      ParseConvParams(kOp, node.attrs, ConvFamily::kConvTranspose, static_cast<int>(rank - 2), &state->params));
  const Tensor* weights = w.constant;
  if (weights && weights->dtype == DType::kFloat32 && weights->shape.size() == static_cast<size_t>(rank) &&
      weights->shape[0] % state->params.group == 0) {
    const int64_t cg = weights->shape[0] / state->params.group;
    const int64_t rows = weights->num_elements() / weights->shape[0];  // M/g * kernel size
    for (int64_t grp = 0; grp < state->params.group; ++grp) {
      auto packed = PackSgemmA(true, rows, cg, weights->data<float>() + grp * cg * rows, rows);
      if (!packed) {
        state->packed.clear();
        break;
      }
      *state_bytes += packed->size_bytes();
      state->packed.push_back(std::move(packed));
    }
    if (state->packed.empty()) *state_bytes = 0;
  }
  *prepared = std::move(state);
  return Status::Ok();
}

size_t Workspace(const NodeDesc& node, const void* prepared, int) {
  const TransposeState* state = static_cast<const TransposeState*>(prepared);
  if (!state || !node.inputs[0].concrete() || !node.inputs[1].concrete()) return 0;
  TransposeCall c;
  if (!PlanCall(state->params, node.inputs[0].shape, node.inputs[1].shape, StatusCode::kInvalidArgument, &c).ok())
    return 0;
  return static_cast<size_t>(c.col_floats()) * sizeof(float);
}

CpuKernelRegistrar registrar(CpuKernel{kOp, {DType::kFloat32}, Compute, Prepare, nullptr, Workspace});

}  // namespace
}  // namespace maas
