// Schemas of the ops that select, repeat or describe data, any fixed-size
// dtype unless noted:
//   Squeeze, Unsqueeze   views of their input; axes an attribute before
//                        opset 13, an input from then on
//   Slice                starts/ends/axes/steps inputs (attributes before opset 10)
//   Split                sizes an attribute before opset 13, an input from
//                        then on; opset 18's num_outputs
//   Gather, Expand, Tile
//   Shape, Size          int64 descriptions of the input's shape: known
//                        (and folded) whenever the dims they read are
//   ConstantOfShape, Range  tensors generated from small inputs
// The rules themselves are in ops/indexing.h, shared with the kernels.
#include <algorithm>

#include "ops/indexing.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

using K = Attribute::Kind;

ValueInfo& Output(std::vector<ValueInfo>& outputs, DType dtype) {
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = dtype;
  out.rank_known = true;
  out.shape.clear();
  return out;
}

Status FixedSize(const std::string& op, DType dtype) {
  return IsFixedSizeDType(dtype) ? Status::Ok() : UnsupportedDType(op, dtype);
}

// A constant int list input (int32 or int64), or *known = false.
Status ConstantInts(const std::string& op, const InferContext& ctx, size_t index, std::vector<int64_t>* values,
                    bool* known) {
  values->clear();
  *known = false;
  if (ctx.inputs.size() <= index || ctx.inputs[index].dtype == DType::kUndefined) return Status::Ok();
  const ValueInfo& in = ctx.inputs[index];
  if (in.dtype != DType::kInt64 && in.dtype != DType::kInt32)
    return InvalidModel(op + ": input " + std::to_string(index) + " must be int32 or int64");
  if (!in.constant) return Status::Ok();
  if (!ReadIntList(*in.constant, values)) return InvalidModel(op + ": input " + std::to_string(index) + " must be 1-D");
  *known = true;
  return Status::Ok();
}

// The length of a 1-D input, or -1.
int64_t LengthOf(const ValueInfo& in) { return in.rank_known && in.shape.size() == 1 ? in.shape[0] : -1; }

// ---- Squeeze / Unsqueeze -----------------------------------------------------------

Status SqueezeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Squeeze", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Squeeze", in.dtype));
  ValueInfo& out = Output(outputs, in.dtype);
  std::vector<int64_t> axes;
  bool present = false, known = false;
  MAAS_RETURN_IF_ERROR(AxesOf(ctx, 13, 1, &axes, &present, &known));
  const bool all_known = in.rank_known && std::find(in.shape.begin(), in.shape.end(), kUnknownDim) == in.shape.end();
  if (!in.rank_known || !known || (!present && !all_known)) {
    out.rank_known = false;
    return Status::Ok();
  }
  return SqueezeShape(in.shape, present ? &axes : nullptr, &out.shape);
}

Status UnsqueezeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Unsqueeze", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Unsqueeze", in.dtype));
  ValueInfo& out = Output(outputs, in.dtype);
  std::vector<int64_t> axes;
  bool present = false, known = false;
  MAAS_RETURN_IF_ERROR(AxesOf(ctx, 13, 1, &axes, &present, &known));
  if (!present) return InvalidModel("Unsqueeze: no axes");
  if (!in.rank_known || !known) {
    out.rank_known = false;
    return Status::Ok();
  }
  return UnsqueezeShape(in.shape, axes, &out.shape);
}

// ---- Slice -----------------------------------------------------------------------

Status SliceInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Slice", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Slice", in.dtype));
  ValueInfo& out = Output(outputs, in.dtype);
  if (!in.rank_known) {
    out.rank_known = false;
    return Status::Ok();
  }
  std::vector<int64_t> starts, ends, axes, steps;
  bool known = true;
  if (ctx.opset < 10) {
    if (!ctx.attrs || !ctx.attrs->Has("starts") || !ctx.attrs->Has("ends"))
      return InvalidModel("Slice: missing starts or ends");
    starts = ctx.attrs->GetInts("starts", {});
    ends = ctx.attrs->GetInts("ends", {});
    axes = ctx.attrs->GetInts("axes", {});
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("Slice", ctx, 3));
    bool k[4] = {true, true, true, true};
    MAAS_RETURN_IF_ERROR(ConstantInts("Slice", ctx, 1, &starts, &k[0]));
    MAAS_RETURN_IF_ERROR(ConstantInts("Slice", ctx, 2, &ends, &k[1]));
    const bool has_axes = ctx.inputs.size() > 3 && ctx.inputs[3].dtype != DType::kUndefined;
    const bool has_steps = ctx.inputs.size() > 4 && ctx.inputs[4].dtype != DType::kUndefined;
    if (has_axes) MAAS_RETURN_IF_ERROR(ConstantInts("Slice", ctx, 3, &axes, &k[2]));
    if (has_steps) MAAS_RETURN_IF_ERROR(ConstantInts("Slice", ctx, 4, &steps, &k[3]));
    known = k[0] && k[1] && k[2] && k[3];
  }
  if (!known) {
    // Which dims change is unknown: keep the rank only.
    out.shape.assign(in.shape.size(), kUnknownDim);
    return Status::Ok();
  }
  std::vector<SliceDim> dims;
  MAAS_RETURN_IF_ERROR(ResolveSlice(in.shape, starts, ends, axes, steps, &dims));
  for (const SliceDim& d : dims) out.shape.push_back(d.count);
  return Status::Ok();
}

// ---- Split -----------------------------------------------------------------------

Status SplitInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Split", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Split", in.dtype));
  for (ValueInfo& out : outputs) {
    out.dtype = in.dtype;
    out.rank_known = in.rank_known;
    out.shape = in.shape;
  }
  if (ctx.opset >= 18 && ctx.attrs && ctx.attrs->Has("num_outputs") &&
      ctx.attrs->GetInt("num_outputs", 0) != static_cast<int64_t>(outputs.size()))
    return InvalidModel("Split: num_outputs differs from the node's outputs");
  if (!in.rank_known) return Status::Ok();
  int64_t axis = 0;
  const int64_t a = ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0;
  if (!NormalizeAxis(a, static_cast<int64_t>(in.shape.size()), &axis)) return InvalidModel("Split: axis out of range");
  std::vector<int64_t> split;
  bool has_split = false, known = true;
  if (ctx.opset < 13) {
    has_split = ctx.attrs && ctx.attrs->Has("split");
    if (has_split) split = ctx.attrs->GetInts("split", {});
  } else {
    has_split = ctx.inputs.size() > 1 && ctx.inputs[1].dtype != DType::kUndefined;
    if (has_split) MAAS_RETURN_IF_ERROR(ConstantInts("Split", ctx, 1, &split, &known));
  }
  std::vector<int64_t> sizes(outputs.size(), kUnknownDim);
  if (known)
    MAAS_RETURN_IF_ERROR(
        SplitSizes(in.shape[axis], has_split ? &split : nullptr, outputs.size(), ctx.opset >= 18, &sizes));
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].shape[axis] = sizes[i];
  return Status::Ok();
}

// ---- Gather ----------------------------------------------------------------------

Status GatherInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Gather", ctx, 2));
  const ValueInfo& data = ctx.inputs[0];
  const ValueInfo& indices = ctx.inputs[1];
  MAAS_RETURN_IF_ERROR(FixedSize("Gather", data.dtype));
  if (indices.dtype != DType::kInt64 && indices.dtype != DType::kInt32)
    return InvalidModel("Gather: indices must be int32 or int64");
  ValueInfo& out = Output(outputs, data.dtype);
  if (!data.rank_known || !indices.rank_known) {
    out.rank_known = false;
    return Status::Ok();
  }
  int64_t axis = 0;
  const int64_t a = ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0;
  if (!NormalizeAxis(a, static_cast<int64_t>(data.shape.size()), &axis))
    return InvalidModel("Gather: axis out of range");
  out.shape = GatherShape(data.shape, indices.shape, axis);
  return Status::Ok();
}

// ---- Expand / Tile ---------------------------------------------------------------------

Status ExpandInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Expand", ctx, 2));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Expand", in.dtype));
  if (ctx.inputs[1].dtype != DType::kInt64) return InvalidModel("Expand: shape must be int64");
  ValueInfo& out = Output(outputs, in.dtype);
  std::vector<int64_t> shape;
  bool known = false;
  MAAS_RETURN_IF_ERROR(ConstantInts("Expand", ctx, 1, &shape, &known));
  for (int64_t d : shape)
    if (d < 0) return InvalidModel("Expand: negative dim in shape");
  const int64_t length = known ? static_cast<int64_t>(shape.size()) : LengthOf(ctx.inputs[1]);
  if (!in.rank_known || length < 0) {
    out.rank_known = false;
    return Status::Ok();
  }
  if (!known) shape.assign(static_cast<size_t>(length), kUnknownDim);
  // Unknown target dims: the result is the input's dim unless that is 1.
  if (!BroadcastShapes(in.shape, shape, &out.shape))
    return InvalidModel("Expand: " + ShapeToString(in.shape) + " does not broadcast to " + ShapeToString(shape));
  return Status::Ok();
}

Status TileInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Tile", ctx, 2));
  const ValueInfo& in = ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(FixedSize("Tile", in.dtype));
  if (ctx.inputs[1].dtype != DType::kInt64) return InvalidModel("Tile: repeats must be int64");
  ValueInfo& out = Output(outputs, in.dtype);
  if (!in.rank_known) {
    out.rank_known = false;
    return Status::Ok();
  }
  std::vector<int64_t> repeats;
  bool known = false;
  MAAS_RETURN_IF_ERROR(ConstantInts("Tile", ctx, 1, &repeats, &known));
  if (!known) {
    out.shape.assign(in.shape.size(), kUnknownDim);
    return Status::Ok();
  }
  if (repeats.size() != in.shape.size()) return InvalidModel("Tile: repeats must have one entry per dim");
  for (size_t i = 0; i < repeats.size(); ++i) {
    int64_t d = kUnknownDim;
    if (repeats[i] < 0) return InvalidModel("Tile: negative repeat");
    if (in.shape[i] >= 0 && __builtin_mul_overflow(in.shape[i], repeats[i], &d))
      return InvalidModel("Tile: the output is impossibly large");
    out.shape.push_back(d);
  }
  return Status::Ok();
}

// ---- Shape / Size ----------------------------------------------------------------------

Status ShapeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Shape", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  ValueInfo& out = Output(outputs, DType::kInt64);
  if (!in.rank_known) {
    out.shape = {kUnknownDim};
    return Status::Ok();
  }
  int64_t begin = 0, end = 0;
  ShapeRange(ctx.attrs, static_cast<int64_t>(in.shape.size()), &begin, &end);
  out.shape = {end - begin};
  const Shape dims(in.shape.begin() + begin, in.shape.begin() + end);
  if (std::find(dims.begin(), dims.end(), kUnknownDim) != dims.end()) return Status::Ok();  // not known yet
  out.value = MakeTensor(DType::kInt64, out.shape);
  if (!out.value.buffer) return Status(StatusCode::kOutOfMemory, "Shape: no memory");
  std::copy(dims.begin(), dims.end(), out.value.data<int64_t>());
  return Status::Ok();
}

Status SizeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Size", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  ValueInfo& out = Output(outputs, DType::kInt64);
  const int64_t n = in.rank_known ? NumElements(in.shape) : -1;
  if (n < 0) return Status::Ok();
  out.value = MakeTensor(DType::kInt64, {});
  if (!out.value.buffer) return Status(StatusCode::kOutOfMemory, "Size: no memory");
  *out.value.data<int64_t>() = n;
  return Status::Ok();
}

// ---- ConstantOfShape / Range -------------------------------------------------------

Status ConstantOfShapeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("ConstantOfShape", ctx, 1));
  if (ctx.inputs[0].dtype != DType::kInt64) return InvalidModel("ConstantOfShape: the shape must be int64");
  DType dtype = DType::kFloat32;
  if (const Attribute* value = ctx.attrs ? ctx.attrs->Find("value") : nullptr) {
    if (value->kind != Attribute::Kind::kTensor || value->t.num_elements() != 1 || !value->t.buffer)
      return InvalidModel("ConstantOfShape: value must be a one-element tensor");
    dtype = value->t.dtype;
    MAAS_RETURN_IF_ERROR(FixedSize("ConstantOfShape", dtype));
  }
  ValueInfo& out = Output(outputs, dtype);
  std::vector<int64_t> shape;
  bool known = false;
  MAAS_RETURN_IF_ERROR(ConstantInts("ConstantOfShape", ctx, 0, &shape, &known));
  if (!known) {
    const int64_t length = LengthOf(ctx.inputs[0]);
    out.rank_known = length >= 0;
    if (out.rank_known) out.shape.assign(static_cast<size_t>(length), kUnknownDim);
    return Status::Ok();
  }
  for (int64_t d : shape)
    if (d < 0) return InvalidModel("ConstantOfShape: negative dim");
  out.shape = shape;
  if (NumElements(shape) < 0) return InvalidModel("ConstantOfShape: " + ShapeToString(shape) + " is impossibly large");
  return Status::Ok();
}

bool RangeDType(DType d) {
  return IsOneOf(d, {DType::kFloat32, DType::kFloat64, DType::kInt16, DType::kInt32, DType::kInt64});
}

// A scalar constant's value as double and as int64.
bool ScalarOf(const ValueInfo& in, double* as_double, int64_t* as_int) {
  if (!in.constant || in.constant->num_elements() != 1 || !in.constant->raw()) return false;
  const Tensor& t = *in.constant;
  switch (t.dtype) {
    case DType::kFloat32: *as_double = *t.data<float>(); break;
    case DType::kFloat64: *as_double = *t.data<double>(); break;
    case DType::kInt16: *as_int = *t.data<int16_t>(); break;
    case DType::kInt32: *as_int = *t.data<int32_t>(); break;
    case DType::kInt64: *as_int = *t.data<int64_t>(); break;
    default: return false;
  }
  return true;
}

Status RangeInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Range", ctx, 3));
  const DType dtype = ctx.inputs[0].dtype;
  if (!RangeDType(dtype)) return UnsupportedDType("Range", dtype);
  for (const ValueInfo& in : ctx.inputs) {
    if (in.dtype != dtype) return InvalidModel("Range: inputs have different dtypes");
    if (in.rank_known && NumElements(in.shape) != 1 && NumElements(in.shape) >= 0)
      return InvalidModel("Range: inputs must be scalars");
  }
  ValueInfo& out = Output(outputs, dtype);
  out.shape = {kUnknownDim};
  double d[3] = {0, 0, 0};
  int64_t i[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k)
    if (!ScalarOf(ctx.inputs[k], &d[k], &i[k])) return Status::Ok();
  int64_t count = 0;
  if (dtype == DType::kFloat32) {
    // The span in the inputs' own precision, as onnxruntime computes it.
    MAAS_RETURN_IF_ERROR(RangeCount(static_cast<float>(d[1]) - static_cast<float>(d[0]), d[2], &count));
  } else if (dtype == DType::kFloat64) {
    MAAS_RETURN_IF_ERROR(RangeCount(d[1] - d[0], d[2], &count));
  } else {
    MAAS_RETURN_IF_ERROR(RangeCountInt(i[0], i[1], i[2], &count));
  }
  out.shape = {count};
  return Status::Ok();
}

OpSchema Schema(const std::string& op, int min_inputs, int max_inputs, OpSchema::InferFn infer,
                std::vector<AttrSpec> attrs = {}) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.infer = std::move(infer);
  s.attributes = std::move(attrs);
  return s;
}

OpSchema ViewSchema(const std::string& op, OpSchema::InferFn infer) {
  OpSchema s = Schema(op, 1, 2, std::move(infer), {{"axes", K::kInts}});
  s.views = {0};
  return s;
}

OpSchema SplitSchema() {
  OpSchema s = Schema("Split", 1, 2, SplitInfer, {{"axis", K::kInt}, {"split", K::kInts}, {"num_outputs", K::kInt}});
  s.max_outputs = -1;
  return s;
}

SchemaRegistrar squeeze(ViewSchema("Squeeze", SqueezeInfer));
SchemaRegistrar unsqueeze(ViewSchema("Unsqueeze", UnsqueezeInfer));
SchemaRegistrar slice(Schema("Slice", 1, 5, SliceInfer,
                             {{"starts", K::kInts}, {"ends", K::kInts}, {"axes", K::kInts}}));
SchemaRegistrar split(SplitSchema());
SchemaRegistrar gather(Schema("Gather", 2, 2, GatherInfer, {{"axis", K::kInt}}));
SchemaRegistrar expand(Schema("Expand", 2, 2, ExpandInfer));
SchemaRegistrar tile(Schema("Tile", 2, 2, TileInfer));
SchemaRegistrar shape(Schema("Shape", 1, 1, ShapeInfer, {{"start", K::kInt}, {"end", K::kInt}}));
SchemaRegistrar size(Schema("Size", 1, 1, SizeInfer));
SchemaRegistrar constant_of_shape(Schema("ConstantOfShape", 1, 1, ConstantOfShapeInfer, {{"value", K::kTensor}}));
SchemaRegistrar range(Schema("Range", 3, 3, RangeInfer));

}  // namespace
}  // namespace maas
