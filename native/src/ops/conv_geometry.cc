#include "ops/conv_geometry.h"

#include <vector>

#include "maas/tensor.h"

namespace maas {

namespace {

// Reads an ints attribute of `count` entries (each >= min_value) into
// dst[offset...]; absent leaves dst as it is.
Status ReadInts(const std::string& op, const Attributes* attrs, const char* name, int count, size_t offset,
                int64_t min_value, int64_t* dst, bool* present = nullptr) {
  const Attribute* a = attrs ? attrs->Find(name) : nullptr;
  if (present) *present = a != nullptr;
  if (!a) return Status::Ok();
  if (a->ints.size() != static_cast<size_t>(count))
    return InvalidModel(op + ": " + name + " has " + std::to_string(a->ints.size()) + " values, expected " +
                        std::to_string(count));
  for (int i = 0; i < count; ++i) {
    if (a->ints[i] < min_value)
      return InvalidModel(op + ": " + name + " value " + std::to_string(a->ints[i]) + " is below " +
                          std::to_string(min_value));
    dst[offset + i] = a->ints[i];
  }
  return Status::Ok();
}

Status ParseAutoPad(const std::string& op, const Attributes* attrs, AutoPad* auto_pad) {
  const std::string value = attrs ? attrs->GetString("auto_pad", "NOTSET") : "NOTSET";
  if (value == "NOTSET" || value.empty())
    *auto_pad = AutoPad::kNotSet;
  else if (value == "SAME_UPPER")
    *auto_pad = AutoPad::kSameUpper;
  else if (value == "SAME_LOWER")
    *auto_pad = AutoPad::kSameLower;
  else if (value == "VALID")
    *auto_pad = AutoPad::kValid;
  else
    return InvalidModel(op + ": unknown auto_pad '" + value + "'");
  return Status::Ok();
}

int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Splits `total` padding between begin and end for auto_pad SAME_*.
void SplitSame(AutoPad auto_pad, int64_t total, int64_t* begin, int64_t* end) {
  *begin = auto_pad == AutoPad::kSameLower ? (total + 1) / 2 : total / 2;
  *end = total - *begin;
}

}  // namespace

Status ParseConvParams(const std::string& op, const Attributes* attrs, ConvFamily family, int rank,
                       ConvParams* params) {
  *params = ConvParams();
  params->family = family;
  if (rank < 1 || rank > kMaxSpatial)
    return Unsupported(op + ": " + std::to_string(rank) + " spatial dims (1 to 3 are supported)");
  params->rank = rank;
  const size_t offset = static_cast<size_t>(kMaxSpatial - rank);
  MAAS_RETURN_IF_ERROR(ParseAutoPad(op, attrs, &params->auto_pad));
  MAAS_RETURN_IF_ERROR(ReadInts(op, attrs, "kernel_shape", rank, offset, 1, params->kernel, &params->has_kernel));
  if (family == ConvFamily::kPool && !params->has_kernel) return InvalidModel(op + ": kernel_shape is required");
  MAAS_RETURN_IF_ERROR(ReadInts(op, attrs, "strides", rank, offset, 1, params->strides));
  MAAS_RETURN_IF_ERROR(ReadInts(op, attrs, "dilations", rank, offset, 1, params->dilations));
  // pads: [x1_begin, x2_begin, ..., x1_end, x2_end]
  int64_t pads[2 * kMaxSpatial] = {0, 0, 0, 0, 0, 0};
  MAAS_RETURN_IF_ERROR(ReadInts(op, attrs, "pads", 2 * rank, 0, 0, pads));
  for (int i = 0; i < rank; ++i) {
    params->pads[offset + i] = pads[i];
    params->pads[kMaxSpatial + offset + i] = pads[rank + i];
  }
  if (family != ConvFamily::kPool) {
    params->group = attrs ? attrs->GetInt("group", 1) : 1;
    if (params->group < 1) return InvalidModel(op + ": group must be positive");
  } else {
    params->ceil_mode = attrs && attrs->GetInt("ceil_mode", 0) != 0;
    params->count_include_pad = attrs && attrs->GetInt("count_include_pad", 0) != 0;
  }
  if (family == ConvFamily::kConvTranspose) {
    MAAS_RETURN_IF_ERROR(ReadInts(op, attrs, "output_padding", rank, offset, 0, params->output_padding));
    MAAS_RETURN_IF_ERROR(
        ReadInts(op, attrs, "output_shape", rank, offset, 1, params->output_shape, &params->has_output_shape));
    for (int i = 0; i < rank; ++i)
      if (params->output_padding[offset + i] >= std::max(params->strides[offset + i], params->dilations[offset + i]))
        return InvalidModel(op + ": output_padding must be smaller than the stride or the dilation");
  }
  return Status::Ok();
}

bool ConvGeometry::IsPointwise() const {
  for (int i = 0; i < kMaxSpatial; ++i)
    if (kernel[i] != 1 || stride[i] != 1 || pad_begin[i] != 0 || pad_end[i] != 0) return false;
  return true;
}

Status ResolveConvGeometry(const std::string& op, const ConvParams& params, const int64_t* in,
                           const int64_t* weight_kernel, StatusCode bad_code, ConvGeometry* g) {
  const int offset = kMaxSpatial - params.rank;
  for (int s = 0; s < kMaxSpatial; ++s) {
    const int i = s - offset;  // the op's own dim index when >= 0
    if (i < 0) {               // a leading unit dim of a 1-D or 2-D op
      g->in[s] = g->out[s] = g->kernel[s] = g->stride[s] = g->dilation[s] = 1;
      g->pad_begin[s] = g->pad_end[s] = 0;
      continue;
    }
    g->in[s] = in[i];
    g->kernel[s] = params.has_kernel || !weight_kernel ? params.kernel[s] : weight_kernel[i];
    g->stride[s] = params.strides[s];
    g->dilation[s] = params.dilations[s];
    g->pad_begin[s] = params.pads[s];
    g->pad_end[s] = params.pads[kMaxSpatial + s];
    if (params.auto_pad == AutoPad::kValid) g->pad_begin[s] = g->pad_end[s] = 0;
    if (g->kernel[s] < 1) return Status(bad_code, op + ": kernel dims must be positive");
    const int64_t in_dim = g->in[s];
    if (in_dim < 0) {  // unknown until run time
      g->out[s] = kUnknownDim;
      continue;
    }
    const int64_t stride = g->stride[s];
    const int64_t dk = (g->kernel[s] - 1) * g->dilation[s] + 1;  // the dilated kernel's extent
    if (params.family == ConvFamily::kConvTranspose) {
      const int64_t full = stride * (in_dim - 1) + params.output_padding[s] + dk;
      if (params.has_output_shape || params.auto_pad == AutoPad::kSameUpper || params.auto_pad == AutoPad::kSameLower) {
        g->out[s] = params.has_output_shape ? params.output_shape[s] : in_dim * stride;
        const int64_t total = full - g->out[s];
        if (total < 0) return Status(bad_code, op + ": output_shape is larger than the input allows");
        // The odd unit of padding goes to the end for SAME_UPPER, to the
        // start otherwise (SAME_LOWER, or an output_shape without auto_pad),
        // as onnxruntime does.
        g->pad_begin[s] = params.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        g->pad_end[s] = total - g->pad_begin[s];
      } else {
        g->out[s] = full - g->pad_begin[s] - g->pad_end[s];
      }
    } else if (params.auto_pad == AutoPad::kSameUpper || params.auto_pad == AutoPad::kSameLower) {
      g->out[s] = CeilDiv(in_dim, stride);
      const int64_t total = std::max<int64_t>(0, (g->out[s] - 1) * stride + dk - in_dim);
      SplitSame(params.auto_pad, total, &g->pad_begin[s], &g->pad_end[s]);
    } else {
      const int64_t extent = in_dim + g->pad_begin[s] + g->pad_end[s] - dk;
      if (extent < 0)
        return Status(bad_code, op + ": the kernel (" + std::to_string(dk) + ") is larger than the padded input (" +
                                    std::to_string(in_dim + g->pad_begin[s] + g->pad_end[s]) + ")");
      g->out[s] = (params.ceil_mode ? CeilDiv(extent, stride) : extent / stride) + 1;
      // A last window that would start in the end padding is dropped.
      if (params.ceil_mode && (g->out[s] - 1) * stride >= in_dim + g->pad_begin[s]) --g->out[s];
    }
    if (g->out[s] < 1) return Status(bad_code, op + ": the output would be empty");
  }
  return Status::Ok();
}

}  // namespace maas
