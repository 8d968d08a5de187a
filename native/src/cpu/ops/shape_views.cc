// Identity, Reshape, Flatten: ops that only relabel the shape. The output
// shares the input's buffer (a view), so they cost no copy; any dtype works.
#include <algorithm>
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

// Makes an output that aliases `in` with a new shape.
void ShareAs(KernelContext& ctx, const Tensor& in, const Shape& shape) {
  Tensor view = in;
  view.shape = shape;
  (*ctx.outputs)[0] = std::move(view);
}

ValueInfo& SetOutput(std::vector<ValueInfo>& outputs, DType dtype) {
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = dtype;
  out.constant = nullptr;
  return out;
}

// ---- Identity ------------------------------------------------------------

Status IdentityInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Identity", ctx, 1));
  ValueInfo& out = SetOutput(outputs, ctx.inputs[0].dtype);
  out.shape = ctx.inputs[0].shape;
  out.rank_known = ctx.inputs[0].rank_known;
  return Status::Ok();
}

Status IdentityCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Identity", ctx, 1));
  ShareAs(ctx, *ctx.inputs[0], ctx.inputs[0]->shape);
  return Status::Ok();
}

// ---- Reshape -------------------------------------------------------------

// Applies a Reshape spec to an input shape whose dims may be unknown (at load
// time). 0 copies the input dim (unless allowzero), -1 is inferred from the
// element count. Errors come back as kInvalidModel; compute remaps them.
Status ResolveReshape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero, Shape* out) {
  const std::string op = "Reshape";
  out->assign(spec.size(), 0);
  int64_t infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t s = spec[i];
    if (s == -1) {
      if (infer_at >= 0) return InvalidModel(op + ": more than one -1 in shape");
      infer_at = static_cast<int64_t>(i);
    } else if (s == 0 && !allowzero) {
      if (i >= in.size()) return InvalidModel(op + ": 0 at index " + std::to_string(i) + " beyond input rank");
      (*out)[i] = in[i];
    } else if (s < 0) {
      return InvalidModel(op + ": invalid dim " + std::to_string(s));
    } else {
      has_zero |= s == 0;
      (*out)[i] = s;
    }
  }
  if (allowzero && has_zero && infer_at >= 0) return InvalidModel(op + ": allowzero with both 0 and -1");
  const int64_t in_count = NumElements(in);
  if (infer_at >= 0) {
    int64_t known = 1;
    bool unknown = in_count < 0;
    for (size_t i = 0; i < out->size(); ++i) {
      if (static_cast<int64_t>(i) == infer_at) continue;
      if ((*out)[i] < 0) unknown = true;
      else if (__builtin_mul_overflow(known, (*out)[i], &known))
        return InvalidModel(op + ": shape " + ShapeToString(*out) + " has too many elements");
    }
    if (unknown) {
      (*out)[infer_at] = kUnknownDim;
    } else if (known == 0 || in_count % known != 0) {
      return InvalidModel(op + ": cannot reshape " + ShapeToString(in) + " to " + ShapeToString(*out) +
                          " with -1 at index " + std::to_string(infer_at));
    } else {
      (*out)[infer_at] = in_count / known;
    }
    return Status::Ok();
  }
  const int64_t out_count = NumElements(*out);
  // Every dim known yet no count: the product overflowed.
  if (out_count < 0 && std::find(out->begin(), out->end(), kUnknownDim) == out->end())
    return InvalidModel(op + ": shape " + ShapeToString(*out) + " has too many elements");
  if (in_count >= 0 && out_count >= 0 && in_count != out_count)
    return InvalidModel(op + ": cannot reshape " + ShapeToString(in) + " (" + std::to_string(in_count) +
                        " elements) to " + ShapeToString(*out));
  return Status::Ok();
}

bool ReadShapeTensor(const Tensor& t, std::vector<int64_t>* spec) {
  if (t.dtype != DType::kInt64 || t.shape.size() > 1) return false;
  const int64_t n = t.num_elements();
  if (n > 0 && !t.raw()) return false;
  spec->assign(t.data<int64_t>(), t.data<int64_t>() + n);
  return true;
}

Status ReshapeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 1));
  const ValueInfo& data = ctx.inputs[0];
  const bool allowzero = ctx.attrs && ctx.attrs->GetInt("allowzero", 0) != 0;
  ValueInfo& out = SetOutput(outputs, data.dtype);
  std::vector<int64_t> spec;
  if (ctx.opset < 5) {
    if (!ctx.attrs || !ctx.attrs->Has("shape")) return InvalidModel("Reshape: missing 'shape' attribute");
    spec = ctx.attrs->GetInts("shape", {});
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 2));
    const ValueInfo& shape_in = ctx.inputs[1];
    if (shape_in.dtype != DType::kInt64) return InvalidModel("Reshape: shape input must be int64");
    if (!shape_in.constant) {
      // Only the rank is known: the length of the 1-D shape input.
      out.rank_known = shape_in.rank_known && shape_in.shape.size() == 1 && shape_in.shape[0] >= 0;
      out.shape = out.rank_known ? Shape(static_cast<size_t>(shape_in.shape[0]), kUnknownDim) : Shape{};
      return Status::Ok();
    }
    if (!ReadShapeTensor(*shape_in.constant, &spec)) return InvalidModel("Reshape: shape must be a 1-D int64 tensor");
  }
  Shape in_shape = data.rank_known ? data.shape : Shape{};
  if (!data.rank_known) {
    // Without the input rank, a 0 cannot be resolved and -1 cannot be inferred.
    out.shape.clear();
    for (int64_t s : spec) out.shape.push_back(s > 0 || (s == 0 && allowzero) ? s : kUnknownDim);
    out.rank_known = true;
    return Status::Ok();
  }
  out.rank_known = true;
  return ResolveReshape(in_shape, spec, allowzero, &out.shape);
}

Status ReshapeCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 1));
  const Tensor& data = *ctx.inputs[0];
  const bool allowzero = ctx.attrs && ctx.attrs->GetInt("allowzero", 0) != 0;
  std::vector<int64_t> spec;
  if (ctx.opset < 5) {
    spec = ctx.attrs ? ctx.attrs->GetInts("shape", {}) : std::vector<int64_t>{};
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("Reshape", ctx, 2));
    if (!ReadShapeTensor(*ctx.inputs[1], &spec)) return InvalidArgument("Reshape: shape must be a 1-D int64 tensor");
  }
  Shape out_shape;
  Status s = ResolveReshape(data.shape, spec, allowzero, &out_shape);
  if (!s.ok()) return InvalidArgument(s.message());
  ShareAs(ctx, data, out_shape);
  return Status::Ok();
}

// ---- Flatten -------------------------------------------------------------

Status FlattenAxis(const std::string& op, int64_t rank, const Attributes* attrs, int64_t* axis) {
  const int64_t a = attrs ? attrs->GetInt("axis", 1) : 1;
  if (a < -rank || a > rank) return InvalidModel(op + ": axis " + std::to_string(a) + " out of range for rank " +
                                                 std::to_string(rank));
  *axis = a < 0 ? a + rank : a;
  return Status::Ok();
}

Status FlattenInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Flatten", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  ValueInfo& out = SetOutput(outputs, in.dtype);
  out.rank_known = true;
  if (!in.rank_known) {
    out.shape = {kUnknownDim, kUnknownDim};
    return Status::Ok();
  }
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(FlattenAxis("Flatten", static_cast<int64_t>(in.shape.size()), ctx.attrs, &axis));
  out.shape = {DimProduct(in.shape, 0, axis), DimProduct(in.shape, axis, in.shape.size())};
  return Status::Ok();
}

Status FlattenCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Flatten", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  Status s = FlattenAxis("Flatten", static_cast<int64_t>(in.shape.size()), ctx.attrs, &axis);
  if (!s.ok()) return InvalidArgument(s.message());
  const int64_t rows = DimProduct(in.shape, 0, axis);
  const int64_t columns = DimProduct(in.shape, axis, in.shape.size());
  // Only an empty tensor can get here with such dims, e.g. [0, 2^40, 2^40].
  if (rows < 0 || columns < 0) return InvalidArgument("Flatten: " + ShapeToString(in.shape) + " flattens past int64");
  ShareAs(ctx, in, {rows, columns});
  return Status::Ok();
}

KernelRegistrar identity_registrar(OpKernel{"Identity", IdentityInfer, IdentityCompute});
KernelRegistrar reshape_registrar(OpKernel{"Reshape", ReshapeInfer, ReshapeCompute});
KernelRegistrar flatten_registrar(OpKernel{"Flatten", FlattenInfer, FlattenCompute});

}  // namespace
}  // namespace maas
