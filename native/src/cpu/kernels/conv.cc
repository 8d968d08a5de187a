// Conv and maas.FusedConv on float32, through one of three routes chosen
// from the shapes:
//   depthwise  one input channel per group: a direct stencil per plane
//              (cpu/conv_lowering.h), no GEMM
//   pointwise  1x1 kernel, unit stride, no padding: the image already is the
//              GEMM's B; Y_g[M/g, HW] = W_g[M/g, C/g] * X_g[C/g, HW]
//   lowered    everything else: the same GEMM with K = C/g * kernel size,
//              whose B (the image's columns) the GEMM packs straight from a
//              zero-padded copy of the image (implicit Im2Col,
//              cpu/conv_lowering.h)
// The bias and the fused activation run in the GEMM's epilogue (row bias:
// one value per output channel). A constant W is packed per group at load
// (the GEMM's A). With at least as many images as threads, each thread
// takes whole images; otherwise the GEMM splits one image's work. Scratch
// (the padded image, the GEMM's packing) is per thread and only grows.
#include <algorithm>
#include <atomic>
#include <vector>

#include "cpu/aligned_floats.h"
#include "cpu/conv_lowering.h"
#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/conv_geometry.h"

namespace maas {
namespace {

// What prepare derives once per node.
struct ConvState {
  ConvParams params;
  ActivationSpec activation;
  std::vector<std::unique_ptr<PackedA>> packed;  // per group (W_g as the GEMM's A); empty: pack per call
};

enum class ConvRoute { kDepthwise, kPointwise, kLowered };

// One call's shapes and how it runs.
struct ConvCall {
  ConvGeometry g{};
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  int64_t cg = 0, mg = 0;  // channels per group, in and out
  int64_t k_dim = 0;       // the GEMM's K: cg * kernel size
  ConvRoute route = ConvRoute::kLowered;
  bool image_parallel = false;
};

Status PlanCall(const std::string& op, const ConvParams& params, const Shape& x, const Shape& w, int threads,
                StatusCode bad, ConvCall* call) {
  if (x.size() != static_cast<size_t>(params.rank) + 2 || w.size() != x.size())
    return Status(bad, op + ": X " + ShapeToString(x) + " and W " + ShapeToString(w) + " do not fit the attributes");
  call->batch = x[0];
  call->in_channels = x[1];
  call->out_channels = w[0];
  call->group = params.group;
  if (x[1] % params.group != 0 || w[0] % params.group != 0 || w[1] * params.group != x[1])
    return Status(bad, op + ": channels of X " + ShapeToString(x) + " and W " + ShapeToString(w) +
                           " do not match group " + std::to_string(params.group));
  MAAS_RETURN_IF_ERROR(ResolveConvGeometry(op, params, x.data() + 2, w.data() + 2, bad, &call->g));
  call->cg = x[1] / params.group;
  call->mg = w[0] / params.group;
  call->k_dim = call->cg * call->g.kernel_size();
  call->route =
      call->cg == 1 ? ConvRoute::kDepthwise : (call->g.IsPointwise() ? ConvRoute::kPointwise : ConvRoute::kLowered);
  call->image_parallel = call->route != ConvRoute::kDepthwise && threads > 1 && call->batch >= threads;
  return Status::Ok();
}

Status ParamsFor(const std::string& op, const KernelContext& ctx, const Tensor& x, ConvParams* own,
                 const ConvParams** params, ActivationSpec* activation) {
  const ConvState* state = static_cast<const ConvState*>(ctx.prepared);
  if (state && state->params.rank + 2 == static_cast<int>(x.shape.size())) {
    *params = &state->params;
    *activation = state->activation;
    return Status::Ok();
  }
  Status s = ParseConvParams(op, ctx.attrs, ConvFamily::kConv, static_cast<int>(x.shape.size()) - 2, own);
  if (!s.ok()) return InvalidArgument(s.message());
  if (ctx.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*ctx.attrs, activation));
  *params = own;
  return Status::Ok();
}

// The zero-padded copy of the image the implicit columns read (per thread:
// grows to the largest image and stays, so steady-state runs allocate nothing).
thread_local AlignedFloats tls_padded;
// Where each depth row of the implicit columns reads (per calling thread).
thread_local std::vector<int64_t> tls_row_offsets;

// One image through the GEMM routes: every group's product into y.
Status RunImage(const ConvCall& c, const ConvState* state, const float* x, const float* w, const float* bias, float* y,
                const ActivationSpec& activation, const int64_t* row_offsets, ThreadPool* pool) {
  const int64_t in_size = c.g.in_size(), out_size = c.g.out_size();
  float* padded = nullptr;
  if (c.route == ConvRoute::kLowered) {
    padded = tls_padded.Reserve(static_cast<size_t>(c.in_channels * PaddedPlaneSize(c.g)));
    if (!padded) return Status(StatusCode::kOutOfMemory, "Conv: no memory for the padded image");
    PadImage(x, c.in_channels, c.g, padded);
  }
  for (int64_t grp = 0; grp < c.group; ++grp) {
    const float* x_g = x + grp * c.cg * in_size;
    GemmEpilogue epilogue;
    epilogue.row_bias = bias ? bias + grp * c.mg : nullptr;
    epilogue.activation = activation;
    ImplicitColumns columns;
    GemmBSource source;
    SgemmArgs args;
    args.shape = SgemmShape{false, false, c.mg, out_size, c.k_dim, c.k_dim, out_size, out_size};
    args.a = w + grp * c.mg * c.k_dim;
    args.b = x_g;  // the pointwise route's B is the image itself
    if (c.route == ConvRoute::kLowered) {
      columns.padded = padded + grp * c.cg * PaddedPlaneSize(c.g);
      columns.channels = c.cg;
      columns.g = c.g;
      source.pack = PackImplicitColumns;
      source.context = &columns;
      source.strip_base = ImplicitStripBase;
      source.row_offsets = row_offsets;
      args.b_source = &source;
    }
    args.c = y + grp * c.mg * out_size;
    args.packed_a = state && static_cast<int64_t>(state->packed.size()) == c.group ? state->packed[grp].get() : nullptr;
    args.epilogue = epilogue.empty() ? nullptr : &epilogue;
    if (!Sgemm(args, pool)) return Status(StatusCode::kOutOfMemory, "Conv: no memory for the GEMM's packing");
  }
  return Status::Ok();
}

Status Compute(const std::string& op, KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& x = *ctx.inputs[0];
  const Tensor& w = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (x.dtype != DType::kFloat32 || w.dtype != DType::kFloat32 || (bias && bias->dtype != DType::kFloat32))
    return UnsupportedDType(op, x.dtype);
  ConvParams own;
  const ConvParams* params = nullptr;
  ActivationSpec activation;
  MAAS_RETURN_IF_ERROR(ParamsFor(op, ctx, x, &own, &params, &activation));
  const int threads = ctx.pool ? ctx.pool->num_threads() : 1;
  ConvCall c;
  MAAS_RETURN_IF_ERROR(PlanCall(op, *params, x.shape, w.shape, threads, StatusCode::kInvalidArgument, &c));
  if (bias && (bias->shape.size() != 1 || bias->shape[0] != c.out_channels))
    return InvalidArgument(op + ": B " + ShapeToString(bias->shape) + " does not match M " +
                           std::to_string(c.out_channels));
  Shape out_shape = {c.batch, c.out_channels};
  for (int i = kMaxSpatial - params->rank; i < kMaxSpatial; ++i) out_shape.push_back(c.g.out[i]);
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kFloat32, out_shape));
  float* y = ctx.output(0).data<float>();
  if (NumElements(out_shape) == 0) return Status::Ok();
  const float* x_data = x.data<float>();
  const float* w_data = w.data<float>();
  const float* b_data = bias ? bias->data<float>() : nullptr;
  if (c.route == ConvRoute::kDepthwise) {
    DepthwiseConv(x_data, w_data, b_data, y, c.batch, c.in_channels, c.mg, c.g, activation, ctx.pool);
    return Status::Ok();
  }
  const ConvState* state = static_cast<const ConvState*>(ctx.prepared);
  const int64_t x_image = c.in_channels * c.g.in_size(), y_image = c.out_channels * c.g.out_size();
  const int64_t* row_offsets = nullptr;
  if (c.route == ConvRoute::kLowered) {
    tls_row_offsets.resize(static_cast<size_t>(c.k_dim));  // only grows: no allocation once warm
    ImplicitRowOffsets(c.g, c.cg, tls_row_offsets.data());
    row_offsets = tls_row_offsets.data();
  }
  if (!c.image_parallel) {
    for (int64_t n = 0; n < c.batch; ++n)
      MAAS_RETURN_IF_ERROR(
          RunImage(c, state, x_data + n * x_image, w_data, b_data, y + n * y_image, activation, row_offsets, ctx.pool));
    return Status::Ok();
  }
  std::atomic<bool> failed{false};
  ctx.pool->ParallelFor(c.batch, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      if (!RunImage(c, state, x_data + n * x_image, w_data, b_data, y + n * y_image, activation, row_offsets, nullptr)
               .ok())
        failed = true;
  });
  return failed ? Status(StatusCode::kOutOfMemory, op + ": no memory for the GEMM's packing") : Status::Ok();
}

// Parses the attributes once and packs a constant W per group.
Status Prepare(const std::string& op, const NodeDesc& node, std::shared_ptr<const void>* prepared,
               size_t* state_bytes) {
  const ValueInfo& x = node.inputs[0];
  const ValueInfo& w = node.inputs[1];
  const int64_t rank = x.rank_known ? static_cast<int64_t>(x.shape.size()) : (w.rank_known ? w.shape.size() : -1);
  if (rank < 3) return Status::Ok();  // parsed per call
  auto state = std::make_shared<ConvState>();
  MAAS_RETURN_IF_ERROR(ParseConvParams(op, node.attrs, ConvFamily::kConv, static_cast<int>(rank - 2), &state->params));
  if (node.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*node.attrs, &state->activation));
  const Tensor* weights = w.constant;
  if (weights && weights->dtype == DType::kFloat32 && weights->shape.size() == static_cast<size_t>(rank) &&
      weights->shape[1] != 1 && weights->shape[0] % state->params.group == 0) {
    const int64_t mg = weights->shape[0] / state->params.group;
    const int64_t k_dim = weights->num_elements() / weights->shape[0];
    for (int64_t grp = 0; grp < state->params.group; ++grp) {
      std::unique_ptr<PackedA> packed = PackSgemmA(false, mg, k_dim, weights->data<float>() + grp * mg * k_dim, k_dim);
      if (!packed) {  // no memory to spare: pack per call
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

CpuKernel MakeConvKernel(const std::string& op) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = {DType::kFloat32};
  k.compute = [op](KernelContext& ctx) { return Compute(op, ctx); };
  k.prepare = [op](const NodeDesc& node, std::shared_ptr<const void>* prepared, size_t* state_bytes) {
    return Prepare(op, node, prepared, state_bytes);
  };
  return k;
}

CpuKernelRegistrar conv_registrar(MakeConvKernel("Conv"));
CpuKernelRegistrar fused_conv_registrar(MakeConvKernel(kFusedConvOp));

}  // namespace
}  // namespace maas
