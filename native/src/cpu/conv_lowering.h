// The data movements that turn a convolution into a GEMM, and the direct
// kernel for convolutions with one input channel per group (depthwise),
// where a GEMM would have K = kernel size only. Geometry is the 3-D form of
// ops/conv_geometry.h (1-D and 2-D ops have leading unit dims).
#pragma once
#include <cstdint>

#include "cpu/thread_pool.h"
#include "ops/activation.h"
#include "ops/conv_geometry.h"

namespace maas {

// col[(c, kd, kh, kw), (od, oh, ow)] = x[c, od*sd - pd + kd*dd, ...], 0 in the
// padding: rows = channels * kernel_size, row length = out_size. x holds
// `channels` planes of in_size. Rows are split over the pool when given.
void Im2Col(const float* x, int64_t channels, const ConvGeometry& g, float* col, ThreadPool* pool);

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
