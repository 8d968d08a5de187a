// Pad in every mode (constant, reflect, edge, wrap) for any fixed-size
// dtype: one thread per output element maps each coordinate through the
// mode's index rule (ops/pad_rules.h gives the pads and the output shape).
// The pads, constant_value and axes inputs arrive on the host.
#include <cstring>

#include "cuda/kernels/cuda_util.h"
#include "ops/pad_rules.h"

namespace maas::cuda {
namespace {

struct PadPlan {
  int rank = 0;
  int64_t in_dims[kMaxRank] = {};
  int64_t out_dims[kMaxRank] = {};
  int64_t begin[kMaxRank] = {};
  PadMode mode = PadMode::kConstant;
  int64_t count = 0;
};

template <typename Word>
__global__ void PadKernel(const Word* in, Word* out, PadPlan plan, Word value) {
  MAAS_GRID_STRIDE(i, plan.count) {
    int64_t rest = i, src = 0, stride = 1;
    bool padding = false;
    for (int a = plan.rank - 1; a >= 0; --a) {
      const int64_t coordinate = rest % plan.out_dims[a];
      rest /= plan.out_dims[a];
      const int64_t s = PadSourceIndex(plan.mode, coordinate, plan.begin[a], plan.in_dims[a]);
      padding |= s < 0;
      src += s * stride;
      stride *= plan.in_dims[a];
    }
    out[i] = padding ? value : in[src];
  }
}

template <typename Word>
void LaunchPad(const Tensor& x, Tensor& out, const PadPlan& plan, const uint8_t* value_bytes, cudaStream_t stream) {
  Word value;
  std::memcpy(&value, value_bytes, sizeof(Word));
  PadKernel<Word><<<BlocksFor(plan.count), kThreads, 0, stream>>>(static_cast<const Word*>(x.raw()),
                                                                  static_cast<Word*>(out.raw()), plan, value);
}

// The padding value's bytes in x's dtype: constant_value (opset 11+), the
// `value` attribute (before; float32 only unless zero), else zero.
Status PadValue(const CudaKernelContext& ctx, const Tensor& x, uint8_t bytes[8]) {
  std::memset(bytes, 0, 8);
  const Tensor* constant = ctx.opset >= 11 && ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (constant && constant->num_elements() > 0) {
    if (constant->dtype != x.dtype) return InvalidArgument("Pad: constant_value's dtype differs from data's");
    if (!constant->device().is_host()) return InvalidArgument("Pad: constant_value must be on the host");
    std::memcpy(bytes, constant->raw(), DTypeSizeBytes(x.dtype));
    return Status::Ok();
  }
  if (ctx.opset < 11 && ctx.attrs) {
    const float value = ctx.attrs->GetFloat("value", 0.0f);
    if (value == 0.0f) return Status::Ok();
    if (x.dtype != DType::kFloat32) return Unsupported("Pad: a non-zero value attribute on CUDA needs float32");
    std::memcpy(bytes, &value, sizeof(float));
  }
  return Status::Ok();
}

Status PadCompute(CudaKernelContext& ctx) {
  const std::string op = "Pad";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, ctx.opset < 11 ? 1 : 2));
  const Tensor& x = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckRank(op, x.shape));
  PadMode mode;
  Status s = ParsePadMode(ctx.attrs, &mode);
  if (!s.ok()) return InvalidArgument(s.message());
  auto input = [&](size_t i) -> const Tensor* { return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr; };
  const Tensor* pads = ctx.opset >= 11 ? input(1) : nullptr;
  const Tensor* axes = ctx.opset >= 18 ? input(3) : nullptr;
  if ((pads && !pads->device().is_host()) || (axes && !axes->device().is_host()))
    return InvalidArgument("Pad: pads and axes must be on the host");
  std::vector<int64_t> begin, end;
  MAAS_RETURN_IF_ERROR(ResolvePads(ctx.attrs, ctx.opset, static_cast<int64_t>(x.shape.size()), pads, axes,
                                   StatusCode::kInvalidArgument, &begin, &end));
  Shape out_shape;
  MAAS_RETURN_IF_ERROR(PaddedShape(mode, x.shape, begin, end, StatusCode::kInvalidArgument, &out_shape));
  uint8_t value[8];
  MAAS_RETURN_IF_ERROR(PadValue(ctx, x, value));
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, out_shape));
  PadPlan plan;
  plan.count = NumElements(out_shape);
  if (plan.count == 0) return Status::Ok();
  if (x.num_elements() == 0 && mode != PadMode::kConstant)
    return InvalidArgument("Pad: cannot pad an empty input in this mode");
  plan.rank = static_cast<int>(x.shape.size());
  plan.mode = mode;
  for (int a = 0; a < plan.rank; ++a) {
    plan.in_dims[a] = x.shape[a];
    plan.out_dims[a] = out_shape[a];
    plan.begin[a] = begin[a];
  }
  switch (DTypeSizeBytes(x.dtype)) {
    case 1: LaunchPad<uint8_t>(x, ctx.output(0), plan, value, ctx.stream); break;
    case 2: LaunchPad<uint16_t>(x, ctx.output(0), plan, value, ctx.stream); break;
    case 4: LaunchPad<uint32_t>(x, ctx.output(0), plan, value, ctx.stream); break;
    case 8: LaunchPad<uint64_t>(x, ctx.output(0), plan, value, ctx.stream); break;
    default: return UnsupportedDType(op, x.dtype);
  }
  return LaunchStatus(op);
}

CudaKernel MakePad() {
  CudaKernel k;
  k.op_type = "Pad";
  k.compute = PadCompute;
  k.host_inputs = {1, 2, 3};
  return k;
}

CudaKernelRegistrar pad(MakePad());

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Pad)

}  // namespace maas::cuda
