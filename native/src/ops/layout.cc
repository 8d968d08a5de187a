#include "ops/layout.h"

#include <algorithm>

#include "ops/op_util.h"

namespace maas {

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
      if ((*out)[i] < 0)
        unknown = true;
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
  if (t.dtype != DType::kInt64 || t.shape.size() > 1 || !t.device().is_host()) return false;
  const int64_t n = t.num_elements();
  if (n > 0 && (!t.raw() || t.available_bytes() < static_cast<size_t>(n) * sizeof(int64_t))) return false;
  if (n > 0)
    spec->assign(t.data<int64_t>(), t.data<int64_t>() + n);
  else
    spec->clear();
  return true;
}

Status FlattenAxis(int64_t rank, const Attributes* attrs, int64_t* axis) {
  const int64_t a = attrs ? attrs->GetInt("axis", 1) : 1;
  if (a < -rank || a > rank)
    return InvalidModel("Flatten: axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
  *axis = a < 0 ? a + rank : a;
  return Status::Ok();
}

Status ResolvePerm(const Attributes* attrs, size_t rank, std::vector<int64_t>* perm) {
  std::vector<int64_t> fallback(rank);
  for (size_t i = 0; i < rank; ++i) fallback[i] = static_cast<int64_t>(rank - 1 - i);
  *perm = attrs ? attrs->GetInts("perm", fallback) : fallback;
  if (perm->size() != rank)
    return InvalidModel("Transpose: perm has " + std::to_string(perm->size()) + " entries for rank " +
                        std::to_string(rank));
  std::vector<bool> seen(rank, false);
  for (int64_t& p : *perm) {
    if (p < 0) p += static_cast<int64_t>(rank);  // negative entries, as ORT accepts
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[p]) return InvalidModel("Transpose: invalid perm");
    seen[p] = true;
  }
  return Status::Ok();
}

Status ConcatAxis(const Attributes* attrs, int opset, int64_t rank, int64_t* axis) {
  if ((!attrs || !attrs->Has("axis")) && opset >= 4) return InvalidModel("Concat: missing 'axis' attribute");
  const int64_t a = attrs ? attrs->GetInt("axis", 1) : 1;  // opset < 4 defaulted to 1
  if (!NormalizeAxis(a, rank, axis))
    return InvalidModel("Concat: axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
  return Status::Ok();
}

Status ResolveSoftmaxLayout(const Shape& shape, const Attributes* attrs, int opset, SoftmaxLayout* layout) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t default_axis = opset >= 13 ? -1 : 1;
  const int64_t axis_attr = attrs ? attrs->GetInt("axis", default_axis) : default_axis;
  int64_t axis = 0;
  *layout = SoftmaxLayout();
  // A scalar has one value; treat it as a single group of one.
  if (rank == 0) return Status::Ok();
  if (opset < 13) {
    // The 2-D coercion also accepts axis == rank (one group per element).
    if (axis_attr < -rank || axis_attr > rank) return InvalidModel("Softmax: axis out of range");
    axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    layout->outer = DimProduct(shape, 0, axis);
    layout->len = DimProduct(shape, axis, shape.size());
    layout->inner = 1;
    return Status::Ok();
  }
  if (!NormalizeAxis(axis_attr, rank, &axis)) return InvalidModel("Softmax: axis out of range");
  layout->outer = DimProduct(shape, 0, axis);
  layout->len = shape[axis];
  layout->inner = DimProduct(shape, axis + 1, shape.size());
  return Status::Ok();
}

}  // namespace maas
