// The data movements that turn a convolution into a GEMM (and back, for
// ConvTranspose), and the direct
// kernel for convolutions with one input channel per group (depthwise),
// where a GEMM would have K = kernel size only. Geometry is the 3-D form of
// ops/conv_geometry.h (1-D and 2-D ops have leading unit dims).
#pragma once
#include <cstdint>

#include "cpu/thread_pool.h"
#include "ops/activation.h"
#include "ops/conv_geometry.h"

namespace maas {

// The lowered convolution's B operand, col[(c, kd, kh, kw), (od, oh, ow)] =
// x[c, od*sd - pd + kd*dd, ...] (0 in the padding), never stored whole: the
// GEMM asks for strips of it already packed (GemmBSource). The image is read
// from a zero-padded copy (PadImage), so every strip row is a plain copy of
// a run of one padded input row, with no bounds checks.
struct ImplicitColumns {
  const float* padded = nullptr;  // `channels` planes of PaddedSize(g) floats
  int64_t channels = 0;
  ConvGeometry g{};
};
// Floats in one channel of the padded image.
int64_t PaddedPlaneSize(const ConvGeometry& g);
// Copies `channels` planes of x into dst with the geometry's padding as zeros.
void PadImage(const float* x, int64_t channels, const ConvGeometry& g, float* dst);
// GemmBSource::pack for an ImplicitColumns context.
void PackImplicitColumns(const void* context, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0,
                         int64_t t1, float* dst);
// GemmBSource::strip_base: with unit width stride, a strip of nr columns
// inside one output row is nr contiguous floats of a padded row for every
// depth row, read in place; null for any other strip.
const float* ImplicitStripBase(const void* context, int64_t j, int nr);
// GemmBSource::row_offsets for it: channels * kernel size entries.
void ImplicitRowOffsets(const ConvGeometry& g, int64_t channels, int64_t* offsets);

// The adjoint: y[c, od, oh, ow] += col[(c, k...), (id, ih, iw)] for every
// input point and kernel offset that lands on it (ConvTranspose, where the
// geometry's `in` is the transposed conv's input and `out` its output).
// y must be initialized (zeros or the bias). Channels split over the pool.
void Col2Im(const float* col, int64_t channels, const ConvGeometry& g, float* y, ThreadPool* pool);

// Depthwise (and channel-multiplier) convolution: output channel m of each
// image reads input channel m / multiplier with weights w[m, 1, k...]:
//   y[n, m] = act(bias[m] + sum_k w[m, k] * x[n, m / multiplier] shifted)
// bias may be null. Planes (n, m) split over the pool.
void DepthwiseConv(const float* x, const float* w, const float* bias, float* y, int64_t batch, int64_t in_channels,
                   int64_t multiplier, const ConvGeometry& g, const ActivationSpec& activation, ThreadPool* pool);

}  // namespace maas
