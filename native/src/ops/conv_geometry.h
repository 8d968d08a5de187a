// The spatial arithmetic of Conv, ConvTranspose and the pooling ops, shared
// by their schemas (load-time inference) and every backend's kernels: which
// attributes apply, how auto_pad splits padding, how ceil_mode rounds, and
// the output size. Parsed once (ParseConvParams, at load) into fixed-size
// arrays, so a kernel resolves a run's geometry without allocating.
//
// Spatial ranks 1 to 3 are supported. Geometry is kept with kMaxSpatial
// dims: a 1-D or 2-D op is padded with leading unit dims (kernel 1, stride 1,
// no padding), so one kernel loop serves every rank.
#pragma once
#include <cstdint>
#include <string>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

constexpr int kMaxSpatial = 3;

// Conv with an activation in its epilogue (ops/conv.cc), made by the fusion
// passes (graph/conv_fusions.cc).
constexpr const char* kFusedConvOp = "maas.FusedConv";

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };
enum class ConvFamily { kConv, kConvTranspose, kPool };

// An op's spatial attributes, validated against its spatial rank.
struct ConvParams {
  ConvFamily family = ConvFamily::kConv;
  int rank = 0;  // spatial dims of the op (1..3)
  AutoPad auto_pad = AutoPad::kNotSet;
  bool has_kernel = false;  // kernel_shape given (required for pools)
  int64_t kernel[kMaxSpatial] = {1, 1, 1};
  int64_t strides[kMaxSpatial] = {1, 1, 1};
  int64_t dilations[kMaxSpatial] = {1, 1, 1};
  int64_t pads[2 * kMaxSpatial] = {0, 0, 0, 0, 0, 0};  // begins then ends, op order
  int64_t group = 1;
  bool ceil_mode = false;                           // pools
  bool count_include_pad = false;                   // AveragePool
  int64_t output_padding[kMaxSpatial] = {0, 0, 0};  // ConvTranspose
  bool has_output_shape = false;                    // ConvTranspose
  int64_t output_shape[kMaxSpatial] = {0, 0, 0};
};

// Reads `attrs` for an op of `family` with `rank` spatial dims (its input's
// rank minus 2). kInvalidModel for lengths that do not match the rank,
// non-positive strides/dilations/kernel dims, negative pads, an unknown
// auto_pad; kUnsupported for a spatial rank outside 1..3.
Status ParseConvParams(const std::string& op, const Attributes* attrs, ConvFamily family, int rank, ConvParams* params);

// One run's geometry, padded to kMaxSpatial dims (leading unit dims).
struct ConvGeometry {
  int64_t in[kMaxSpatial];
  int64_t out[kMaxSpatial];
  int64_t kernel[kMaxSpatial];
  int64_t stride[kMaxSpatial];
  int64_t dilation[kMaxSpatial];
  int64_t pad_begin[kMaxSpatial];
  int64_t pad_end[kMaxSpatial];  // for pools with ceil_mode: what the output's extent implies
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  // No padding, unit strides and dilations: each output point reads the input point it sits on.
  bool IsPointwise() const;
};

// The geometry for the op's spatial input dims `in` (params.rank of them)
// and, for Conv and ConvTranspose, the weight's spatial dims `weight_kernel`
// (used when kernel_shape is absent). Unknown input dims (kUnknownDim) give
// unknown output dims. kInvalidModel (or kInvalidArgument at run time, the
// caller's choice of `bad_code`) when the output would be empty or negative.
Status ResolveConvGeometry(const std::string& op, const ConvParams& params, const int64_t* in,
                           const int64_t* weight_kernel, StatusCode bad_code, ConvGeometry* geometry);

}  // namespace maas
