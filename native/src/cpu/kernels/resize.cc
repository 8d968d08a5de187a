// Resize, nearest (any numeric dtype the schema allows) and linear (float),
// over any axes: per axis, each output coordinate maps to one input index
// (nearest) or two with weights (linear), from ops/resize_rules.h; an output
// element then gathers (or blends the 2^k corners of) the k axes that are
// resized (scale-1 axes are copied). tf_crop_and_resize samples outside the input get
// extrapolation_value. The per-axis maps are rebuilt per call (small: one
// entry per output coordinate).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/resize_rules.h"

namespace maas {
namespace {

const char* const kOp = "Resize";

struct AxisMap {
  std::vector<int64_t> i0, i1;   // input indices per output coordinate
  std::vector<float> w0, w1;     // their weights (linear)
  std::vector<uint8_t> outside;  // sample outside the input (tf_crop_and_resize)
  bool identity = true;          // a scale-1 axis: every output coordinate reads its own index
};

AxisMap MapAxis(const ResizeParams& p, int64_t in_len, int64_t out_len, float scale, float roi_start, float roi_end) {
  AxisMap m;
  m.i0.resize(out_len);
  m.i1.resize(out_len);
  m.w0.resize(out_len);
  m.w1.resize(out_len);
  m.outside.resize(out_len);
  // An axis kept at scale 1 is copied as it is, whatever the coordinate
  // mode says (onnxruntime does the same).
  if (in_len == out_len && scale == 1.0f) {
    for (int64_t o = 0; o < out_len; ++o) m.i0[o] = m.i1[o] = o, m.w0[o] = 1.0f, m.w1[o] = 0.0f;
    return m;
  }
  m.identity = false;
  for (int64_t o = 0; o < out_len; ++o) {
    const float x =
        ResizeSourceCoordinate(p.coordinates, static_cast<float>(o), scale, in_len, out_len, roi_start, roi_end);
    m.outside[o] =
        p.coordinates == ResizeCoordinates::kTfCropAndResize && (x < 0.0f || x > static_cast<float>(in_len - 1));
    if (p.mode == ResizeMode::kNearest) {
      m.i0[o] = m.i1[o] = std::min(std::max<int64_t>(ResizeNearestIndex(p.rounding, x), 0), in_len - 1);
      m.w0[o] = 1.0f;
      m.w1[o] = 0.0f;
    } else {
      const float clamped = std::min(std::max(x, 0.0f), static_cast<float>(in_len - 1));
      m.i0[o] = std::min(static_cast<int64_t>(clamped), in_len - 1);
      m.i1[o] = std::min(m.i0[o] + 1, in_len - 1);
      m.w1[o] = m.i0[o] == m.i1[o] ? 0.0f : clamped - static_cast<float>(m.i0[o]);
      m.w0[o] = 1.0f - m.w1[o];
    }
  }
  return m;
}

template <typename T>
void Gather(const T* in, T* out, const Shape& in_shape, const Shape& out_shape, const std::vector<AxisMap>& maps,
            bool linear, T extrapolation, ThreadPool* pool) {
  const size_t rank = in_shape.size();
  std::vector<int64_t> strides(rank, 1);
  for (size_t a = rank - 1; a-- > 0;) strides[a] = strides[a + 1] * in_shape[a + 1];
  std::vector<size_t> active;  // axes whose map is not the identity
  for (size_t a = 0; a < rank; ++a)
    if (!maps[a].identity) active.push_back(a);
  const int corners = linear ? 1 << active.size() : 1;
  const int64_t inner = out_shape.back();
  const int64_t rows = inner == 0 ? 0 : NumElements(out_shape) / inner;
  MaybeParallelFor(pool, rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner)),
                   [&](int64_t r0, int64_t r1) {
                     std::vector<int64_t> index(rank, 0);
                     for (int64_t r = r0; r < r1; ++r) {
                       int64_t rest = r;
                       for (size_t a = rank - 1; a-- > 0;) {
                         index[a] = rest % out_shape[a];
                         rest /= out_shape[a];
                       }
                       for (int64_t j = 0; j < inner; ++j) {
                         index[rank - 1] = j;
                         bool outside = false;
                         int64_t base = 0;  // offset of corner 0
                         for (size_t a = 0; a < rank; ++a) {
                           outside |= maps[a].outside[index[a]] != 0;
                           base += maps[a].i0[index[a]] * strides[a];
                         }
                         T value;
                         if (outside) {
                           value = extrapolation;
                         } else if (!linear) {
                           value = in[base];
                         } else {
                           double sum = 0;
                           for (int corner = 0; corner < corners; ++corner) {
                             double weight = 1;
                             int64_t offset = base;
                             for (size_t b = 0; b < active.size(); ++b) {
                               const AxisMap& m = maps[active[b]];
                               const int64_t i = index[active[b]];
                               if (corner & (1 << b)) {
                                 weight *= m.w1[i];
                                 offset += (m.i1[i] - m.i0[i]) * strides[active[b]];
                               } else {
                                 weight *= m.w0[i];
                               }
                             }
                             if (weight != 0) sum += weight * static_cast<double>(in[offset]);
                           }
                           value = static_cast<T>(sum);
                         }
                         out[r * inner + j] = value;
                       }
                     }
                   });
}

float RoiAt(const Tensor* roi, int64_t i, float fallback) {
  if (!roi || i >= roi->num_elements()) return fallback;
  if (roi->dtype == DType::kFloat32) return roi->data<float>()[i];
  if (roi->dtype == DType::kFloat64) return static_cast<float>(roi->data<double>()[i]);
  return fallback;
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  ResizeParams params;
  Status s = ParseResizeParams(ctx.attrs, ctx.opset, &params);
  if (!s.ok())
    return Status(s.code() == StatusCode::kInvalidModel ? StatusCode::kInvalidArgument : s.code(), s.message());
  const Tensor& x = *ctx.inputs[0];
  const ResizeInputs at = ResizeInputIndices(ctx.opset);
  auto input = [&](int i) -> const Tensor* {
    return i >= 0 && static_cast<size_t>(i) < ctx.inputs.size() ? ctx.inputs[i] : nullptr;
  };
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) return InvalidArgument(std::string(kOp) + ": X must have at least one dim");
  Shape out_shape;
  std::vector<float> scales;
  MAAS_RETURN_IF_ERROR(ResolveResizeShape(params, x.shape, input(at.scales), input(at.sizes),
                                          StatusCode::kInvalidArgument, &out_shape, &scales));
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, x.dtype, out_shape));
  if (NumElements(out_shape) == 0) return Status::Ok();
  if (x.num_elements() == 0) return InvalidArgument(std::string(kOp) + ": cannot resize an empty input");
  // roi: [starts..., ends...] over every axis, or over `axes` when given.
  const Tensor* roi = params.coordinates == ResizeCoordinates::kTfCropAndResize ? input(at.roi) : nullptr;
  std::vector<int64_t> roi_axis(rank, -1);
  const int64_t roi_axes = params.axes.empty() ? rank : static_cast<int64_t>(params.axes.size());
  for (int64_t i = 0; i < roi_axes; ++i) {
    int64_t axis = i;
    if (!params.axes.empty()) NormalizeAxis(params.axes[i], rank, &axis);
    roi_axis[axis] = i;
  }
  std::vector<AxisMap> maps;
  for (int64_t a = 0; a < rank; ++a) {
    const float start = roi_axis[a] < 0 ? 0.0f : RoiAt(roi, roi_axis[a], 0.0f);
    const float end = roi_axis[a] < 0 ? 1.0f : RoiAt(roi, roi_axes + roi_axis[a], 1.0f);
    maps.push_back(MapAxis(params, x.shape[a], out_shape[a], scales[a], start, end));
  }
  const bool linear = params.mode == ResizeMode::kLinear;
  const bool ok = DispatchDType<TypeList<float, double, int8_t, uint8_t, int32_t, int64_t>>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    Gather(x.data<T>(), ctx.output(0).data<T>(), x.shape, out_shape, maps, linear,
           static_cast<T>(params.extrapolation_value), ctx.pool);
  });
  return ok ? Status::Ok() : UnsupportedDType(kOp, x.dtype);
}

CpuKernelRegistrar registrar(CpuKernel{kOp, DTypesOf<TypeList<float, double, int8_t, uint8_t, int32_t, int64_t>>(),
                                       Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
