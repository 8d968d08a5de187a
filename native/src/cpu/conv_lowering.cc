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

namespace {

struct Padded {
  int64_t d, h, w;
};
Padded PaddedDims(const ConvGeometry& g) {
  return {g.pad_begin[0] + g.in[0] + g.pad_end[0], g.pad_begin[1] + g.in[1] + g.pad_end[1],
          g.pad_begin[2] + g.in[2] + g.pad_end[2]};
}

}  // namespace

int64_t PaddedPlaneSize(const ConvGeometry& g) {
  const Padded p = PaddedDims(g);
  return p.d * p.h * p.w;
}

void PadImage(const float* x, int64_t channels, const ConvGeometry& g, float* dst) {
  const Padded p = PaddedDims(g);
  const int64_t plane = p.d * p.h * p.w;
  for (int64_t c = 0; c < channels; ++c) {
    float* out = dst + c * plane;
    const float* in = x + c * g.in_size();
    std::fill(out, out + plane, 0.0f);
    for (int64_t d = 0; d < g.in[0]; ++d)
      for (int64_t h = 0; h < g.in[1]; ++h)
        std::memcpy(out + ((d + g.pad_begin[0]) * p.h + h + g.pad_begin[1]) * p.w + g.pad_begin[2],
                    in + (d * g.in[1] + h) * g.in[2], g.in[2] * sizeof(float));
  }
}

void PackImplicitColumns(const void* context, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr, int64_t t0,
                         int64_t t1, float* dst) {
  const ImplicitColumns& cols = *static_cast<const ImplicitColumns*>(context);
  const ConvGeometry& g = cols.g;
  const Padded pd = PaddedDims(g);
  const int64_t kh_n = g.kernel[1], kw_n = g.kernel[2], kvol = g.kernel_size();
  const int64_t oh_n = g.out[1], ow_n = g.out[2], plane_out = oh_n * ow_n, sw = g.stride[2];
  const int64_t padded_plane = pd.d * pd.h * pd.w;
  // A strip's columns as runs along one output row: where each run's first
  // column reads in the padded plane (kernel offset 0), its length and place.
  constexpr int kMaxRuns = 64;
  struct Run {
    int64_t base, len, at;
  };
  Run runs[kMaxRuns];
  for (int64_t t = t0; t < t1; ++t) {
    float* d = dst + t * kc * nr;
    const int64_t width = std::min<int64_t>(nr, nc - t * nr);
    int n_runs = 0;
    for (int64_t q = j0 + t * nr, at = 0; at < width && n_runs < kMaxRuns;) {
      const int64_t od = q / plane_out, oh = (q % plane_out) / ow_n, ow = q % ow_n;
      Run& run = runs[n_runs++];
      run.len = std::min(ow_n - ow, width - at);
      run.at = at;
      run.base = ((od * g.stride[0]) * pd.h + oh * g.stride[1]) * pd.w + ow * sw;
      q += run.len;
      at += run.len;
    }
    const bool one_full_run = n_runs == 1 && runs[0].len == 16 && nr == 16 && sw == 1;
    // Depth row p is (channel, kd, kh, kw), stepped like an odometer; `offset`
    // is where it reads relative to a run's base.
    int64_t c = p0 / kvol, k = p0 % kvol;
    int64_t kd = k / (kh_n * kw_n), kh = (k / kw_n) % kh_n, kw = k % kw_n;
    for (int64_t p = 0; p < kc; ++p, d += nr) {
      const float* src = cols.padded + c * padded_plane + ((kd * g.dilation[0]) * pd.h + kh * g.dilation[1]) * pd.w +
                         kw * g.dilation[2];
      if (one_full_run) {
        std::memcpy(d, src + runs[0].base, 16 * sizeof(float));  // the common case: a fixed-size copy
      } else {
        for (int r = 0; r < n_runs; ++r) {
          const float* from = src + runs[r].base;
          float* to = d + runs[r].at;
          if (sw == 1) {
            for (int64_t e = 0; e < runs[r].len; ++e) to[e] = from[e];
          } else {
            for (int64_t e = 0; e < runs[r].len; ++e) to[e] = from[e * sw];
          }
        }
        for (int64_t e = width; e < nr; ++e) d[e] = 0.0f;
      }
      if (++kw == kw_n) {
        kw = 0;
        if (++kh == kh_n) {
          kh = 0;
          if (++kd == g.kernel[0]) {
            kd = 0;
            ++c;
          }
        }
      }
    }
  }
}

const float* ImplicitStripBase(const void* context, int64_t j, int nr) {
  const ImplicitColumns& cols = *static_cast<const ImplicitColumns*>(context);
  const ConvGeometry& g = cols.g;
  const int64_t ow_n = g.out[2], plane_out = g.out[1] * ow_n;
  const int64_t ow = j % ow_n;
  if (g.stride[2] != 1 || ow + nr > ow_n || j + nr > g.out_size()) return nullptr;
  const Padded pd = PaddedDims(g);
  const int64_t od = j / plane_out, oh = (j % plane_out) / ow_n;
  return cols.padded + ((od * g.stride[0]) * pd.h + oh * g.stride[1]) * pd.w + ow;
}

void ImplicitRowOffsets(const ConvGeometry& g, int64_t channels, int64_t* offsets) {
  const Padded pd = PaddedDims(g);
  const int64_t plane = pd.d * pd.h * pd.w;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw)
          *offsets++ = c * plane + ((kd * g.dilation[0]) * pd.h + kh * g.dilation[1]) * pd.w + kw * g.dilation[2];
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
  // Which output columns each kernel column reaches, and where it reads from:
  // the same for every row and plane. Wider kernels than this work it out per row.
  constexpr int64_t kMaxKernelWidth = 16;
  ValidRange ranges[kMaxKernelWidth];
  int64_t offsets[kMaxKernelWidth];
  const bool precomputed = kw_n <= kMaxKernelWidth;
  for (int64_t kw = 0; precomputed && kw < kw_n; ++kw) {
    offsets[kw] = kw * g.dilation[2] - g.pad_begin[2];
    ranges[kw] = InputInside(offsets[kw], sw, iw_n, ow_n);
  }
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
              const float* tap_weights = weights + (kd * kh_n + kh) * kw_n;
              for (int64_t kw = 0; kw < kw_n; ++kw) {
                const float wv = tap_weights[kw];
                const int64_t w_off = precomputed ? offsets[kw] : kw * g.dilation[2] - g.pad_begin[2];
                const ValidRange wr = precomputed ? ranges[kw] : InputInside(w_off, sw, iw_n, ow_n);
                if (sw == 1) {
                  const float* src = in_row + w_off;
                  for (int64_t ow = wr.lo; ow < wr.hi; ++ow) row[ow] += wv * src[ow];
                } else {
                  for (int64_t ow = wr.lo; ow < wr.hi; ++ow) row[ow] += wv * in_row[ow * sw + w_off];
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
