#include "ops/pad_rules.h"

#include "ops/op_util.h"

namespace maas {

Status ParsePadMode(const Attributes* attrs, PadMode* mode) {
  const std::string name = attrs ? attrs->GetString("mode", "constant") : "constant";
  if (name == "constant")
    *mode = PadMode::kConstant;
  else if (name == "reflect")
    *mode = PadMode::kReflect;
  else if (name == "edge")
    *mode = PadMode::kEdge;
  else if (name == "wrap")
    *mode = PadMode::kWrap;
  else
    return InvalidModel("Pad: unknown mode '" + name + "'");
  return Status::Ok();
}

Status ResolvePads(const Attributes* attrs, int opset, int64_t rank, const Tensor* pads, const Tensor* axes,
                   StatusCode bad_code, std::vector<int64_t>* begin, std::vector<int64_t>* end) {
  std::vector<int64_t> values;
  if (opset < 11) {
    values = attrs ? attrs->GetInts("pads", {}) : std::vector<int64_t>();
  } else {
    if (!pads || pads->dtype != DType::kInt64) return Status(bad_code, "Pad: pads must be an int64 tensor");
    values.assign(pads->data<int64_t>(), pads->data<int64_t>() + pads->num_elements());
  }
  std::vector<int64_t> axis_list;
  if (axes && axes->num_elements() > 0) {
    if (axes->dtype != DType::kInt64 && axes->dtype != DType::kInt32)
      return Status(bad_code, "Pad: axes must be integers");
    for (int64_t i = 0; i < axes->num_elements(); ++i) {
      const int64_t a = axes->dtype == DType::kInt64 ? axes->data<int64_t>()[i] : axes->data<int32_t>()[i];
      int64_t axis;
      if (!NormalizeAxis(a, rank, &axis)) return Status(bad_code, "Pad: axis " + std::to_string(a) + " out of range");
      axis_list.push_back(axis);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) axis_list.push_back(i);
  }
  const size_t n = axis_list.size();
  if (values.size() != 2 * n)
    return Status(bad_code, "Pad: " + std::to_string(values.size()) + " pads for " + std::to_string(n) + " axes");
  begin->assign(static_cast<size_t>(rank), 0);
  end->assign(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < n; ++i) {
    (*begin)[axis_list[i]] = values[i];
    (*end)[axis_list[i]] = values[n + i];
  }
  return Status::Ok();
}

Status PaddedShape(PadMode mode, const Shape& shape, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                   StatusCode bad_code, Shape* out) {
  *out = shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) continue;  // unknown until run time
    const int64_t dim = shape[i] + begin[i] + end[i];
    if (dim < 0) return Status(bad_code, "Pad: negative pads remove more than dim " + std::to_string(i) + " holds");
    const bool pads_here = begin[i] > 0 || end[i] > 0;
    if (mode != PadMode::kConstant && pads_here && shape[i] == 0)
      return Status(bad_code, "Pad: cannot pad an empty dim in this mode");
    if (mode == PadMode::kReflect && (begin[i] >= shape[i] || end[i] >= shape[i]) && pads_here)
      return Status(bad_code, "Pad: reflect pads must be smaller than the dim (" + std::to_string(shape[i]) + ")");
    (*out)[i] = dim;
  }
  return Status::Ok();
}

}  // namespace maas
