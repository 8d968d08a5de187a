#include "ops/resize_rules.h"

#include <cmath>

#include "ops/op_util.h"

namespace maas {

Status ParseResizeParams(const Attributes* attrs, int opset, ResizeParams* params) {
  *params = ResizeParams();
  const std::string op = "Resize";
  auto text = [&](const char* name, const char* fallback) {
    return attrs ? attrs->GetString(name, fallback) : std::string(fallback);
  };
  const std::string mode = text("mode", "nearest");
  if (mode == "nearest")
    params->mode = ResizeMode::kNearest;
  else if (mode == "linear")
    params->mode = ResizeMode::kLinear;
  else if (mode == "cubic")
    return Unsupported(op + ": mode cubic");
  else
    return InvalidModel(op + ": unknown mode '" + mode + "'");
  // Opset 10 has no coordinate attributes: its sampling is asymmetric with
  // nearest rounding down.
  if (opset < 11) {
    params->coordinates = ResizeCoordinates::kAsymmetric;
    params->rounding = NearestRounding::kFloor;
    return Status::Ok();
  }
  const std::string coordinates = text("coordinate_transformation_mode", "half_pixel");
  if (coordinates == "half_pixel")
    params->coordinates = ResizeCoordinates::kHalfPixel;
  else if (coordinates == "half_pixel_symmetric")
    params->coordinates = ResizeCoordinates::kHalfPixelSymmetric;
  else if (coordinates == "pytorch_half_pixel")
    params->coordinates = ResizeCoordinates::kPytorchHalfPixel;
  else if (coordinates == "align_corners")
    params->coordinates = ResizeCoordinates::kAlignCorners;
  else if (coordinates == "asymmetric")
    params->coordinates = ResizeCoordinates::kAsymmetric;
  else if (coordinates == "tf_half_pixel_for_nn")
    params->coordinates = ResizeCoordinates::kTfHalfPixelForNn;
  else if (coordinates == "tf_crop_and_resize")
    params->coordinates = ResizeCoordinates::kTfCropAndResize;
  else
    return InvalidModel(op + ": unknown coordinate_transformation_mode '" + coordinates + "'");
  const std::string rounding = text("nearest_mode", "round_prefer_floor");
  if (rounding == "round_prefer_floor")
    params->rounding = NearestRounding::kRoundPreferFloor;
  else if (rounding == "round_prefer_ceil")
    params->rounding = NearestRounding::kRoundPreferCeil;
  else if (rounding == "floor")
    params->rounding = NearestRounding::kFloor;
  else if (rounding == "ceil")
    params->rounding = NearestRounding::kCeil;
  else
    return InvalidModel(op + ": unknown nearest_mode '" + rounding + "'");
  if (attrs && attrs->GetInt("antialias", 0) != 0) return Unsupported(op + ": antialias");
  if (text("keep_aspect_ratio_policy", "stretch") != "stretch") return Unsupported(op + ": keep_aspect_ratio_policy");
  params->extrapolation_value = attrs ? attrs->GetFloat("extrapolation_value", 0.0f) : 0.0f;
  if (attrs) params->axes = attrs->GetInts("axes", {});
  return Status::Ok();
}

ResizeInputs ResizeInputIndices(int opset) {
  ResizeInputs r;
  if (opset < 11) {
    r.scales = 1;
  } else {
    r.roi = 1;
    r.scales = 2;
    r.sizes = 3;
  }
  return r;
}

Status ResolveResizeShape(const ResizeParams& params, const Shape& shape, const Tensor* scales, const Tensor* sizes,
                          StatusCode bad_code, Shape* out, std::vector<float>* axis_scales) {
  const std::string op = "Resize";
  const int64_t rank = static_cast<int64_t>(shape.size());
  const bool use_sizes = sizes && sizes->num_elements() > 0;
  const Tensor* given = use_sizes ? sizes : scales;
  if (!given || given->num_elements() == 0 || (scales && sizes && scales->num_elements() > 0 && use_sizes))
    return Status(bad_code, op + ": exactly one of scales and sizes must be given");
  if (use_sizes ? given->dtype != DType::kInt64 : given->dtype != DType::kFloat32)
    return Status(bad_code, op + (use_sizes ? ": sizes must be int64" : ": scales must be float32"));
  // Which axis each given value is for.
  std::vector<int64_t> axes;
  if (params.axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    for (int64_t a : params.axes) {
      int64_t axis;
      if (!NormalizeAxis(a, rank, &axis)) return Status(bad_code, op + ": axis " + std::to_string(a) + " out of range");
      axes.push_back(axis);
    }
  }
  if (given->num_elements() != static_cast<int64_t>(axes.size()))
    return Status(bad_code, op + ": " + std::to_string(given->num_elements()) + " " + (use_sizes ? "sizes" : "scales") +
                                " for " + std::to_string(axes.size()) + " axes");
  *out = shape;
  axis_scales->assign(static_cast<size_t>(rank), 1.0f);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = axes[i];
    const int64_t in = shape[axis];
    if (use_sizes) {
      const int64_t size = sizes->data<int64_t>()[i];
      if (size < 0) return Status(bad_code, op + ": negative size");
      (*out)[axis] = size;
      (*axis_scales)[axis] = in > 0 ? static_cast<float>(size) / static_cast<float>(in) : 1.0f;
    } else {
      const float scale = scales->data<float>()[i];
      if (!(scale > 0.0f)) return Status(bad_code, op + ": scales must be positive");
      (*axis_scales)[axis] = scale;
      (*out)[axis] = static_cast<int64_t>(scale * static_cast<float>(in));  // truncated, as onnxruntime does
    }
  }
  return Status::Ok();
}

float ResizeSourceCoordinate(ResizeCoordinates mode, float x, float scale, int64_t in_len, int64_t out_len,
                             float roi_start, float roi_end) {
  switch (mode) {
    case ResizeCoordinates::kHalfPixel: return (x + 0.5f) / scale - 0.5f;
    case ResizeCoordinates::kHalfPixelSymmetric: {
      const float adjustment = static_cast<float>(out_len) / (scale * static_cast<float>(in_len));
      const float center = static_cast<float>(in_len) / 2.0f;
      const float offset = center * (1.0f - adjustment);
      return offset + (x + 0.5f) / scale - 0.5f;
    }
    case ResizeCoordinates::kPytorchHalfPixel: return out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case ResizeCoordinates::kAlignCorners:
      return out_len == 1 ? 0.0f : x * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1);
    case ResizeCoordinates::kAsymmetric: return x / scale;
    case ResizeCoordinates::kTfHalfPixelForNn: return (x + 0.5f) / scale;
    case ResizeCoordinates::kTfCropAndResize:
      return out_len > 1
                 ? roi_start * static_cast<float>(in_len - 1) +
                       x * (roi_end - roi_start) * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1)
                 : 0.5f * (roi_start + roi_end) * static_cast<float>(in_len - 1);
  }
  return x;
}

int64_t ResizeNearestIndex(NearestRounding rounding, float x) {
  switch (rounding) {
    case NearestRounding::kRoundPreferFloor:
      return x == std::floor(x) + 0.5f ? static_cast<int64_t>(std::floor(x)) : static_cast<int64_t>(std::round(x));
    case NearestRounding::kRoundPreferCeil:
      return x == std::floor(x) + 0.5f ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(std::round(x));
    case NearestRounding::kFloor: return static_cast<int64_t>(std::floor(x));
    case NearestRounding::kCeil: return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

}  // namespace maas
