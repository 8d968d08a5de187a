#include "cpu/conv_lowering.h"

#include <algorithm>
#include <cstring>

#include "cpu/activation.h"
#include "cpu/kernel_util.h"

namespace maas {

namespace {

// Output positions o in [lo, hi) of an axis whose input position
// o * stride + offset falls inside [0, in_len).
struct ValidRange {
  int64_t lo, hi;
};
ValidRange InputInside(int64_t offset, int64_t stride, int64_t in_len, int64_t out_len) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = in_len - 1 - offset;
  const int64_t hi = last < 0 ? 0 : std::min(out_len, last / stride + 1);
  return {std::min(lo, hi), hi};
}

// Work per chunk below which a conv helper stays on one thread.
constexpr int64_t kConvGrainElements = 1 << 15;

}  // namespace

void Im2Col(const float* x, int64_t channels, const ConvGeometry& g, float* col, ThreadPool* pool) {
  const int64_t kh_n = g.kernel[1], kw_n = g.kernel[2];
  const int64_t od_n = g.out[0], oh_n = g.out[1], ow_n = g.out[2];
  const int64_t ih_n = g.in[1], iw_n = g.in[2];
  const int64_t out_size = g.out_size(), in_size = g.in_size(), kvol = g.kernel_size();
  const int64_t sw = g.stride[2];
  const int64_t rows = channels * kvol;
  const int64_t grain = std::max<int64_t>(1, kConvGrainElements / std::max<int64_t>(1, out_size));
  MaybeParallelFor(pool, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / kvol, k = r % kvol;
      const int64_t kd = k / (kh_n * kw_n), kh = (k / kw_n) % kh_n, kw = k % kw_n;
      const float* plane = x + c * in_size;
      float* dst = col + r * out_size;
      const int64_t w_off = kw * g.dilation[2] - g.pad_begin[2];
      const ValidRange wr = InputInside(w_off, sw, iw_n, ow_n);
      for (int64_t od = 0; od < od_n; ++od) {
        const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
        for (int64_t oh = 0; oh < oh_n; ++oh) {
          const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
          float* d = dst + (od * oh_n + oh) * ow_n;
          if (id < 0 || id >= g.in[0] || ih < 0 || ih >= ih_n) {
            std::fill(d, d + ow_n, 0.0f);
            continue;
          }
          const float* src = plane + (id * ih_n + ih) * iw_n + w_off;
          std::fill(d, d + wr.lo, 0.0f);
          if (sw == 1) {
            std::memcpy(d + wr.lo, src + wr.lo, (wr.hi - wr.lo) * sizeof(float));
          } else {
            for (int64_t ow = wr.lo; ow < wr.hi; ++ow) d[ow] = src[ow * sw];
          }
          std::fill(d + wr.hi, d + ow_n, 0.0f);
        }
      }
    }
  });
}

void Col2Im(const float* col, int64_t channels, const ConvGeometry& g, float* y, ThreadPool* pool) {
  // Here g.in is the column grid (the transposed conv's input) and g.out the image.
  const int64_t kh_n = g.kernel[1], kw_n = g.kernel[2];
  const int64_t cols = g.in_size(), plane = g.out_size(), kvol = g.kernel_size();
  const int64_t oh_n = g.out[1], ow_n = g.out[2];
  const int64_t sw = g.stride[2];
  const int64_t grain = std::max<int64_t>(1, kConvGrainElements / std::max<int64_t>(1, cols * kvol));
  MaybeParallelFor(pool, channels, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* image = y + c * plane;
      for (int64_t k = 0; k < kvol; ++k) {
        const int64_t kd = k / (kh_n * kw_n), kh = (k / kw_n) % kh_n, kw = k % kw_n;
        const float* src = col + (c * kvol + k) * cols;
        const int64_t w_off = kw * g.dilation[2] - g.pad_begin[2];
        // Input columns iw whose output position iw * sw + w_off is inside the image.
        const ValidRange wr = InputInside(w_off, sw, ow_n, g.in[2]);
        for (int64_t id = 0; id < g.in[0]; ++id) {
          const int64_t od = id * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
          if (od < 0 || od >= g.out[0]) continue;
          for (int64_t ih = 0; ih < g.in[1]; ++ih) {
            const int64_t oh = ih * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
            if (oh < 0 || oh >= oh_n) continue;
            const float* s = src + (id * g.in[1] + ih) * g.in[2];
            float* d = image + (od * oh_n + oh) * ow_n + w_off;
            for (int64_t iw = wr.lo; iw < wr.hi; ++iw) d[iw * sw] += s[iw];
          }
        }
      }
    }
  });
}

void DepthwiseConv(const float* x, const float* w, const float* bias, float* y, int64_t batch, int64_t in_channels,
                   int64_t multiplier, const ConvGeometry& g, const ActivationSpec& activation, ThreadPool* pool) {
  const int64_t out_channels = in_channels * multiplier;
  const int64_t kd_n = g.kernel[0], kh_n = g.kernel[1], kw_n = g.kernel[2];
  const int64_t oh_n = g.out[1], ow_n = g.out[2];
  const int64_t ih_n = g.in[1], iw_n = g.in[2];
  const int64_t in_size = g.in_size(), out_size = g.out_size(), kvol = g.kernel_size();
  const int64_t sw = g.stride[2];
  const int64_t grain = std::max<int64_t>(1, kConvGrainElements / std::max<int64_t>(1, out_size * kvol));
  MaybeParallelFor(pool, batch * out_channels, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / out_channels, m = p % out_channels;
      const float* plane = x + (n * in_channels + m / multiplier) * in_size;
      const float* weights = w + m * kvol;
      float* out = y + p * out_size;
      std::fill(out, out + out_size, bias ? bias[m] : 0.0f);
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < oh_n; ++oh) {
          float* row = out + (od * oh_n + oh) * ow_n;
          for (int64_t kd = 0; kd < kd_n; ++kd) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t kh = 0; kh < kh_n; ++kh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              if (ih < 0 || ih >= ih_n) continue;
              const float* in_row = plane + (id * ih_n + ih) * iw_n;
              for (int64_t kw = 0; kw < kw_n; ++kw) {
                const float wv = weights[(kd * kh_n + kh) * kw_n + kw];
                const int64_t w_off = kw * g.dilation[2] - g.pad_begin[2];
                const ValidRange wr = InputInside(w_off, sw, iw_n, ow_n);
                const float* src = in_row + w_off;
                if (sw == 1) {
                  for (int64_t ow = wr.lo; ow < wr.hi; ++ow) row[ow] += wv * src[ow];
                } else {
                  for (int64_t ow = wr.lo; ow < wr.hi; ++ow) row[ow] += wv * src[ow * sw];
                }
              }
            }
          }
        }
      ApplyActivation(activation, out, out_size);
    }
  });
}

}  // namespace maas
