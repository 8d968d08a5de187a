// Kernels of the ops that select, repeat or describe data (any fixed-size
// dtype; elements moved as 1/2/4/8-byte words or whole rows):
//   Squeeze, Unsqueeze   views (the executor relabels them when the plan
//                        knows the shapes; these run otherwise)
//   Slice Split Gather Expand Tile
//   Shape Size ConstantOfShape Range
// Index rules come from ops/indexing.h, shared with the schemas.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "cpu/dtype_dispatch.h"
#include "cpu/elementwise.h"
#include "cpu/kernel.h"
#include "ops/indexing.h"
#include "ops/op_util.h"

namespace maas {
namespace {

Status AsArgumentError(const Status& s) { return s.ok() ? s : InvalidArgument(s.message()); }

// The node's axes: the attribute before `input_from_opset`, else input 1.
Status AxesInput(const std::string& op, const KernelContext& ctx, int input_from_opset, std::vector<int64_t>* axes,
                 bool* present) {
  if (ctx.opset < input_from_opset) {
    *present = ctx.attrs && ctx.attrs->Has("axes");
    if (*present) *axes = ctx.attrs->GetInts("axes", {});
    return Status::Ok();
  }
  *present = ctx.inputs.size() > 1 && ctx.inputs[1];
  if (*present && !ReadIntList(*ctx.inputs[1], axes)) return InvalidArgument(op + ": axes must be a 1-D int64 tensor");
  return Status::Ok();
}

// ---- Squeeze / Unsqueeze ------------------------------------------------------------

Status SqueezeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Squeeze", ctx, 1));
  std::vector<int64_t> axes;
  bool present = false;
  MAAS_RETURN_IF_ERROR(AxesInput("Squeeze", ctx, 13, &axes, &present));
  Shape shape;
  MAAS_RETURN_IF_ERROR(AsArgumentError(SqueezeShape(ctx.inputs[0]->shape, present ? &axes : nullptr, &shape)));
  ctx.exec.SetOutputView(0, *ctx.inputs[0], shape);
  return Status::Ok();
}

Status UnsqueezeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Unsqueeze", ctx, 1));
  std::vector<int64_t> axes;
  bool present = false;
  MAAS_RETURN_IF_ERROR(AxesInput("Unsqueeze", ctx, 13, &axes, &present));
  Shape shape;
  MAAS_RETURN_IF_ERROR(AsArgumentError(UnsqueezeShape(ctx.inputs[0]->shape, axes, &shape)));
  ctx.exec.SetOutputView(0, *ctx.inputs[0], shape);
  return Status::Ok();
}

// ---- Slice ------------------------------------------------------------------------

Status SliceArguments(const KernelContext& ctx, std::vector<int64_t>* starts, std::vector<int64_t>* ends,
                      std::vector<int64_t>* axes, std::vector<int64_t>* steps) {
  if (ctx.opset < 10) {
    *starts = ctx.attrs ? ctx.attrs->GetInts("starts", {}) : std::vector<int64_t>{};
    *ends = ctx.attrs ? ctx.attrs->GetInts("ends", {}) : std::vector<int64_t>{};
    *axes = ctx.attrs ? ctx.attrs->GetInts("axes", {}) : std::vector<int64_t>{};
    return Status::Ok();
  }
  MAAS_RETURN_IF_ERROR(RequireInputs("Slice", ctx, 3));
  std::vector<int64_t>* lists[] = {starts, ends, axes, steps};
  for (size_t i = 0; i < 4; ++i) {
    const Tensor* t = ctx.inputs.size() > i + 1 ? ctx.inputs[i + 1] : nullptr;
    if (t && !ReadIntList(*t, lists[i])) return InvalidArgument("Slice: starts, ends, axes and steps must be 1-D ints");
  }
  return Status::Ok();
}

Status SliceCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Slice", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> starts, ends, axes, steps;
  MAAS_RETURN_IF_ERROR(SliceArguments(ctx, &starts, &ends, &axes, &steps));
  std::vector<SliceDim> dims;
  MAAS_RETURN_IF_ERROR(AsArgumentError(ResolveSlice(in.shape, starts, ends, axes, steps, &dims)));
  Shape shape;
  for (const SliceDim& d : dims) shape.push_back(d.count);
  MAAS_RETURN_IF_ERROR(AllocateOutput("Slice", ctx, 0, in.dtype, shape));
  const int64_t total = NumElements(shape);
  if (total == 0) return Status::Ok();
  const size_t rank = shape.size();
  if (rank == 0) {  // a scalar: nothing to slice
    std::memcpy(ctx.output(0).raw(), in.raw(), DTypeSizeBytes(in.dtype));
    return Status::Ok();
  }
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t d = rank; d-- > 1;) in_stride[d - 1] = in_stride[d] * in.shape[d];
  const int64_t inner = shape.back();
  const int64_t rows = total / inner;
  const size_t elem = DTypeSizeBytes(in.dtype);
  const bool ok = DispatchElementSize(elem, [&](auto tag) {
    using U = decltype(tag);
    const U* src = in.data<U>();
    U* dst = ctx.output(0).data<U>();
    const int64_t step = dims.back().step;
    const int64_t first = dims.back().start;
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / inner);
    MaybeParallelFor(ctx.pool, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        // The row's source offset from its index over the outer dims.
        int64_t offset = first, rest = row;
        for (size_t d = rank - 1; d-- > 0;) {
          const int64_t i = rest % shape[d];
          rest /= shape[d];
          offset += (dims[d].start + i * dims[d].step) * in_stride[d];
        }
        U* out = dst + row * inner;
        if (step == 1) {
          std::memcpy(out, src + offset, static_cast<size_t>(inner) * sizeof(U));
        } else {
          for (int64_t i = 0; i < inner; ++i) out[i] = src[offset + i * step];
        }
      }
    });
  });
  return ok ? Status::Ok() : UnsupportedDType("Slice", in.dtype);
}

// ---- Split --------------------------------------------------------------------------

Status SplitCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Split", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  const int64_t a = ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0;
  if (!NormalizeAxis(a, static_cast<int64_t>(in.shape.size()), &axis))
    return InvalidArgument("Split: axis out of range");
  std::vector<int64_t> split;
  bool has_split = false;
  if (ctx.opset < 13) {
    has_split = ctx.attrs && ctx.attrs->Has("split");
    if (has_split) split = ctx.attrs->GetInts("split", {});
  } else if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
    has_split = true;
    if (!ReadIntList(*ctx.inputs[1], &split)) return InvalidArgument("Split: split must be a 1-D int64 tensor");
  }
  std::vector<int64_t> sizes;
  MAAS_RETURN_IF_ERROR(AsArgumentError(
      SplitSizes(in.shape[axis], has_split ? &split : nullptr, ctx.num_outputs(), ctx.opset >= 18, &sizes)));
  const int64_t outer = DimProduct(in.shape, 0, axis);
  const size_t inner_bytes =
      static_cast<size_t>(DimProduct(in.shape, axis + 1, in.shape.size())) * DTypeSizeBytes(in.dtype);
  const size_t in_row = static_cast<size_t>(in.shape[axis]) * inner_bytes;
  size_t offset = 0;
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    Shape shape = in.shape;
    shape[axis] = sizes[i];
    MAAS_RETURN_IF_ERROR(AllocateOutput("Split", ctx, i, in.dtype, shape));
    const size_t piece = static_cast<size_t>(sizes[i]) * inner_bytes;
    if (piece) {
      const uint8_t* src = static_cast<const uint8_t*>(in.raw()) + offset;
      uint8_t* dst = static_cast<uint8_t*>(ctx.output(i).raw());
      for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * piece, src + o * in_row, piece);
    }
    offset += piece;
  }
  return Status::Ok();
}

// ---- Gather -------------------------------------------------------------------------

Status GatherCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Gather", ctx, 2));
  const Tensor& data = *ctx.inputs[0];
  const Tensor& indices = *ctx.inputs[1];
  int64_t axis = 0;
  const int64_t a = ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0;
  if (!NormalizeAxis(a, static_cast<int64_t>(data.shape.size()), &axis))
    return InvalidArgument("Gather: axis out of range");
  if (indices.dtype != DType::kInt64 && indices.dtype != DType::kInt32)
    return InvalidArgument("Gather: indices must be int32 or int64");
  MAAS_RETURN_IF_ERROR(AllocateOutput("Gather", ctx, 0, data.dtype, GatherShape(data.shape, indices.shape, axis)));
  const int64_t count = indices.num_elements();
  const int64_t outer = DimProduct(data.shape, 0, axis);
  const int64_t dim = data.shape[axis];
  const size_t block =
      static_cast<size_t>(DimProduct(data.shape, axis + 1, data.shape.size())) * DTypeSizeBytes(data.dtype);
  if (count == 0 || outer == 0 || block == 0) return Status::Ok();
  // Indices checked once, before anything is written.
  auto index_at = [&](int64_t i) -> int64_t {
    return indices.dtype == DType::kInt64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
  };
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = index_at(i);
    if (index < -dim || index >= dim)
      return InvalidArgument("Gather: index " + std::to_string(index) + " is out of range for a dim of " +
                             std::to_string(dim));
  }
  const uint8_t* src = static_cast<const uint8_t*>(data.raw());
  uint8_t* dst = static_cast<uint8_t*>(ctx.output(0).raw());
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain * 4 / static_cast<int64_t>(block));
  MaybeParallelFor(ctx.pool, outer * count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t o = unit / count;
      int64_t index = index_at(unit % count);
      if (index < 0) index += dim;
      std::memcpy(dst + unit * block, src + (o * dim + index) * block, block);
    }
  });
  return Status::Ok();
}

// ---- Expand / Tile ----------------------------------------------------------------------

Status ExpandCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Expand", ctx, 2));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> target;
  if (!ReadIntList(*ctx.inputs[1], &target)) return InvalidArgument("Expand: shape must be a 1-D int64 tensor");
  Shape shape;
  if (!BroadcastShapes(in.shape, target, &shape) || NumElements(shape) < 0)
    return InvalidArgument("Expand: " + ShapeToString(in.shape) + " does not broadcast to " + ShapeToString(target));
  MAAS_RETURN_IF_ERROR(AllocateOutput("Expand", ctx, 0, in.dtype, shape));
  return BroadcastCopy(in, ctx.output(0), ctx.pool) ? Status::Ok() : UnsupportedDType("Expand", in.dtype);
}

Status TileCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Tile", ctx, 2));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> repeats;
  if (!ReadIntList(*ctx.inputs[1], &repeats) || repeats.size() != in.shape.size())
    return InvalidArgument("Tile: repeats must hold one value per dim");
  Shape shape(in.shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (repeats[d] < 0 || __builtin_mul_overflow(in.shape[d], repeats[d], &shape[d]))
      return InvalidArgument("Tile: bad repeats");
  }
  MAAS_RETURN_IF_ERROR(AllocateOutput("Tile", ctx, 0, in.dtype, shape));
  const int64_t total = NumElements(shape);
  if (total == 0) return Status::Ok();
  const size_t rank = shape.size();
  if (rank == 0) {
    std::memcpy(ctx.output(0).raw(), in.raw(), DTypeSizeBytes(in.dtype));
    return Status::Ok();
  }
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t d = rank; d-- > 1;) in_stride[d - 1] = in_stride[d] * in.shape[d];
  const int64_t inner = shape.back(), in_inner = in.shape.back();
  const bool ok = DispatchElementSize(DTypeSizeBytes(in.dtype), [&](auto tag) {
    using U = decltype(tag);
    const U* src = in.data<U>();
    U* dst = ctx.output(0).data<U>();
    MaybeParallelFor(ctx.pool, total / inner, std::max<int64_t>(1, kElementwiseGrain / inner),
                     [&](int64_t b, int64_t e) {
                       for (int64_t row = b; row < e; ++row) {
                         int64_t offset = 0, rest = row;
                         for (size_t d = rank - 1; d-- > 0;) {
                           offset += (rest % shape[d]) % in.shape[d] * in_stride[d];
                           rest /= shape[d];
                         }
                         U* out = dst + row * inner;
                         for (int64_t r = 0; r < repeats.back(); ++r)
                           std::memcpy(out + r * in_inner, src + offset, static_cast<size_t>(in_inner) * sizeof(U));
                       }
                     });
  });
  return ok ? Status::Ok() : UnsupportedDType("Tile", in.dtype);
}

// ---- Shape / Size / ConstantOfShape / Range --------------------------------------------

Status ShapeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Shape", ctx, 1));
  const Shape& in = ctx.inputs[0]->shape;
  int64_t begin = 0, end = 0;
  ShapeRange(ctx.attrs, static_cast<int64_t>(in.size()), &begin, &end);
  MAAS_RETURN_IF_ERROR(AllocateOutput("Shape", ctx, 0, DType::kInt64, {end - begin}));
  std::copy(in.begin() + begin, in.begin() + end, ctx.output(0).data<int64_t>());
  return Status::Ok();
}

Status SizeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Size", ctx, 1));
  MAAS_RETURN_IF_ERROR(AllocateOutput("Size", ctx, 0, DType::kInt64, {}));
  *ctx.output(0).data<int64_t>() = ctx.inputs[0]->num_elements();
  return Status::Ok();
}

Status ConstantOfShapeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("ConstantOfShape", ctx, 1));
  std::vector<int64_t> shape;
  if (!ReadIntList(*ctx.inputs[0], &shape)) return InvalidArgument("ConstantOfShape: the shape must be 1-D int64");
  for (int64_t d : shape)
    if (d < 0) return InvalidArgument("ConstantOfShape: negative dim");
  if (NumElements(shape) < 0)
    return InvalidArgument("ConstantOfShape: " + ShapeToString(shape) + " is impossibly large");
  const Attribute* value = ctx.attrs ? ctx.attrs->Find("value") : nullptr;
  const DType dtype = value ? value->t.dtype : DType::kFloat32;
  MAAS_RETURN_IF_ERROR(AllocateOutput("ConstantOfShape", ctx, 0, dtype, shape));
  const bool ok = DispatchElementSize(DTypeSizeBytes(dtype), [&](auto tag) {
    using U = decltype(tag);
    U fill{};
    if (value) std::memcpy(&fill, value->t.raw(), sizeof(U));
    U* out = ctx.output(0).data<U>();
    std::fill(out, out + NumElements(shape), fill);
  });
  return ok ? Status::Ok() : UnsupportedDType("ConstantOfShape", dtype);
}

Status RangeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Range", ctx, 3));
  const DType dtype = ctx.inputs[0]->dtype;
  for (int i = 0; i < 3; ++i)
    if (ctx.inputs[i]->num_elements() != 1 || ctx.inputs[i]->dtype != dtype)
      return InvalidArgument("Range: start, limit and delta must be scalars of one dtype");
  Status status;
  const bool ok = DispatchDType<TypeList<float, double, int16_t, int32_t, int64_t>>(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T start = *ctx.inputs[0]->data<T>(), limit = *ctx.inputs[1]->data<T>(), delta = *ctx.inputs[2]->data<T>();
    int64_t count = 0;
    if constexpr (std::is_floating_point_v<T>) {
      status = RangeCount(static_cast<double>(static_cast<T>(limit - start)), delta, &count);
    } else {
      status = RangeCountInt(start, limit, delta, &count);
    }
    // The count is only known now: the size limit is checked as the output is allocated.
    status = status.ok() ? AllocateOutput("Range", ctx, 0, dtype, {count}) : AsArgumentError(status);
    if (!status.ok()) return;
    T* out = ctx.output(0).data<T>();
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  });
  return ok ? status : UnsupportedDType("Range", dtype);
}

CpuKernel Any(const std::string& op, CpuKernel::ComputeFn compute) {
  return CpuKernel{op, {}, std::move(compute), nullptr, nullptr};
}

CpuKernelRegistrar squeeze_k(Any("Squeeze", SqueezeCompute));
CpuKernelRegistrar unsqueeze_k(Any("Unsqueeze", UnsqueezeCompute));
CpuKernelRegistrar slice_k(Any("Slice", SliceCompute));
CpuKernelRegistrar split_k(Any("Split", SplitCompute));
CpuKernelRegistrar gather_k(Any("Gather", GatherCompute));
CpuKernelRegistrar expand_k(Any("Expand", ExpandCompute));
CpuKernelRegistrar tile_k(Any("Tile", TileCompute));
CpuKernelRegistrar shape_k(Any("Shape", ShapeCompute));
CpuKernelRegistrar size_k(Any("Size", SizeCompute));
CpuKernelRegistrar constant_of_shape_k(Any("ConstantOfShape", ConstantOfShapeCompute));
CpuKernelRegistrar range_k(Any("Range", RangeCompute));

}  // namespace
}  // namespace maas
