#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/indexing.h"
#include "ops/op_util.h"

namespace maas {

bool ReadIntList(const Tensor& t, std::vector<int64_t>* values) {
  if (t.shape.size() > 1 || !t.device().is_host()) return false;
  const int64_t n = t.num_elements();
  const size_t element = DTypeSizeBytes(t.dtype);
  if (n < 0 || (t.dtype != DType::kInt64 && t.dtype != DType::kInt32)) return false;
  if (n > 0 && (!t.raw() || t.available_bytes() < static_cast<size_t>(n) * element)) return false;
  values->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) (*values)[i] = t.dtype == DType::kInt64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
  return true;
}

Status NormalizeAxes(const std::string& op, const std::vector<int64_t>& axes, int64_t rank, std::vector<int64_t>* out) {
  out->clear();
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (int64_t a : axes) {
    int64_t axis = 0;
    if (!NormalizeAxis(a, rank, &axis))
      return InvalidModel(op + ": axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    if (seen[axis]) return InvalidModel(op + ": axis " + std::to_string(a) + " is repeated");
    seen[axis] = true;
    out->push_back(axis);
  }
  return Status::Ok();
}

Status AxesOf(const InferContext& ctx, int input_from_opset, size_t input_index, std::vector<int64_t>* axes,
              bool* present, bool* known) {
  axes->clear();
  *known = true;
  if (ctx.opset < input_from_opset) {
    *present = ctx.attrs && ctx.attrs->Has("axes");
    if (*present) *axes = ctx.attrs->GetInts("axes", {});
    return Status::Ok();
  }
  *present = ctx.inputs.size() > input_index && ctx.inputs[input_index].dtype != DType::kUndefined;
  if (!*present) return Status::Ok();
  const ValueInfo& in = ctx.inputs[input_index];
  if (in.dtype != DType::kInt64) return InvalidModel("axes must be an int64 tensor");
  if (!in.constant) {
    *known = false;
    return Status::Ok();
  }
  if (!ReadIntList(*in.constant, axes)) return InvalidModel("axes must be a 1-D int64 tensor");
  return Status::Ok();
}

Status SqueezeShape(const Shape& in, const std::vector<int64_t>* axes, Shape* out) {
  const int64_t rank = static_cast<int64_t>(in.size());
  out->clear();
  if (!axes) {
    for (int64_t d : in) {
      if (d < 0) return InvalidModel("Squeeze: without axes every dim must be known");
      if (d != 1) out->push_back(d);
    }
    return Status::Ok();
  }
  std::vector<int64_t> normalized;
  MAAS_RETURN_IF_ERROR(NormalizeAxes("Squeeze", *axes, rank, &normalized));
  std::vector<bool> drop(in.size(), false);
  for (int64_t a : normalized) {
    if (in[a] != 1 && in[a] != kUnknownDim)
      return InvalidModel("Squeeze: dim " + std::to_string(a) + " of " + ShapeToString(in) + " is not 1");
    drop[a] = true;
  }
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out->push_back(in[i]);
  return Status::Ok();
}

Status UnsqueezeShape(const Shape& in, const std::vector<int64_t>& axes, Shape* out) {
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<int64_t> normalized;
  MAAS_RETURN_IF_ERROR(NormalizeAxes("Unsqueeze", axes, out_rank, &normalized));
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : normalized) inserted[a] = true;
  out->clear();
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out->push_back(inserted[i] ? 1 : in[next++]);
  return Status::Ok();
}

Status ResolveSlice(const Shape& in, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                    const std::vector<int64_t>& axes_in, const std::vector<int64_t>& steps,
                    std::vector<SliceDim>* dims) {
  const int64_t rank = static_cast<int64_t>(in.size());
  if (starts.size() != ends.size()) return InvalidModel("Slice: starts and ends differ in length");
  std::vector<int64_t> axes = axes_in;
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (axes.size() != starts.size()) return InvalidModel("Slice: axes and starts differ in length");
  if (!steps.empty() && steps.size() != starts.size()) return InvalidModel("Slice: steps and starts differ in length");
  std::vector<int64_t> normalized;
  MAAS_RETURN_IF_ERROR(NormalizeAxes("Slice", axes, rank, &normalized));
  dims->assign(in.size(), SliceDim());
  for (size_t i = 0; i < in.size(); ++i) (*dims)[i].count = in[i];
  for (size_t k = 0; k < normalized.size(); ++k) {
    const int64_t axis = normalized[k];
    const int64_t step = steps.empty() ? 1 : steps[k];
    if (step == 0) return InvalidModel("Slice: step 0");
    SliceDim& d = (*dims)[axis];
    d.step = step;
    const int64_t size = in[axis];
    if (size < 0) {
      d.count = kUnknownDim;
      continue;
    }
    int64_t start = starts[k], end = ends[k];
    if (start < 0) start += size;
    if (end < 0) end += size;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, size);
      end = std::clamp<int64_t>(end, 0, size);
      d.count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, size - 1);
      end = std::clamp<int64_t>(end, -1, size - 1);
      // -step cannot overflow: step == INT64_MIN still gives a count of 0 or 1.
      d.count =
          start > end ? (start - end - 1) / (step == std::numeric_limits<int64_t>::min() ? size + 1 : -step) + 1 : 0;
    }
    d.start = start;
  }
  return Status::Ok();
}

Status SplitSizes(int64_t dim, const std::vector<int64_t>* split, size_t outputs, bool allow_uneven,
                  std::vector<int64_t>* sizes) {
  sizes->clear();
  if (outputs == 0) return InvalidModel("Split: no outputs");
  if (split) {
    if (split->size() != outputs)
      return InvalidModel("Split: " + std::to_string(split->size()) + " sizes for " + std::to_string(outputs) +
                          " outputs");
    int64_t total = 0;
    for (int64_t s : *split) {
      if (s < 0) return InvalidModel("Split: negative size");
      if (__builtin_add_overflow(total, s, &total)) return InvalidModel("Split: sizes overflow");
    }
    if (dim >= 0 && total != dim)
      return InvalidModel("Split: sizes add up to " + std::to_string(total) + ", the dim is " + std::to_string(dim));
    *sizes = *split;
    return Status::Ok();
  }
  const int64_t n = static_cast<int64_t>(outputs);
  if (dim < 0) {
    sizes->assign(outputs, kUnknownDim);
    return Status::Ok();
  }
  if (dim % n != 0 && !allow_uneven)
    return InvalidModel("Split: dim " + std::to_string(dim) + " does not split into " + std::to_string(n) +
                        " equal parts");
  const int64_t chunk = (dim + n - 1) / n;
  int64_t left = dim;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t size = std::min(chunk, left);
    sizes->push_back(size);
    left -= size;
  }
  return Status::Ok();
}

Shape GatherShape(const Shape& data, const Shape& indices, int64_t axis) {
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return out;
}

void ShapeRange(const Attributes* attrs, int64_t rank, int64_t* begin, int64_t* end) {
  int64_t start = attrs ? attrs->GetInt("start", 0) : 0;
  int64_t stop = attrs && attrs->Has("end") ? attrs->GetInt("end", rank) : rank;
  if (start < 0) start += rank;
  if (stop < 0) stop += rank;
  *begin = std::clamp<int64_t>(start, 0, rank);
  *end = std::max(*begin, std::clamp<int64_t>(stop, 0, rank));
}

Status RangeCount(double span, double delta, int64_t* count) {
  if (delta == 0) return InvalidModel("Range: delta is 0");
  const double n = std::ceil(span / delta);
  if (!(n == n) || std::isinf(n) || n >= 9.2e18) return InvalidModel("Range: too many elements");
  *count = n > 0 ? static_cast<int64_t>(n) : 0;
  return Status::Ok();
}

Status RangeCountInt(int64_t start, int64_t limit, int64_t delta, int64_t* count) {
  if (delta == 0) return InvalidModel("Range: delta is 0");
  // Moving away from limit (or already past it): no elements.
  if (delta > 0 ? limit <= start : limit >= start) {
    *count = 0;
    return Status::Ok();
  }
  // |limit - start| and |delta| as unsigned 64-bit: exact for every int64
  // pair (two's complement differences), so ceil(span / step) cannot overflow.
  const uint64_t span = delta > 0 ? static_cast<uint64_t>(limit) - static_cast<uint64_t>(start)
                                  : static_cast<uint64_t>(start) - static_cast<uint64_t>(limit);
  const uint64_t step = delta > 0 ? static_cast<uint64_t>(delta) : 0 - static_cast<uint64_t>(delta);
  const uint64_t n = span / step + (span % step != 0 ? 1 : 0);
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return InvalidModel("Range: too many elements");
  *count = static_cast<int64_t>(n);
  return Status::Ok();
}

}  // namespace maas
