// Softmax on float32/float64, numerically stable (subtracts the max).
// opset >= 13: along `axis` (default -1).
// opset < 13:  the input is viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])]
//              (axis default 1) and each row is normalized.
// Either way the work is `outer` groups of `len` values spaced `inner` apart.
#include <algorithm>
#include <cmath>

#include "cpu/fast_math.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "Softmax";

inline float Exp(float x) { return FastExp(x); }
inline double Exp(double x) { return std::exp(x); }

struct SoftmaxLayout {
  int64_t outer = 1, len = 1, inner = 1;
};

Status ResolveLayout(const Shape& shape, const Attributes* attrs, int opset, SoftmaxLayout* layout) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t default_axis = opset >= 13 ? -1 : 1;
  const int64_t axis_attr = attrs ? attrs->GetInt("axis", default_axis) : default_axis;
  int64_t axis = 0;
  // A scalar has one value; treat it as a single group of one.
  if (rank == 0) return Status::Ok();
  if (opset < 13) {
    // The 2-D coercion also accepts axis == rank (one group per element).
    if (axis_attr < -rank || axis_attr > rank) return InvalidModel(std::string(kOp) + ": axis out of range");
    axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
    layout->outer = DimProduct(shape, 0, axis);
    layout->len = DimProduct(shape, axis, shape.size());
    layout->inner = 1;
    return Status::Ok();
  }
  if (!NormalizeAxis(axis_attr, rank, &axis)) return InvalidModel(std::string(kOp) + ": axis out of range");
  layout->outer = DimProduct(shape, 0, axis);
  layout->len = shape[axis];
  layout->inner = DimProduct(shape, axis + 1, shape.size());
  return Status::Ok();
}

// Contiguous group: max, exp and sum, scale.
template <typename T>
void SoftmaxContiguous(const T* in, T* out, int64_t len) {
  T max_value = in[0];
  for (int64_t i = 1; i < len; ++i) max_value = std::max(max_value, in[i]);
  // Separate loops: the exp loop vectorizes, the ordered sum does not.
  for (int64_t i = 0; i < len; ++i) out[i] = Exp(in[i] - max_value);
  T sum = 0;
  for (int64_t i = 0; i < len; ++i) sum += out[i];
  const T scale = T(1) / sum;
  for (int64_t i = 0; i < len; ++i) out[i] *= scale;
}

// Strided groups (axis not last): process the `inner` columns of one outer
// slice together so every pass walks memory in order.
template <typename T>
void SoftmaxStrided(const T* in, T* out, int64_t len, int64_t inner, std::vector<T>& scratch) {
  scratch.assign(static_cast<size_t>(inner), -INFINITY);
  T* acc = scratch.data();
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) acc[j] = std::max(acc[j], in[l * inner + j]);
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) out[l * inner + j] = Exp(in[l * inner + j] - acc[j]);
  std::fill(acc, acc + inner, T(0));
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) acc[j] += out[l * inner + j];
  for (int64_t j = 0; j < inner; ++j) acc[j] = T(1) / acc[j];
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) out[l * inner + j] *= acc[j];
}

template <typename T>
void RunSoftmax(const T* in, T* out, const SoftmaxLayout& L, ThreadPool* pool) {
  const int64_t group = L.len * L.inner;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, group));
  MaybeParallelFor(pool, L.outer, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch;
    for (int64_t o = begin; o < end; ++o) {
      if (L.inner == 1) {
        SoftmaxContiguous(in + o * group, out + o * group, L.len);
      } else {
        SoftmaxStrided(in + o * group, out + o * group, L.len, L.inner, scratch);
      }
    }
  });
}

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const ValueInfo& in = ctx.inputs[0];
  if (!IsOneOf(in.dtype, {DType::kFloat32, DType::kFloat64})) return UnsupportedDType(kOp, in.dtype);
  if (in.rank_known) {
    SoftmaxLayout layout;
    MAAS_RETURN_IF_ERROR(ResolveLayout(in.shape, ctx.attrs, ctx.opset, &layout));
  }
  ValueInfo& out = FirstOutput(outputs);
  out.dtype = in.dtype;
  out.shape = in.shape;
  out.rank_known = in.rank_known;
  return Status::Ok();
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  SoftmaxLayout layout;
  Status s = ResolveLayout(in.shape, ctx.attrs, ctx.opset, &layout);
  if (!s.ok()) return InvalidArgument(s.message());
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, in.dtype, in.shape));
  if (in.num_elements() == 0 || layout.len == 0) return Status::Ok();
  Tensor& out = (*ctx.outputs)[0];
  switch (in.dtype) {
    case DType::kFloat32: RunSoftmax(in.data<float>(), out.data<float>(), layout, ctx.pool); break;
    case DType::kFloat64: RunSoftmax(in.data<double>(), out.data<double>(), layout, ctx.pool); break;
    default: return UnsupportedDType(kOp, in.dtype);
  }
  return Status::Ok();
}

KernelRegistrar registrar(OpKernel{kOp, Infer, Compute});

}  // namespace
}  // namespace maas
