// MaxPool (with optional Indices), AveragePool, GlobalAveragePool and
// GlobalMaxPool on float32 (MaxPool also on int8/uint8 and float64, the
// averages on float64). Planes (n, c) are split over the pool; each output
// point scans its window clipped to the input (ops/conv_geometry.h gives the
// windows): as a box when there is no dilation, else tap by tap. AveragePool divides by the clipped window, or with
// count_include_pad by the window clipped to the padded input, as
// onnxruntime does.
#include <algorithm>
#include <limits>

#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/conv_geometry.h"

namespace maas {
namespace {

// Window positions along one axis for output index o: [start, end) in
// input coordinates before clipping, step `dilation`.
struct Window {
  int64_t start, count;  // first position and number of taps
};

Window WindowAt(const ConvGeometry& g, int axis, int64_t o) {
  return {o * g.stride[axis] - g.pad_begin[axis], g.kernel[axis]};
}

// Taps of a window inside [low, high).
int64_t TapsInside(const Window& w, int64_t dilation, int64_t low, int64_t high) {
  int64_t n = 0;
  for (int64_t k = 0; k < w.count; ++k) {
    const int64_t p = w.start + k * dilation;
    n += p >= low && p < high;
  }
  return n;
}

// Checks X, resolves the windows and allocates Y: the start of every pool.
Status StartPool(const std::string& op, KernelContext& ctx, ConvParams* params, ConvGeometry* g, Shape* out_shape) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& x = *ctx.inputs[0];
  if (x.shape.size() < 3) return InvalidArgument(op + ": X needs a batch, a channel and a spatial dim");
  const int rank = static_cast<int>(x.shape.size()) - 2;
  Status s = ParseConvParams(op, ctx.attrs, ConvFamily::kPool, rank, params);
  if (!s.ok()) return InvalidArgument(s.message());
  MAAS_RETURN_IF_ERROR(ResolveConvGeometry(op, *params, x.shape.data() + 2, nullptr, StatusCode::kInvalidArgument, g));
  *out_shape = x.shape;
  for (int i = 0; i < rank; ++i) (*out_shape)[2 + i] = g->out[kMaxSpatial - rank + i];
  return AllocateOutput(op, ctx, 0, x.dtype, *out_shape);
}

// The flat index MaxPool reports for input point (d, h, w) of plane p:
// row-major (storage_order 0) or with the spatial dims reversed (1).
int64_t FlatIndex(const ConvGeometry& g, int64_t plane, int64_t d, int64_t h, int64_t w, bool column_major) {
  const int64_t within = column_major ? (w * g.in[1] + h) * g.in[0] + d : (d * g.in[1] + h) * g.in[2] + w;
  return plane * g.in_size() + within;
}

// Calls fn(value, d, h, w) for every tap of output point (od, oh, ow)'s
// window that lies inside the plane.
template <typename T, typename Fn>
inline void ForEachTap(const T* plane, const ConvGeometry& g, int64_t od, int64_t oh, int64_t ow, Fn&& fn) {
  const Window wd = WindowAt(g, 0, od), wh = WindowAt(g, 1, oh), ww = WindowAt(g, 2, ow);
  for (int64_t kd = 0; kd < wd.count; ++kd) {
    const int64_t d = wd.start + kd * g.dilation[0];
    if (d < 0 || d >= g.in[0]) continue;
    for (int64_t kh = 0; kh < wh.count; ++kh) {
      const int64_t h = wh.start + kh * g.dilation[1];
      if (h < 0 || h >= g.in[1]) continue;
      const T* row = plane + (d * g.in[1] + h) * g.in[2];
      for (int64_t kw = 0; kw < ww.count; ++kw) {
        const int64_t w = ww.start + kw * g.dilation[2];
        if (w >= 0 && w < g.in[2]) fn(row[w], d, h, w);
      }
    }
  }
}

// Calls fn(plane index, input plane, output index, od, oh, ow) for every
// output point, planes split over the pool.
template <typename T, typename Fn>
void ForEachOutput(const T* x, int64_t planes, const ConvGeometry& g, ThreadPool* pool, Fn&& fn) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  MaybeParallelFor(pool, planes, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, out_size)),
                   [&](int64_t p0, int64_t p1) {
                     for (int64_t p = p0; p < p1; ++p) {
                       int64_t o = p * out_size;
                       for (int64_t od = 0; od < g.out[0]; ++od)
                         for (int64_t oh = 0; oh < g.out[1]; ++oh)
                           for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) fn(p, x + p * in_size, o, od, oh, ow);
                     }
                   });
}

// The common case, every dilation 1: each window is a box clipped to the
// plane, scanned without per-tap checks. Max (kMax) or average.
template <typename T, bool kMax>
void PoolDense(const T* x, T* y, int64_t planes, const ConvGeometry& g, bool count_include_pad, ThreadPool* pool) {
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const int64_t H = g.in[1], W = g.in[2];
  MaybeParallelFor(
      pool, planes, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, out_size)),
      [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
          const T* plane = x + p * in_size;
          T* out = y + p * out_size;
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t ds = od * g.stride[0] - g.pad_begin[0];
            const int64_t d0 = std::max<int64_t>(ds, 0), d1 = std::min(ds + g.kernel[0], g.in[0]);
            const int64_t dn = count_include_pad ? std::min(ds + g.kernel[0], g.in[0] + g.pad_end[0]) - ds : d1 - d0;
            for (int64_t oh = 0; oh < g.out[1]; ++oh) {
              const int64_t hs = oh * g.stride[1] - g.pad_begin[1];
              const int64_t h0 = std::max<int64_t>(hs, 0), h1 = std::min(hs + g.kernel[1], H);
              const int64_t hn = count_include_pad ? std::min(hs + g.kernel[1], H + g.pad_end[1]) - hs : h1 - h0;
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                const int64_t ws = ow * g.stride[2] - g.pad_begin[2];
                const int64_t w0 = std::max<int64_t>(ws, 0), w1 = std::min(ws + g.kernel[2], W);
                const int64_t wn = count_include_pad ? std::min(ws + g.kernel[2], W + g.pad_end[2]) - ws : w1 - w0;
                T acc = kMax ? std::numeric_limits<T>::lowest() : T(0);
                for (int64_t d = d0; d < d1; ++d)
                  for (int64_t h = h0; h < h1; ++h) {
                    const T* row = plane + (d * H + h) * W;
                    for (int64_t w = w0; w < w1; ++w) acc = kMax ? (row[w] > acc ? row[w] : acc) : acc + row[w];
                  }
                if (!kMax) {
                  const int64_t count = dn * hn * wn;
                  acc = count > 0 ? acc / static_cast<T>(count) : T(0);
                }
                *out++ = acc;
              }
            }
          }
        }
      });
}

bool Dense(const ConvGeometry& g) { return g.dilation[0] == 1 && g.dilation[1] == 1 && g.dilation[2] == 1; }

template <typename T>
void MaxPoolPlanes(const T* x, T* y, int64_t* indices, int64_t planes, const ConvGeometry& g, bool column_major,
                   ThreadPool* pool) {
  if (!indices && Dense(g)) return PoolDense<T, true>(x, y, planes, g, false, pool);
  ForEachOutput(x, planes, g, pool, [&](int64_t p, const T* plane, int64_t o, int64_t od, int64_t oh, int64_t ow) {
    T best = std::numeric_limits<T>::lowest();
    int64_t best_d = -1, best_h = -1, best_w = -1;
    ForEachTap(plane, g, od, oh, ow, [&](T value, int64_t d, int64_t h, int64_t w) {
      if (best_w < 0 || value > best) {
        best = value;
        best_d = d, best_h = h, best_w = w;
      }
    });
    y[o] = best;
    if (indices) indices[o] = best_w < 0 ? 0 : FlatIndex(g, p, best_d, best_h, best_w, column_major);
  });
}

template <typename T>
void AveragePoolPlanes(const T* x, T* y, int64_t planes, const ConvGeometry& g, bool count_include_pad,
                       ThreadPool* pool) {
  if (Dense(g)) return PoolDense<T, false>(x, y, planes, g, count_include_pad, pool);
  ForEachOutput(x, planes, g, pool, [&](int64_t, const T* plane, int64_t o, int64_t od, int64_t oh, int64_t ow) {
    T sum = 0;
    ForEachTap(plane, g, od, oh, ow, [&](T value, int64_t, int64_t, int64_t) { sum += value; });
    int64_t count = 1;
    const int64_t at[kMaxSpatial] = {od, oh, ow};
    for (int a = 0; a < kMaxSpatial; ++a) {
      const int64_t high = count_include_pad ? g.in[a] + g.pad_end[a] : g.in[a];
      const int64_t low = count_include_pad ? -g.pad_begin[a] : 0;
      count *= TapsInside(WindowAt(g, a, at[a]), g.dilation[a], low, high);
    }
    y[o] = count > 0 ? sum / static_cast<T>(count) : T(0);
  });
}

Status ComputeMaxPool(KernelContext& ctx) {
  const std::string op = "MaxPool";
  ConvParams params;
  ConvGeometry g{};
  Shape out_shape;
  MAAS_RETURN_IF_ERROR(StartPool(op, ctx, &params, &g, &out_shape));
  const Tensor& x = *ctx.inputs[0];
  const bool want_indices = ctx.num_outputs() > 1;
  if (want_indices) MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 1, DType::kInt64, out_shape));
  int64_t* indices = want_indices ? ctx.output(1).data<int64_t>() : nullptr;
  const bool column_major = ctx.attrs && ctx.attrs->GetInt("storage_order", 0) == 1;
  const int64_t planes = x.shape[0] * x.shape[1];
  const bool ok = DispatchDType<TypeList<float, double, int8_t, uint8_t>>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    MaxPoolPlanes(x.data<T>(), ctx.output(0).data<T>(), indices, planes, g, column_major, ctx.pool);
  });
  return ok ? Status::Ok() : UnsupportedDType(op, x.dtype);
}

Status ComputeAveragePool(KernelContext& ctx) {
  const std::string op = "AveragePool";
  ConvParams params;
  ConvGeometry g{};
  Shape out_shape;
  MAAS_RETURN_IF_ERROR(StartPool(op, ctx, &params, &g, &out_shape));
  const Tensor& x = *ctx.inputs[0];
  const int64_t planes = x.shape[0] * x.shape[1];
  const bool ok = DispatchDType<FloatTypes>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    AveragePoolPlanes(x.data<T>(), ctx.output(0).data<T>(), planes, g, params.count_include_pad, ctx.pool);
  });
  return ok ? Status::Ok() : UnsupportedDType(op, x.dtype);
}

// Sum (or max) of n values with independent partial results, so the
// compiler can keep them in vector lanes.
template <typename T, bool kMax>
T Reduce(const T* v, int64_t n) {
  constexpr int kParts = 8;
  T part[kParts];
  for (int i = 0; i < kParts; ++i) part[i] = kMax ? std::numeric_limits<T>::lowest() : T(0);
  int64_t i = 0;
  for (; i + kParts <= n; i += kParts)
    for (int j = 0; j < kParts; ++j) part[j] = kMax ? std::max(part[j], v[i + j]) : part[j] + v[i + j];
  T total = kMax ? std::numeric_limits<T>::lowest() : T(0);
  for (int j = 0; j < kParts; ++j) total = kMax ? std::max(total, part[j]) : total + part[j];
  for (; i < n; ++i) total = kMax ? std::max(total, v[i]) : total + v[i];
  return total;
}

template <bool kMax>
CpuKernel MakeGlobalPool(const std::string& op) {
  CpuKernel k;
  k.op_type = op;
  k.dtypes = DTypesOf<FloatTypes>();
  k.compute = [op](KernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& x = *ctx.inputs[0];
    if (x.shape.size() < 3) return InvalidArgument(op + ": X needs a batch, a channel and a spatial dim");
    Shape out_shape = x.shape;
    for (size_t i = 2; i < out_shape.size(); ++i) out_shape[i] = 1;
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, out_shape));
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t size = planes == 0 ? 0 : x.num_elements() / planes;
    const bool ok = DispatchDType<FloatTypes>(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data<T>();
      T* out = ctx.output(0).data<T>();
      MaybeParallelFor(ctx.pool, planes, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, size)),
                       [&](int64_t p0, int64_t p1) {
                         for (int64_t p = p0; p < p1; ++p) {
                           const T total = Reduce<T, kMax>(in + p * size, size);
                           out[p] = kMax ? total : total / static_cast<T>(size);
                         }
                       });
    });
    return ok ? Status::Ok() : UnsupportedDType(op, x.dtype);
  };
  return k;
}

CpuKernelRegistrar max_pool(CpuKernel{"MaxPool", DTypesOf<TypeList<float, double, int8_t, uint8_t>>(), ComputeMaxPool,
                                      nullptr, nullptr});
CpuKernelRegistrar average_pool(CpuKernel{"AveragePool", DTypesOf<FloatTypes>(), ComputeAveragePool, nullptr, nullptr});
CpuKernelRegistrar global_average_pool(MakeGlobalPool<false>("GlobalAveragePool"));
CpuKernelRegistrar global_max_pool(MakeGlobalPool<true>("GlobalMaxPool"));

}  // namespace
}  // namespace maas
