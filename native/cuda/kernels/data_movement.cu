// Ops that move elements without arithmetic: Transpose, Slice, Concat,
// Expand, Tile (one strided-copy kernel, by element size, so any dtype),
// Gather, Cast, and the shape-only ops: Identity, Reshape, Flatten, Squeeze,
// Unsqueeze (views of their input), Shape and Size (written from kernel
// parameters, so no host memory has to outlive an asynchronous copy).
// Shape-like operands (Reshape's shape, Slice's starts...) arrive on the host
// (CudaKernel::host_inputs).
#include <cmath>
#include <cuda/std/limits>

#include "cuda/kernels/cuda_util.h"
#include "ops/indexing.h"
#include "ops/layout.h"
#include "ops/op_util.h"

namespace maas::cuda {
namespace {

Status AsArgumentError(const Status& s) { return s.ok() ? s : InvalidArgument(s.message()); }

// ---- strided copy ------------------------------------------------------------------

// dst[dst_base + Σ idx·dst_stride] = src[src_base + Σ idx·src_stride] over
// the index space `dims` (operand 0: destination, 1: source).
struct CopyPlan {
  StridedLayout<2> layout;
  int64_t dst_base = 0;
  int64_t src_base = 0;
  int64_t count = 0;
};

template <typename Word>
__global__ void StridedCopyKernel(const Word* src, Word* dst, CopyPlan plan) {
  MAAS_GRID_STRIDE(i, plan.count) {
    dst[plan.dst_base + OffsetOf(plan.layout, 0, i)] = src[plan.src_base + OffsetOf(plan.layout, 1, i)];
  }
}

std::vector<int64_t> RowMajorStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

Status LaunchCopy(const std::string& op, const void* src, void* dst, size_t element_bytes, const CopyPlan& plan,
                  cudaStream_t stream) {
  if (plan.count == 0) return Status::Ok();
  const unsigned blocks = BlocksFor(plan.count);
  switch (element_bytes) {
    case 1:
      StridedCopyKernel<uint8_t>
          <<<blocks, kThreads, 0, stream>>>(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), plan);
      break;
    case 2:
      StridedCopyKernel<uint16_t>
          <<<blocks, kThreads, 0, stream>>>(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), plan);
      break;
    case 4:
      StridedCopyKernel<uint32_t>
          <<<blocks, kThreads, 0, stream>>>(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), plan);
      break;
    case 8:
      StridedCopyKernel<uint64_t>
          <<<blocks, kThreads, 0, stream>>>(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), plan);
      break;
    default: return Unsupported(op + ": element size " + std::to_string(element_bytes));
  }
  return LaunchStatus(op);
}

// A plan over `dims` with the given strides (both in elements).
CopyPlan MakePlan(const Shape& dims, const std::vector<int64_t>& dst_strides, const std::vector<int64_t>& src_strides) {
  CopyPlan plan;
  plan.layout.rank = static_cast<int>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    plan.layout.dims[d] = dims[d];
    plan.layout.strides[0][d] = dst_strides[d];
    plan.layout.strides[1][d] = src_strides[d];
  }
  plan.count = NumElements(dims);
  return plan;
}

Status TransposeCompute(CudaKernelContext& ctx) {
  const std::string op = "Transpose";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckRank(op, in.shape));
  std::vector<int64_t> perm;
  MAAS_RETURN_IF_ERROR(AsArgumentError(ResolvePerm(ctx.attrs, in.shape.size(), &perm)));
  Shape out_shape(perm.size());
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape);
  std::vector<int64_t> src_strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    out_shape[d] = in.shape[perm[d]];
    src_strides[d] = in_strides[perm[d]];
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, out_shape));
  const CopyPlan plan = MakePlan(out_shape, RowMajorStrides(out_shape), src_strides);
  return LaunchCopy(op, in.raw(), ctx.output(0).raw(), DTypeSizeBytes(in.dtype), plan, ctx.stream);
}

Status SliceCompute(CudaKernelContext& ctx) {
  const std::string op = "Slice";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckRank(op, in.shape));
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset < 10) {
    starts = ctx.attrs ? ctx.attrs->GetInts("starts", {}) : starts;
    ends = ctx.attrs ? ctx.attrs->GetInts("ends", {}) : ends;
    axes = ctx.attrs ? ctx.attrs->GetInts("axes", {}) : axes;
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 3));
    std::vector<int64_t>* lists[] = {&starts, &ends, &axes, &steps};
    for (size_t i = 0; i < 4; ++i) {
      const bool present = ctx.inputs.size() > i + 1 && ctx.inputs[i + 1];
      if (present && !HostInts(ctx, i + 1, lists[i]))
        return InvalidArgument("Slice: starts, ends, axes and steps must be 1-D ints on the host");
    }
  }
  std::vector<SliceDim> dims;
  MAAS_RETURN_IF_ERROR(AsArgumentError(ResolveSlice(in.shape, starts, ends, axes, steps, &dims)));
  Shape out_shape;
  for (const SliceDim& d : dims) out_shape.push_back(d.count);
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, out_shape));
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape);
  std::vector<int64_t> src_strides(dims.size());
  CopyPlan plan;
  int64_t base = 0;
  for (size_t d = 0; d < dims.size(); ++d) {
    src_strides[d] = in_strides[d] * dims[d].step;
    base += dims[d].start * in_strides[d];
  }
  plan = MakePlan(out_shape, RowMajorStrides(out_shape), src_strides);
  plan.src_base = base;
  if (out_shape.empty()) plan.count = 1;  // a scalar: one element
  return LaunchCopy(op, in.raw(), ctx.output(0).raw(), DTypeSizeBytes(in.dtype), plan, ctx.stream);
}

Status ConcatCompute(CudaKernelContext& ctx) {
  const std::string op = "Concat";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& first = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckRank(op, first.shape));
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(
      AsArgumentError(ConcatAxis(ctx.attrs, ctx.opset, static_cast<int64_t>(first.shape.size()), &axis)));
  Shape out_shape = first.shape;
  out_shape[axis] = 0;
  for (const Tensor* t : ctx.inputs) {
    if (!t) return InvalidArgument("Concat: an input is missing");
    if (t->dtype != first.dtype || t->shape.size() != first.shape.size())
      return InvalidArgument("Concat: inputs differ in dtype or rank");
    for (size_t d = 0; d < first.shape.size(); ++d)
      if (static_cast<int64_t>(d) != axis && t->shape[d] != first.shape[d])
        return InvalidArgument("Concat: inputs differ outside the axis");
    out_shape[axis] += t->shape[axis];
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, first.dtype, out_shape));
  const std::vector<int64_t> out_strides = RowMajorStrides(out_shape);
  int64_t offset = 0;
  for (const Tensor* t : ctx.inputs) {
    CopyPlan plan = MakePlan(t->shape, out_strides, RowMajorStrides(t->shape));
    plan.dst_base = offset * out_strides[axis];
    MAAS_RETURN_IF_ERROR(LaunchCopy(op, t->raw(), ctx.output(0).raw(), DTypeSizeBytes(t->dtype), plan, ctx.stream));
    offset += t->shape[axis];
  }
  return Status::Ok();
}

Status ExpandCompute(CudaKernelContext& ctx) {
  const std::string op = "Expand";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> target;
  if (!HostInts(ctx, 1, &target)) return InvalidArgument("Expand: shape must be a 1-D int64 tensor on the host");
  Shape out_shape;
  if (!BroadcastShapes(in.shape, target, &out_shape) || NumElements(out_shape) < 0)
    return InvalidArgument("Expand: " + ShapeToString(in.shape) + " does not broadcast to " + ShapeToString(target));
  MAAS_RETURN_IF_ERROR(CheckRank(op, out_shape));
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, out_shape));
  CopyPlan plan = MakePlan(out_shape, RowMajorStrides(out_shape), BroadcastStrides(in.shape, out_shape));
  if (out_shape.empty()) plan.count = 1;
  return LaunchCopy(op, in.raw(), ctx.output(0).raw(), DTypeSizeBytes(in.dtype), plan, ctx.stream);
}

// Tile as a copy over [repeat, dim] pairs: output dim d splits into
// repeats[d] blocks of in.shape[d], the source stride 0 across blocks.
Status TileCompute(CudaKernelContext& ctx) {
  const std::string op = "Tile";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> repeats;
  if (!HostInts(ctx, 1, &repeats) || repeats.size() != in.shape.size())
    return InvalidArgument("Tile: repeats must hold one value per dim");
  if (in.shape.size() * 2 > static_cast<size_t>(kMaxRank)) return CheckRank(op, Shape(in.shape.size() * 2));
  Shape out_shape(in.shape.size()), pairs;
  std::vector<int64_t> dst_strides, src_strides;
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape);
  for (size_t d = 0; d < in.shape.size(); ++d) {
    if (repeats[d] < 0 || __builtin_mul_overflow(in.shape[d], repeats[d], &out_shape[d]))
      return InvalidArgument("Tile: bad repeats");
  }
  const std::vector<int64_t> out_strides = RowMajorStrides(out_shape);
  for (size_t d = 0; d < in.shape.size(); ++d) {
    pairs.push_back(repeats[d]);
    dst_strides.push_back(out_strides[d] * in.shape[d]);
    src_strides.push_back(0);
    pairs.push_back(in.shape[d]);
    dst_strides.push_back(out_strides[d]);
    src_strides.push_back(in_strides[d]);
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, out_shape));
  CopyPlan plan = MakePlan(pairs, dst_strides, src_strides);
  if (out_shape.empty()) plan.count = 1;
  return LaunchCopy(op, in.raw(), ctx.output(0).raw(), DTypeSizeBytes(in.dtype), plan, ctx.stream);
}

// Split: each output a strided copy of its slab along the axis.
Status SplitCompute(CudaKernelContext& ctx) {
  const std::string op = "Split";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(CheckRank(op, in.shape));
  int64_t axis = 0;
  if (!NormalizeAxis(ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0, static_cast<int64_t>(in.shape.size()), &axis))
    return InvalidArgument("Split: axis out of range");
  std::vector<int64_t> split;
  bool has_split = false;
  if (ctx.opset < 13) {
    has_split = ctx.attrs && ctx.attrs->Has("split");
    if (has_split) split = ctx.attrs->GetInts("split", {});
  } else if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
    has_split = true;
    if (!HostInts(ctx, 1, &split)) return InvalidArgument("Split: split must be a 1-D int64 tensor on the host");
  }
  std::vector<int64_t> sizes;
  MAAS_RETURN_IF_ERROR(AsArgumentError(
      SplitSizes(in.shape[axis], has_split ? &split : nullptr, ctx.num_outputs(), ctx.opset >= 18, &sizes)));
  const std::vector<int64_t> in_strides = RowMajorStrides(in.shape);
  int64_t offset = 0;
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    Shape shape = in.shape;
    shape[axis] = sizes[i];
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, i, in.dtype, shape));
    CopyPlan plan = MakePlan(shape, RowMajorStrides(shape), in_strides);
    plan.src_base = offset * in_strides[axis];
    MAAS_RETURN_IF_ERROR(LaunchCopy(op, in.raw(), ctx.output(i).raw(), DTypeSizeBytes(in.dtype), plan, ctx.stream));
    offset += sizes[i];
  }
  return Status::Ok();
}

// ---- Gather ------------------------------------------------------------------------

// An index outside [-dim, dim) cannot be reported from the device without a
// synchronization, so its row is zero-filled (the CPU kernel refuses it).
template <typename Word, typename Index>
__global__ void GatherKernel(const Word* src, const Index* indices, Word* dst, int64_t total, int64_t count,
                             int64_t dim, int64_t inner) {
  MAAS_GRID_STRIDE(i, total) {
    const int64_t j = i % inner;
    const int64_t unit = i / inner;
    const int64_t o = unit / count;
    int64_t index = static_cast<int64_t>(indices[unit % count]);
    if (index < 0) index += dim;
    dst[i] = (index < 0 || index >= dim) ? Word(0) : src[(o * dim + index) * inner + j];
  }
}

template <typename Word>
void LaunchGather(const Tensor& data, const Tensor& indices, Tensor& out, int64_t count, int64_t dim, int64_t inner,
                  cudaStream_t stream) {
  const int64_t total = out.num_elements();
  const Word* src = static_cast<const Word*>(data.raw());
  Word* dst = static_cast<Word*>(out.raw());
  if (indices.dtype == DType::kInt64)
    GatherKernel<Word, int64_t><<<BlocksFor(total), kThreads, 0, stream>>>(
        src, static_cast<const int64_t*>(indices.raw()), dst, total, count, dim, inner);
  else
    GatherKernel<Word, int32_t><<<BlocksFor(total), kThreads, 0, stream>>>(
        src, static_cast<const int32_t*>(indices.raw()), dst, total, count, dim, inner);
}

Status GatherCompute(CudaKernelContext& ctx) {
  const std::string op = "Gather";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& data = *ctx.inputs[0];
  const Tensor& indices = *ctx.inputs[1];
  int64_t axis = 0;
  if (!NormalizeAxis(ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0, static_cast<int64_t>(data.shape.size()), &axis))
    return InvalidArgument("Gather: axis out of range");
  if (indices.dtype != DType::kInt64 && indices.dtype != DType::kInt32)
    return InvalidArgument("Gather: indices must be int32 or int64");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, data.dtype, GatherShape(data.shape, indices.shape, axis)));
  const int64_t count = indices.num_elements();
  const int64_t dim = data.shape[axis];
  const int64_t inner = DimProduct(data.shape, axis + 1, data.shape.size());
  if (ctx.output(0).num_elements() == 0 || count == 0 || inner == 0) return Status::Ok();
  Tensor& out = ctx.output(0);
  switch (DTypeSizeBytes(data.dtype)) {
    case 1: LaunchGather<uint8_t>(data, indices, out, count, dim, inner, ctx.stream); break;
    case 2: LaunchGather<uint16_t>(data, indices, out, count, dim, inner, ctx.stream); break;
    case 4: LaunchGather<uint32_t>(data, indices, out, count, dim, inner, ctx.stream); break;
    case 8: LaunchGather<uint64_t>(data, indices, out, count, dim, inner, ctx.stream); break;
    default: return UnsupportedDType(op, data.dtype);
  }
  return LaunchStatus(op);
}

// ---- Cast --------------------------------------------------------------------------

// As the CPU kernel: float -> int saturates (NaN -> 0), anything -> bool is
// x != 0, the 16-bit floats convert through float32.
template <typename T>
__device__ __forceinline__ double LoadWide(T v) {
  return static_cast<double>(ToFloat(v));
}
template <>
__device__ __forceinline__ double LoadWide(double v) {
  return v;
}

template <typename To, typename From>
__device__ __forceinline__ To ConvertElement(From x) {
  constexpr bool kFromInt = std::is_integral<From>::value;
  constexpr bool kToInt = std::is_integral<To>::value;
  if constexpr (std::is_same<To, bool>::value) {
    if constexpr (kFromInt)
      return x != From(0);
    else
      return LoadWide(x) != 0.0;
  } else if constexpr (kFromInt && kToInt) {
    return static_cast<To>(x);
  } else if constexpr (kToInt) {
    const double v = LoadWide(x);
    if (v != v) return To(0);
    if (v <= static_cast<double>(::cuda::std::numeric_limits<To>::min())) return ::cuda::std::numeric_limits<To>::min();
    if (v >= static_cast<double>(::cuda::std::numeric_limits<To>::max())) return ::cuda::std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else if constexpr (std::is_same<To, double>::value) {
    if constexpr (kFromInt)
      return static_cast<double>(x);
    else
      return LoadWide(x);
  } else {
    // float, __half, __nv_bfloat16: through float32
    float f = 0.0f;
    if constexpr (kFromInt || std::is_same<From, double>::value)
      f = static_cast<float>(x);
    else
      f = ToFloat(x);
    return FromFloat<To>(f);
  }
}

template <typename To, typename From>
__global__ void CastKernel(const From* in, To* out, int64_t n) {
  MAAS_GRID_STRIDE(i, n) { out[i] = ConvertElement<To, From>(in[i]); }
}

template <typename Fn>
bool DispatchCastType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kFloat16: fn(__half{}); return true;
    case DType::kBFloat16: fn(__nv_bfloat16{}); return true;
    case DType::kFloat64: fn(double{}); return true;
    case DType::kInt8: fn(int8_t{}); return true;
    case DType::kUint8: fn(uint8_t{}); return true;
    case DType::kInt32: fn(int32_t{}); return true;
    case DType::kInt64: fn(int64_t{}); return true;
    case DType::kBool: fn(bool{}); return true;
    default: return false;
  }
}

DType CastTarget(const Attributes* attrs) { return static_cast<DType>(attrs ? attrs->GetInt("to", 0) : 0); }

Status CastCompute(CudaKernelContext& ctx) {
  const std::string op = "Cast";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  const DType to = CastTarget(ctx.attrs);
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, to, in.shape));
  const int64_t n = in.num_elements();
  if (n == 0) return Status::Ok();
  bool ok = false;
  DispatchCastType(in.dtype, [&](auto from_tag) {
    using From = decltype(from_tag);
    ok = DispatchCastType(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      CastKernel<To, From><<<BlocksFor(n), kThreads, 0, ctx.stream>>>(static_cast<const From*>(in.raw()),
                                                                      static_cast<To*>(ctx.output(0).raw()), n);
    });
  });
  return ok ? LaunchStatus(op) : Unsupported(std::string("Cast: ") + DTypeName(in.dtype) + " to " + DTypeName(to));
}

std::string CastCheck(const NodeDesc& node) {
  const DType to = CastTarget(node.attrs);
  return DispatchCastType(to, [](auto) {}) ? std::string() : std::string(DTypeName(to));
}

// ---- shape-only ops ------------------------------------------------------------------

Status IdentityCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Identity", ctx, 1));
  ctx.exec.SetOutputView(0, *ctx.inputs[0], ctx.inputs[0]->shape);
  return Status::Ok();
}

Status ReshapeCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 1));
  const Tensor& data = *ctx.inputs[0];
  const bool allowzero = ctx.attrs && ctx.attrs->GetInt("allowzero", 0) != 0;
  std::vector<int64_t> spec;
  if (ctx.opset < 5) {
    spec = ctx.attrs ? ctx.attrs->GetInts("shape", {}) : spec;
  } else if (!HostInts(ctx, 1, &spec)) {
    return InvalidArgument("Reshape: shape must be a 1-D int64 tensor on the host");
  }
  Shape out_shape;
  MAAS_RETURN_IF_ERROR(AsArgumentError(ResolveReshape(data.shape, spec, allowzero, &out_shape)));
  ctx.exec.SetOutputView(0, data, out_shape);
  return Status::Ok();
}

Status FlattenCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Flatten", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(AsArgumentError(FlattenAxis(static_cast<int64_t>(in.shape.size()), ctx.attrs, &axis)));
  const int64_t rows = DimProduct(in.shape, 0, axis);
  const int64_t columns = DimProduct(in.shape, axis, in.shape.size());
  if (rows < 0 || columns < 0) return InvalidArgument("Flatten: " + ShapeToString(in.shape) + " flattens past int64");
  ctx.exec.SetOutputView(0, in, {rows, columns});
  return Status::Ok();
}

// Squeeze/Unsqueeze: axes from the attribute before opset 13, else input 1.
Status AxesOf(const std::string& op, const CudaKernelContext& ctx, std::vector<int64_t>* axes, bool* present) {
  if (ctx.opset < 13) {
    *present = ctx.attrs && ctx.attrs->Has("axes");
    if (*present) *axes = ctx.attrs->GetInts("axes", {});
    return Status::Ok();
  }
  *present = ctx.inputs.size() > 1 && ctx.inputs[1];
  if (*present && !HostInts(ctx, 1, axes)) return InvalidArgument(op + ": axes must be a 1-D int64 tensor on the host");
  return Status::Ok();
}

template <bool kSqueeze>
Status SqueezeCompute(CudaKernelContext& ctx) {
  const std::string op = kSqueeze ? "Squeeze" : "Unsqueeze";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  std::vector<int64_t> axes;
  bool present = false;
  MAAS_RETURN_IF_ERROR(AxesOf(op, ctx, &axes, &present));
  Shape shape;
  if (kSqueeze)
    MAAS_RETURN_IF_ERROR(AsArgumentError(SqueezeShape(ctx.inputs[0]->shape, present ? &axes : nullptr, &shape)));
  else
    MAAS_RETURN_IF_ERROR(AsArgumentError(UnsqueezeShape(ctx.inputs[0]->shape, axes, &shape)));
  ctx.exec.SetOutputView(0, *ctx.inputs[0], shape);
  return Status::Ok();
}

// Up to kMaxRank int64 values by value: written by one thread.
struct SmallInts {
  int64_t values[kMaxRank] = {};
  int count = 0;
};

__global__ void WriteInts(SmallInts ints, int64_t* out) {
  for (int i = 0; i < ints.count; ++i) out[i] = ints.values[i];
}

Status WriteSmallInts(const std::string& op, CudaKernelContext& ctx, const std::vector<int64_t>& values,
                      const Shape& shape) {
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kInt64, shape));
  if (values.empty()) return Status::Ok();
  SmallInts ints;
  if (values.size() > static_cast<size_t>(kMaxRank)) return CheckRank(op, values);
  for (size_t i = 0; i < values.size(); ++i) ints.values[i] = values[i];
  ints.count = static_cast<int>(values.size());
  WriteInts<<<1, 1, 0, ctx.stream>>>(ints, static_cast<int64_t*>(ctx.output(0).raw()));
  return LaunchStatus(op);
}

Status ShapeCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Shape", ctx, 1));
  const Shape& in = ctx.inputs[0]->shape;
  int64_t begin = 0, end = 0;
  ShapeRange(ctx.attrs, static_cast<int64_t>(in.size()), &begin, &end);
  const std::vector<int64_t> dims(in.begin() + begin, in.begin() + end);
  return WriteSmallInts("Shape", ctx, dims, {end - begin});
}

Status SizeCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Size", ctx, 1));
  return WriteSmallInts("Size", ctx, {ctx.inputs[0]->num_elements()}, {});
}

CudaKernel Any(const std::string& op, CudaKernel::ComputeFn compute, std::vector<int> host_inputs = {}) {
  CudaKernel k;
  k.op_type = op;
  k.compute = std::move(compute);
  k.host_inputs = std::move(host_inputs);
  return k;
}

CudaKernelRegistrar transpose(Any("Transpose", TransposeCompute));
CudaKernelRegistrar slice(Any("Slice", SliceCompute, {1, 2, 3, 4}));
CudaKernelRegistrar concat(Any("Concat", ConcatCompute));
CudaKernelRegistrar split(Any("Split", SplitCompute, {1}));
CudaKernelRegistrar expand(Any("Expand", ExpandCompute, {1}));
CudaKernelRegistrar tile(Any("Tile", TileCompute, {1}));
CudaKernelRegistrar gather(Any("Gather", GatherCompute));
CudaKernelRegistrar identity(Any("Identity", IdentityCompute));
CudaKernelRegistrar reshape(Any("Reshape", ReshapeCompute, {1}));
CudaKernelRegistrar flatten(Any("Flatten", FlattenCompute));
CudaKernelRegistrar squeeze(Any("Squeeze", SqueezeCompute<true>, {1}));
CudaKernelRegistrar unsqueeze(Any("Unsqueeze", SqueezeCompute<false>, {1}));
CudaKernelRegistrar shape(Any("Shape", ShapeCompute));
CudaKernelRegistrar size(Any("Size", SizeCompute));

CudaKernel MakeCast() {
  CudaKernel k = Any("Cast", CastCompute);
  k.check = CastCheck;
  return k;
}
CudaKernelRegistrar cast(MakeCast());

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(DataMovement)

}  // namespace maas::cuda
