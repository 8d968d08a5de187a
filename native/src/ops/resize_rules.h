// Resize's semantics, shared by its schema (output shape) and every
// backend's kernel: the modes, the output size from `scales` or `sizes`
// (with opset 18's `axes`), and the map from an output coordinate to the
// input coordinate it samples. Coordinates are computed in float, as
// onnxruntime does, so nearest-neighbour ties round the same way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

enum class ResizeMode { kNearest, kLinear };
enum class ResizeCoordinates {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize
};
enum class NearestRounding { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeParams {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordinates coordinates = ResizeCoordinates::kHalfPixel;
  NearestRounding rounding = NearestRounding::kRoundPreferFloor;
  float extrapolation_value = 0.0f;
  std::vector<int64_t> axes;  // opset 18; empty: every axis
};

// kUnsupported for what the engine does not implement (cubic, antialias,
// keep_aspect_ratio_policy other than stretch); kInvalidModel for unknown names.
Status ParseResizeParams(const Attributes* attrs, int opset, ResizeParams* params);

// Input positions of Resize's operands for `opset`: roi, scales, sizes (-1: none).
struct ResizeInputs {
  int roi = -1, scales = -1, sizes = -1;
};
ResizeInputs ResizeInputIndices(int opset);

// The output shape and per-axis scale for a concrete input `shape`, from the
// contents of `scales` (float) or `sizes` (int64) — exactly one non-null and
// non-empty. kInvalidModel-style messages with `bad_code`.
Status ResolveResizeShape(const ResizeParams& params, const Shape& shape, const Tensor* scales, const Tensor* sizes,
                          StatusCode bad_code, Shape* out, std::vector<float>* axis_scales);

// The input coordinate that output coordinate `x` samples along one axis.
// roi_start/roi_end are used by tf_crop_and_resize only.
float ResizeSourceCoordinate(ResizeCoordinates mode, float x, float scale, int64_t in_len, int64_t out_len,
                             float roi_start, float roi_end);
// The input index nearest mode picks for source coordinate `x` (unclamped).
int64_t ResizeNearestIndex(NearestRounding rounding, float x);

}  // namespace maas
