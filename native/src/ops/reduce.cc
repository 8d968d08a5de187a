// Schemas of the reductions and the ops along one axis:
//   ReduceSum, ReduceMean, ReduceMax, ReduceMin   axes as attribute or input
//                 (ops/reduce.h), keepdims, noop_with_empty_axes
//   ArgMax, ArgMin   axis, keepdims, select_last_index → int64
//   TopK            K as input (attribute k before opset 10) → values, int64 indices
//   CumSum          axis as a scalar input, exclusive, reverse
#include <algorithm>

#include "ops/indexing.h"
#include "ops/op_util.h"
#include "ops/reduce.h"
#include "ops/schema.h"

namespace maas {

int ReduceAxesInputOpset(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

Status ReducedDims(const std::string& op, int64_t rank, const std::vector<int64_t>& axes, bool noop_with_empty_axes,
                   std::vector<bool>* reduced) {
  reduced->assign(static_cast<size_t>(rank), axes.empty() && !noop_with_empty_axes);
  std::vector<int64_t> normalized;
  MAAS_RETURN_IF_ERROR(NormalizeAxes(op, axes, rank, &normalized));
  for (int64_t a : normalized) (*reduced)[a] = true;
  return Status::Ok();
}

Shape ReducedShape(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!reduced[i])
      out.push_back(in[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

AxisLayout LayoutAround(const Shape& shape, int64_t axis) {
  AxisLayout layout;
  layout.outer = DimProduct(shape, 0, axis);
  layout.len = shape[axis];
  layout.inner = DimProduct(shape, axis + 1, shape.size());
  return layout;
}

namespace {

using K = Attribute::Kind;

bool ReduceDType(DType d) { return IsNumericDType(d); }

Status ReduceInfer(const std::string& op, const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!ReduceDType(in.dtype)) return UnsupportedDType(op, in.dtype);
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = in.dtype;
  out.shape.clear();
  std::vector<int64_t> axes;
  bool present = false, known = false;
  MAAS_RETURN_IF_ERROR(AxesOf(ctx, ReduceAxesInputOpset(op), 1, &axes, &present, &known));
  const bool keepdims = !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0;
  const bool noop = ctx.attrs && ctx.attrs->GetInt("noop_with_empty_axes", 0) != 0;
  out.rank_known = in.rank_known && (known || keepdims);
  if (!in.rank_known) return Status::Ok();
  if (!known) {
    // keepdims keeps the rank; which dims become 1 is unknown.
    out.shape.assign(in.shape.size(), kUnknownDim);
    return Status::Ok();
  }
  std::vector<bool> reduced;
  MAAS_RETURN_IF_ERROR(ReducedDims(op, static_cast<int64_t>(in.shape.size()), axes, noop, &reduced));
  out.shape = ReducedShape(in.shape, reduced, keepdims);
  return Status::Ok();
}

OpSchema ReduceSchema(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = 1;
  s.max_inputs = 2;
  s.attributes = {{"axes", K::kInts}, {"keepdims", K::kInt}, {"noop_with_empty_axes", K::kInt}};
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) { return ReduceInfer(op, ctx, outputs); };
  return s;
}

// The one axis an op works along, normalized; kInvalidModel when out of range.
Status AxisOf(const std::string& op, const ValueInfo& in, int64_t attr_axis, int64_t* axis) {
  if (!NormalizeAxis(attr_axis, static_cast<int64_t>(in.shape.size()), axis))
    return InvalidModel(op + ": axis " + std::to_string(attr_axis) + " out of range for rank " +
                        std::to_string(in.shape.size()));
  return Status::Ok();
}

OpSchema ArgSchema(const std::string& op) {
  OpSchema s;
  s.op_type = op;
  s.min_inputs = s.max_inputs = 1;
  s.attributes = {{"axis", K::kInt}, {"keepdims", K::kInt}, {"select_last_index", K::kInt}};
  s.infer = [op](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const ValueInfo& in = ctx.inputs[0];
    if (!IsNumericDType(in.dtype)) return UnsupportedDType(op, in.dtype);
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = DType::kInt64;
    out.rank_known = in.rank_known;
    out.shape.clear();
    if (!in.rank_known) return Status::Ok();
    int64_t axis = 0;
    MAAS_RETURN_IF_ERROR(AxisOf(op, in, ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0, &axis));
    std::vector<bool> reduced(in.shape.size(), false);
    reduced[axis] = true;
    out.shape = ReducedShape(in.shape, reduced, !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0);
    return Status::Ok();
  };
  return s;
}

Status TopKInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("TopK", ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsNumericDType(in.dtype)) return UnsupportedDType("TopK", in.dtype);
  outputs.resize(2);
  outputs[0].dtype = in.dtype;
  outputs[1].dtype = DType::kInt64;
  for (ValueInfo& out : outputs) {
    out.rank_known = in.rank_known;
    out.shape = in.shape;
  }
  int64_t k = kUnknownDim;
  if (ctx.opset < 10) {
    if (!ctx.attrs || !ctx.attrs->Has("k")) return InvalidModel("TopK: missing 'k'");
    k = ctx.attrs->GetInt("k", 0);
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("TopK", ctx, 2));
    const ValueInfo& k_in = ctx.inputs[1];
    if (k_in.dtype != DType::kInt64) return InvalidModel("TopK: K must be int64");
    std::vector<int64_t> values;
    if (k_in.constant) {
      if (!ReadIntList(*k_in.constant, &values) || values.size() != 1)
        return InvalidModel("TopK: K must hold one value");
      k = values[0];
    }
  }
  if (k != kUnknownDim && k < 0) return InvalidModel("TopK: K is negative");
  if (!in.rank_known) return Status::Ok();
  int64_t axis = 0;
  MAAS_RETURN_IF_ERROR(AxisOf("TopK", in, ctx.attrs ? ctx.attrs->GetInt("axis", -1) : -1, &axis));
  if (k != kUnknownDim && in.shape[axis] >= 0 && k > in.shape[axis])
    return InvalidModel("TopK: K " + std::to_string(k) + " exceeds the axis length " + std::to_string(in.shape[axis]));
  for (ValueInfo& out : outputs) out.shape[axis] = k;
  return Status::Ok();
}

OpSchema TopKSchema() {
  OpSchema s;
  s.op_type = "TopK";
  s.min_inputs = 1;
  s.max_inputs = 2;
  s.min_outputs = s.max_outputs = 2;
  s.attributes = {{"axis", K::kInt}, {"largest", K::kInt}, {"sorted", K::kInt}, {"k", K::kInt}};
  s.infer = TopKInfer;
  return s;
}

bool CumSumDType(DType d) {
  return IsFloatDType(d) || IsOneOf(d, {DType::kInt32, DType::kInt64, DType::kUint32, DType::kUint64});
}

Status CumSumInfer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs("CumSum", ctx, 2));
  const ValueInfo& in = ctx.inputs[0];
  if (!CumSumDType(in.dtype)) return UnsupportedDType("CumSum", in.dtype);
  const ValueInfo& axis = ctx.inputs[1];
  if (axis.dtype != DType::kInt64 && axis.dtype != DType::kInt32)
    return InvalidModel("CumSum: axis must be int32 or int64");
  if (axis.rank_known && NumElements(axis.shape) > 1) return InvalidModel("CumSum: axis must be a scalar");
  std::vector<int64_t> values;
  if (in.rank_known && axis.constant && ReadIntList(*axis.constant, &values) && values.size() == 1) {
    int64_t normalized = 0;
    MAAS_RETURN_IF_ERROR(AxisOf("CumSum", in, values[0], &normalized));
  }
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

OpSchema CumSumSchema() {
  OpSchema s;
  s.op_type = "CumSum";
  s.min_inputs = s.max_inputs = 2;
  s.attributes = {{"exclusive", K::kInt}, {"reverse", K::kInt}};
  s.infer = CumSumInfer;
  return s;
}

SchemaRegistrar reduce_sum(ReduceSchema("ReduceSum"));
SchemaRegistrar reduce_mean(ReduceSchema("ReduceMean"));
SchemaRegistrar reduce_max(ReduceSchema("ReduceMax"));
SchemaRegistrar reduce_min(ReduceSchema("ReduceMin"));
SchemaRegistrar arg_max(ArgSchema("ArgMax"));
SchemaRegistrar arg_min(ArgSchema("ArgMin"));
SchemaRegistrar top_k(TopKSchema());
SchemaRegistrar cum_sum(CumSumSchema());

}  // namespace
}  // namespace maas
