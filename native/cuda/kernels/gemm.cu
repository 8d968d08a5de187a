// MatMul, Gemm and their fused forms (maas.FusedMatMul: + bias[N];
// maas.FusedGemm; both with the fusion pass's activation) on float32,
// float16 and bfloat16, through RunGemm (gemm_core.h).
//
// Precision (docs/engine.md, "CUDA"): at kFloat16/kBFloat16 a float32 model's
// constant B is converted once at load (prepare) and each run converts A
// into scratch at the GEMM's boundary; cuBLASLt multiplies the 16-bit
// operands on tensor cores with float32 accumulation and writes float32, so
// activations stay float32 between ops. Without cuBLASLt the weights stay
// float32 and our own kernel runs in float32.
#include <algorithm>

#include "cuda/kernels/gemm_core.h"
#include "cuda/libs/cuda_libraries.h"
#include "ops/gemm_shapes.h"

namespace maas::cuda {
namespace {

constexpr size_t kLtWorkspaceBytes = 1 << 20;

// B converted to the session's 16-bit type at load.
struct PreparedB {
  std::shared_ptr<Buffer> data;
  DType dtype = DType::kUndefined;
  Shape shape;
};

Status PrepareB(const NodeDesc& node, CudaPrepareContext& ctx, std::shared_ptr<const void>* prepared,
                size_t* state_bytes) {
  const DType reduced = ReducedType(ctx.precision);
  if (reduced == DType::kFloat32 || !ctx.libs || !ctx.libs->cublaslt || node.inputs.size() < 2) return Status::Ok();
  const Tensor* b = node.inputs[1].constant;
  if (!b || b->dtype != DType::kFloat32 || b->num_elements() <= 0 || !b->device().is_host()) return Status::Ok();
  const std::vector<uint16_t> narrow = NarrowOnHost(b->data<float>(), b->num_elements(), reduced);
  auto state = std::make_shared<PreparedB>();
  MAAS_RETURN_IF_ERROR(UploadToDevice(ctx, narrow.data(), narrow.size() * sizeof(uint16_t), &state->data));
  state->dtype = reduced;
  state->shape = b->shape;
  *state_bytes = narrow.size() * sizeof(uint16_t);
  *prepared = std::move(state);
  return Status::Ok();
}

// How a run's float32 operands reach the GEMM: as they are, or (reduced
// precision with cuBLASLt) A converted into scratch and B from prepare or
// converted too.
struct Operands {
  const void* a = nullptr;
  const void* b = nullptr;
  DType type = DType::kFloat32;
  size_t a_bytes = 0, b_bytes = 0;  // scratch for converting each (0: none)
};

Operands PlanOperands(const CudaKernelContext& ctx, const Tensor& a, const Tensor& b) {
  Operands o{a.raw(), b.raw(), a.dtype};
  const DType reduced = ReducedType(ctx.precision);
  if (a.dtype != DType::kFloat32 || reduced == DType::kFloat32 || !ctx.libs->cublaslt) return o;
  o.type = reduced;
  o.a_bytes = static_cast<size_t>(a.num_elements()) * 2;
  const auto* prepared = static_cast<const PreparedB*>(ctx.prepared);
  if (prepared && prepared->shape == b.shape && prepared->dtype == reduced)
    o.b = prepared->data->data();
  else
    o.b_bytes = static_cast<size_t>(b.num_elements()) * 2;
  return o;
}

// Converts what PlanOperands said into scratch; o.a/o.b then point there.
Status ConvertOperands(const std::string& op, const CudaKernelContext& ctx, const Tensor& a, const Tensor& b,
                       const StreamScratch& scratch, Operands* o) {
  if (o->a_bytes == 0) return Status::Ok();
  if (!scratch.ok()) return Status(StatusCode::kOutOfMemory, op + ": no device memory for the 16-bit operands");
  char* base = static_cast<char*>(scratch.data());
  MAAS_RETURN_IF_ERROR(
      ConvertFloats(op, static_cast<const float*>(a.raw()), base, o->type, a.num_elements(), ctx.stream));
  o->a = base;
  if (o->b_bytes) {
    char* b_out = base + (o->a_bytes + 255) / 256 * 256;
    MAAS_RETURN_IF_ERROR(
        ConvertFloats(op, static_cast<const float*>(b.raw()), b_out, o->type, b.num_elements(), ctx.stream));
    o->b = b_out;
  }
  return Status::Ok();
}

size_t ScratchBytes(const Operands& o) { return (o.a_bytes + 255) / 256 * 256 + o.b_bytes; }

Status ReadActivation(const std::string& op, const CudaKernelContext& ctx, Activation* out) {
  ActivationSpec spec;
  if (ctx.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*ctx.attrs, &spec));
  *out = spec.kind;
  return Status::Ok();
}

// ---- MatMul / maas.FusedMatMul -----------------------------------------------------------

Status MatMulCompute(const std::string& op, CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (a.dtype != b.dtype || (bias && bias->dtype != a.dtype))
    return InvalidArgument(op + ": A, B and bias must share a dtype");
  Shape out_shape;
  std::string error;
  if (!MatMulShape(a.shape, b.shape, &out_shape, &error)) return InvalidArgument(error);
  MAAS_RETURN_IF_ERROR(CheckRank(op, out_shape));
  GemmCall call;
  MAAS_RETURN_IF_ERROR(ReadActivation(op, ctx, &call.activation));
  call.m = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  call.k = a.shape.back();
  call.n = b.shape.size() >= 2 ? b.shape.back() : 1;
  if (bias && (bias->shape.size() != 1 || bias->shape[0] != call.n || b.shape.size() < 2))
    return InvalidArgument(op + ": bias " + ShapeToString(bias->shape) + " does not match N of " +
                           ShapeToString(b.shape));
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, a.dtype, out_shape));
  if (NumElements(out_shape) == 0) return Status::Ok();

  Operands operands = PlanOperands(ctx, a, b);
  StreamScratch scratch(ctx, ScratchBytes(operands));
  MAAS_RETURN_IF_ERROR(ConvertOperands(op, ctx, a, b, scratch, &operands));
  const size_t element = DTypeSizeBytes(operands.type);
  const size_t y_element = DTypeSizeBytes(a.dtype);
  call.lda = call.k;
  call.ldb = call.n;
  call.ldc = call.n;
  call.a_type = operands.type;
  call.y_type = a.dtype;
  call.bias = bias ? bias->raw() : nullptr;
  call.y = ctx.output(0).raw();

  const Shape a_batch(a.shape.begin(), a.shape.end() - std::min<size_t>(a.shape.size(), 2));
  const Shape b_batch(b.shape.begin(), b.shape.end() - std::min<size_t>(b.shape.size(), 2));
  Shape batch_shape;
  BroadcastShapes(a_batch, b_batch, &batch_shape);  // cannot fail: MatMulShape checked it
  const int64_t batches = NumElements(batch_shape);
  call.a = operands.a;
  call.b = operands.b;
  if (NumElements(b_batch) == 1 && NumElements(a_batch) == batches) {
    call.m *= batches;  // stacked A rows against the one B
    return RunGemm(op, ctx, call, scratch.rest(), scratch.rest_bytes());
  }
  if (a_batch == b_batch) {
    call.batch = batches;
    call.stride_a = call.m * call.k;
    call.stride_b = call.k * call.n;
    call.stride_y = call.m * call.n;
    return RunGemm(op, ctx, call, scratch.rest(), scratch.rest_bytes());
  }
  // Broadcast batch dims: one GEMM per batch entry.
  const std::vector<int64_t> a_strides = BroadcastStrides(a_batch, batch_shape);
  const std::vector<int64_t> b_strides = BroadcastStrides(b_batch, batch_shape);
  for (int64_t i = 0; i < batches; ++i) {
    int64_t rest = i, a_index = 0, b_index = 0;
    for (size_t d = batch_shape.size(); d-- > 0;) {
      const int64_t index = rest % batch_shape[d];
      rest /= batch_shape[d];
      a_index += index * a_strides[d];
      b_index += index * b_strides[d];
    }
    GemmCall entry = call;
    entry.a = static_cast<const char*>(operands.a) + a_index * call.m * call.k * element;
    entry.b = static_cast<const char*>(operands.b) + b_index * call.k * call.n * element;
    entry.y = static_cast<char*>(call.y) + i * call.m * call.n * y_element;
    MAAS_RETURN_IF_ERROR(RunGemm(op, ctx, entry, scratch.rest(), scratch.rest_bytes()));
  }
  return Status::Ok();
}

// ---- Gemm / maas.FusedGemm ---------------------------------------------------------------

// Y[i, j] = C[i or 0, j or 0]: C broadcast one-way to [m, n].
template <typename Word>
__global__ void FillWithC(const Word* c, Word* y, int64_t m, int64_t n, int64_t c_rows, int64_t c_cols) {
  MAAS_GRID_STRIDE(i, m * n) {
    const int64_t r = i / n, col = i % n;
    y[i] = c[(c_rows == 1 ? 0 : r) * c_cols + (c_cols == 1 ? 0 : col)];
  }
}

Status FillC(const std::string& op, const Tensor& c, void* y, int64_t m, int64_t n, cudaStream_t stream) {
  const int64_t c_rows = c.shape.size() == 2 ? c.shape[0] : 1;
  const int64_t c_cols = c.shape.empty() ? 1 : c.shape.back();
  switch (DTypeSizeBytes(c.dtype)) {
    case 2:
      FillWithC<uint16_t><<<BlocksFor(m * n), kThreads, 0, stream>>>(static_cast<const uint16_t*>(c.raw()),
                                                                     static_cast<uint16_t*>(y), m, n, c_rows, c_cols);
      break;
    case 4:
      FillWithC<uint32_t><<<BlocksFor(m * n), kThreads, 0, stream>>>(static_cast<const uint32_t*>(c.raw()),
                                                                     static_cast<uint32_t*>(y), m, n, c_rows, c_cols);
      break;
    default: return UnsupportedDType(op, c.dtype);
  }
  return LaunchStatus(op);
}

Status GemmCompute(const std::string& op, CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (a.dtype != b.dtype || (c && c->dtype != a.dtype)) return InvalidArgument(op + ": A, B and C must share a dtype");
  if (a.shape.size() != 2 || b.shape.size() != 2) return InvalidArgument(op + ": A and B must be 2-D");
  GemmCall call;
  MAAS_RETURN_IF_ERROR(ReadActivation(op, ctx, &call.activation));
  call.trans_a = ctx.attrs && ctx.attrs->GetInt("transA", 0) != 0;
  call.trans_b = ctx.attrs && ctx.attrs->GetInt("transB", 0) != 0;
  call.alpha = ctx.attrs ? ctx.attrs->GetFloat("alpha", 1.0f) : 1.0f;
  call.beta = ctx.attrs ? ctx.attrs->GetFloat("beta", 1.0f) : 1.0f;
  call.m = call.trans_a ? a.shape[1] : a.shape[0];
  call.k = call.trans_a ? a.shape[0] : a.shape[1];
  call.n = call.trans_b ? b.shape[0] : b.shape[1];
  if (call.k != (call.trans_b ? b.shape[1] : b.shape[0]))
    return InvalidArgument(op + ": inner dims differ (" + ShapeToString(a.shape) + " x " + ShapeToString(b.shape) +
                           ")");
  if (c && !GemmCBroadcasts(c->shape, call.m, call.n))
    return InvalidArgument(op + ": C " + ShapeToString(c->shape) + " does not broadcast to [" + std::to_string(call.m) +
                           "," + std::to_string(call.n) + "]");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, a.dtype, {call.m, call.n}));
  if (call.m == 0 || call.n == 0) return Status::Ok();
  call.y = ctx.output(0).raw();
  if (c && call.beta != 0.0f && c->num_elements() > 0) {
    MAAS_RETURN_IF_ERROR(FillC(op, *c, call.y, call.m, call.n, ctx.stream));
  } else {
    call.beta = 0.0f;  // no C: Y is overwritten
  }
  Operands operands = PlanOperands(ctx, a, b);
  StreamScratch scratch(ctx, ScratchBytes(operands));
  MAAS_RETURN_IF_ERROR(ConvertOperands(op, ctx, a, b, scratch, &operands));
  call.a = operands.a;
  call.b = operands.b;
  call.a_type = operands.type;
  call.y_type = a.dtype;
  call.lda = a.shape[1];
  call.ldb = b.shape[1];
  call.ldc = call.n;
  return RunGemm(op, ctx, call, scratch.rest(), scratch.rest_bytes());
}

// Scratch: the 16-bit copies when the shapes are known, and cuBLASLt's.
size_t Workspace(const NodeDesc& node, const void* prepared) {
  size_t bytes = kLtWorkspaceBytes;
  if (node.inputs.size() < 2 || node.inputs[0].dtype != DType::kFloat32) return bytes;
  const ValueInfo& a = node.inputs[0];
  const ValueInfo& b = node.inputs[1];
  // Only a session at a reduced precision converts, and only then is there
  // a PreparedB for a constant B; a non-constant B at reduced precision is
  // rare (attention's QKᵀ) and falls back to a stream-ordered allocation.
  if (!prepared || !a.concrete()) return bytes;
  const size_t a_bytes = static_cast<size_t>(NumElements(a.shape)) * 2;
  (void)b;
  return bytes + (a_bytes + 255) / 256 * 256;
}

CudaKernel Make(const std::string& op, Status (*compute)(const std::string&, CudaKernelContext&)) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  k.compute = [op, compute](CudaKernelContext& ctx) { return compute(op, ctx); };
  k.prepare = PrepareB;
  k.workspace = Workspace;
  return k;
}

CudaKernelRegistrar matmul(Make("MatMul", MatMulCompute));
CudaKernelRegistrar fused_matmul(Make(kFusedMatMulOp, MatMulCompute));
CudaKernelRegistrar gemm(Make("Gemm", GemmCompute));
CudaKernelRegistrar fused_gemm(Make(kFusedGemmOp, GemmCompute));

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Gemm)

}  // namespace maas::cuda
