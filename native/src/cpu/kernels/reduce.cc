// Reductions and the ops along one axis, on every numeric dtype:
//   ReduceSum ReduceMean ReduceMax ReduceMin   any set of axes
//   ArgMax ArgMin (→ int64), CumSum, TopK (values and int64 indices)
// The work is cut into [outer, len, inner]: `len` values spaced `inner`
// apart per result. When inner > 1, results are computed for a block of
// up to kBlock columns at once (accumulators on the stack), so every pass
// reads memory in order. Sums accumulate in a wider type where the element
// type is narrow (float for the 16-bit floats, int64/uint64 for integers),
// so ReduceMean of int8 is the integer mean of the exact sum.
#include <algorithm>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "cpu/dtype_dispatch.h"
#include "cpu/elementwise.h"
#include "cpu/kernel.h"
#include "ops/indexing.h"
#include "ops/reduce.h"

namespace maas {
namespace {

using NumericTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t,
                              uint32_t, uint64_t>;

constexpr int64_t kBlock = 256;

// The accumulator of a sum of T.
template <typename T>
using SumType = std::conditional_t<std::is_floating_point_v<ComputeType<T>>, ComputeType<T>,
                                   std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

// ---- the reductions -----------------------------------------------------------------

template <typename T>
struct SumOp {
  using Acc = SumType<T>;
  static Acc Init() { return Acc(0); }
  static Acc Add(Acc acc, T x) { return acc + static_cast<Acc>(Widen(x)); }
  static T Finish(Acc acc, int64_t) { return Narrow<T>(static_cast<ComputeType<T>>(acc)); }
};
template <typename T>
struct MeanOp : SumOp<T> {
  using Acc = SumType<T>;
  static T Finish(Acc acc, int64_t n) {
    if (n == 0) return Narrow<T>(ComputeType<T>(0));
    return Narrow<T>(static_cast<ComputeType<T>>(acc / static_cast<Acc>(n)));
  }
};
template <typename T, bool kMax>
struct ExtremeOp {
  using Acc = ComputeType<T>;
  static Acc Init() { return kMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max(); }
  static Acc Add(Acc acc, T x) {
    const Acc v = Widen(x);
    if (acc != acc) return acc;  // NaN sticks
    if (v != v) return v;
    return (kMax ? v > acc : v < acc) ? v : acc;
  }
  static T Finish(Acc acc, int64_t) { return Narrow<T>(acc); }
};

// out[o * inner + j] = reduce over l of in[(o * len + l) * inner + j].
template <typename Op, typename T>
void ReduceAxis(const T* in, T* out, const AxisLayout& L, ThreadPool* pool) {
  using Acc = typename Op::Acc;
  if (L.inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, L.len));
    MaybeParallelFor(pool, L.outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* row = in + o * L.len;
        Acc acc = Op::Init();
        for (int64_t l = 0; l < L.len; ++l) acc = Op::Add(acc, row[l]);
        out[o] = Op::Finish(acc, L.len);
      }
    });
    return;
  }
  const int64_t blocks = (L.inner + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, L.len * kBlock));
  MaybeParallelFor(pool, L.outer * blocks, grain, [&](int64_t begin, int64_t end) {
    Acc acc[kBlock];
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t o = unit / blocks;
      const int64_t j0 = (unit % blocks) * kBlock;
      const int64_t width = std::min(kBlock, L.inner - j0);
      for (int64_t j = 0; j < width; ++j) acc[j] = Op::Init();
      for (int64_t l = 0; l < L.len; ++l) {
        const T* row = in + (o * L.len + l) * L.inner + j0;
        for (int64_t j = 0; j < width; ++j) acc[j] = Op::Add(acc[j], row[j]);
      }
      for (int64_t j = 0; j < width; ++j) out[o * L.inner + j0 + j] = Op::Finish(acc[j], L.len);
    }
  });
}

// Several separate runs of reduced dims ([2,3,4] reduced over 0 and 2):
// each output element walks its reduced indices with an odometer.
template <typename Op, typename T>
void ReduceGeneral(const T* in, T* out, const Shape& dims, const std::vector<bool>& reduced, ThreadPool* pool) {
  const size_t rank = dims.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * dims[d];
  std::vector<int64_t> kept, gone;
  for (size_t d = 0; d < rank; ++d) (reduced[d] ? gone : kept).push_back(static_cast<int64_t>(d));
  int64_t out_count = 1, in_count = 1;
  for (int64_t d : kept) out_count *= dims[d];
  for (int64_t d : gone) in_count *= dims[d];
  MaybeParallelFor(pool, out_count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t base = 0, rest = o;
      for (size_t k = kept.size(); k-- > 0;) {
        base += (rest % dims[kept[k]]) * stride[kept[k]];
        rest /= dims[kept[k]];
      }
      typename Op::Acc acc = Op::Init();
      for (int64_t r = 0; r < in_count; ++r) {
        int64_t offset = base, left = r;
        for (size_t k = gone.size(); k-- > 0;) {
          offset += (left % dims[gone[k]]) * stride[gone[k]];
          left /= dims[gone[k]];
        }
        acc = Op::Add(acc, in[offset]);
      }
      out[o] = Op::Finish(acc, in_count);
    }
  });
}

// The reduced dims of `in` for this node, from the attribute or input 1.
Status ReducedOf(const std::string& op, const KernelContext& ctx, const Shape& in, std::vector<bool>* reduced) {
  std::vector<int64_t> axes;
  if (ctx.opset < ReduceAxesInputOpset(op)) {
    if (ctx.attrs) axes = ctx.attrs->GetInts("axes", {});
  } else if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
    if (!ReadIntList(*ctx.inputs[1], &axes)) return InvalidArgument(op + ": axes must be a 1-D int64 tensor");
  }
  const bool noop = ctx.attrs && ctx.attrs->GetInt("noop_with_empty_axes", 0) != 0;
  Status s = ReducedDims(op, static_cast<int64_t>(in.size()), axes, noop, reduced);
  return s.ok() ? s : InvalidArgument(s.message());
}

template <template <typename> class Op>
Status ReduceCompute(const std::string& op, KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  std::vector<bool> reduced;
  MAAS_RETURN_IF_ERROR(ReducedOf(op, ctx, in.shape, &reduced));
  const bool keepdims = !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0;
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, ReducedShape(in.shape, reduced, keepdims)));
  Tensor& out = ctx.output(0);
  if (out.num_elements() == 0) return Status::Ok();
  // Merge neighbouring dims of the same kind; size-1 dims drop out.
  Shape dims;
  std::vector<bool> kinds;
  for (size_t d = 0; d < in.shape.size(); ++d) {
    if (in.shape[d] == 1) continue;
    if (!kinds.empty() && kinds.back() == reduced[d]) {
      dims.back() *= in.shape[d];
    } else {
      dims.push_back(in.shape[d]);
      kinds.push_back(reduced[d]);
    }
  }
  const size_t reduced_runs = static_cast<size_t>(std::count(kinds.begin(), kinds.end(), true));
  const bool supported = DispatchDType<NumericTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (reduced_runs <= 1) {
      AxisLayout L;
      size_t r = std::find(kinds.begin(), kinds.end(), true) - kinds.begin();
      if (r == kinds.size()) {
        L.outer = NumElements(dims);  // nothing reduced: a copy through the op
        L.len = 1;
      } else {
        L = LayoutAround(dims, static_cast<int64_t>(r));
      }
      ReduceAxis<Op<T>>(in.data<T>(), out.data<T>(), L, ctx.pool);
    } else {
      ReduceGeneral<Op<T>>(in.data<T>(), out.data<T>(), dims, kinds, ctx.pool);
    }
  });
  return supported ? Status::Ok() : UnsupportedDType(op, in.dtype);
}

template <template <typename> class Op>
CpuKernel ReduceKernel(const std::string& op) {
  return CpuKernel{op, DTypesOf<NumericTypes>(), [op](KernelContext& ctx) { return ReduceCompute<Op>(op, ctx); },
                   nullptr, nullptr};
}

template <typename T>
using MaxOp = ExtremeOp<T, true>;
template <typename T>
using MinOp = ExtremeOp<T, false>;

// ---- ArgMax / ArgMin ------------------------------------------------------------

Status AxisLayoutOf(const std::string& op, const Shape& shape, int64_t attr_axis, int64_t* axis, AxisLayout* L) {
  if (!NormalizeAxis(attr_axis, static_cast<int64_t>(shape.size()), axis))
    return InvalidArgument(op + ": axis " + std::to_string(attr_axis) + " out of range");
  *L = LayoutAround(shape, *axis);
  return Status::Ok();
}

template <bool kMax>
Status ArgCompute(KernelContext& ctx) {
  const std::string op = kMax ? "ArgMax" : "ArgMin";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  AxisLayout L;
  MAAS_RETURN_IF_ERROR(AxisLayoutOf(op, in.shape, ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0, &axis, &L));
  if (L.len == 0) return InvalidArgument(op + ": the axis is empty");
  std::vector<bool> reduced(in.shape.size(), false);
  reduced[axis] = true;
  const bool keepdims = !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0;
  const bool last = ctx.attrs && ctx.attrs->GetInt("select_last_index", 0) != 0;
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kInt64, ReducedShape(in.shape, reduced, keepdims)));
  int64_t* out = ctx.output(0).data<int64_t>();
  const bool supported = DispatchDType<NumericTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.data<T>();
    MaybeParallelFor(ctx.pool, L.outer * L.inner, std::max<int64_t>(1, kElementwiseGrain / L.len),
                     [&](int64_t b, int64_t e) {
                       for (int64_t unit = b; unit < e; ++unit) {
                         const int64_t o = unit / L.inner, j = unit % L.inner;
                         const T* p = x + o * L.len * L.inner + j;
                         auto best = Widen(p[0]);
                         int64_t at = 0;
                         for (int64_t l = 1; l < L.len; ++l) {
                           const auto v = Widen(p[l * L.inner]);
                           const bool better = kMax ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
                           if (better) {
                             best = v;
                             at = l;
                           }
                         }
                         out[unit] = at;
                       }
                     });
  });
  return supported ? Status::Ok() : UnsupportedDType(op, in.dtype);
}

// ---- CumSum ----------------------------------------------------------------------

Status CumSumCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("CumSum", ctx, 2));
  const Tensor& in = *ctx.inputs[0];
  std::vector<int64_t> axis_value;
  if (!ReadIntList(*ctx.inputs[1], &axis_value) || axis_value.size() != 1)
    return InvalidArgument("CumSum: axis must be one int32 or int64 value");
  int64_t axis = 0;
  AxisLayout L;
  MAAS_RETURN_IF_ERROR(AxisLayoutOf("CumSum", in.shape, axis_value[0], &axis, &L));
  const bool exclusive = ctx.attrs && ctx.attrs->GetInt("exclusive", 0) != 0;
  const bool reverse = ctx.attrs && ctx.attrs->GetInt("reverse", 0) != 0;
  MAAS_RETURN_IF_ERROR(AllocateOutput("CumSum", ctx, 0, in.dtype, in.shape));
  if (in.num_elements() == 0) return Status::Ok();
  const bool supported = DispatchDType<NumericTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = in.data<T>();
    T* y = ctx.output(0).data<T>();
    const int64_t blocks = (L.inner + kBlock - 1) / kBlock;
    MaybeParallelFor(ctx.pool, L.outer * blocks, 1, [&](int64_t begin, int64_t end) {
      C acc[kBlock];
      for (int64_t unit = begin; unit < end; ++unit) {
        const int64_t o = unit / blocks, j0 = (unit % blocks) * kBlock;
        const int64_t width = std::min(kBlock, L.inner - j0);
        std::fill(acc, acc + width, C(0));
        for (int64_t step = 0; step < L.len; ++step) {
          const int64_t l = reverse ? L.len - 1 - step : step;
          const int64_t row = (o * L.len + l) * L.inner + j0;
          for (int64_t j = 0; j < width; ++j) {
            const C v = Widen(x[row + j]);  // read first: out may not alias in, but stay safe
            if (!exclusive) acc[j] = static_cast<C>(acc[j] + v);
            y[row + j] = Narrow<T>(acc[j]);
            if (exclusive) acc[j] = static_cast<C>(acc[j] + v);
          }
        }
      }
    });
  });
  return supported ? Status::Ok() : UnsupportedDType("CumSum", in.dtype);
}

// ---- TopK ---------------------------------------------------------------------------

Status TopKCompute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("TopK", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t k = 0;
  if (ctx.opset < 10) {
    k = ctx.attrs ? ctx.attrs->GetInt("k", 0) : 0;
  } else {
    MAAS_RETURN_IF_ERROR(RequireInputs("TopK", ctx, 2));
    std::vector<int64_t> values;
    if (!ReadIntList(*ctx.inputs[1], &values) || values.size() != 1)
      return InvalidArgument("TopK: K must hold one value");
    k = values[0];
  }
  int64_t axis = 0;
  AxisLayout L;
  MAAS_RETURN_IF_ERROR(AxisLayoutOf("TopK", in.shape, ctx.attrs ? ctx.attrs->GetInt("axis", -1) : -1, &axis, &L));
  if (k < 0 || k > L.len)
    return InvalidArgument("TopK: K " + std::to_string(k) + " is not within the axis length " + std::to_string(L.len));
  if (ctx.num_outputs() < 2) return Internal("TopK: two outputs expected");
  Shape shape = in.shape;
  shape[axis] = k;
  MAAS_RETURN_IF_ERROR(AllocateOutput("TopK", ctx, 0, in.dtype, shape));
  MAAS_RETURN_IF_ERROR(AllocateOutput("TopK", ctx, 1, DType::kInt64, shape));
  if (k == 0 || NumElements(shape) == 0) return Status::Ok();
  const bool largest = !ctx.attrs || ctx.attrs->GetInt("largest", 1) != 0;
  int64_t* indices = ctx.output(1).data<int64_t>();
  const bool supported = DispatchDType<NumericTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.data<T>();
    T* values = ctx.output(0).data<T>();
    MaybeParallelFor(ctx.pool, L.outer * L.inner, std::max<int64_t>(1, kElementwiseGrain / L.len),
                     [&](int64_t b, int64_t e) {
                       std::vector<int64_t> order(static_cast<size_t>(L.len));  // scratch per chunk of work
                       for (int64_t unit = b; unit < e; ++unit) {
                         const int64_t o = unit / L.inner, j = unit % L.inner;
                         const T* p = x + o * L.len * L.inner + j;
                         std::iota(order.begin(), order.end(), int64_t{0});
                         // Ties keep the lower index first, as onnxruntime does; NaN counts as the largest.
                         auto above = [&](int64_t a, int64_t c) {
                           const auto va = Widen(p[a * L.inner]), vc = Widen(p[c * L.inner]);
                           if (vc != vc) return false;
                           return va != va || va > vc;
                         };
                         auto before = [&](int64_t a, int64_t c) {
                           const bool wins = largest ? above(a, c) : above(c, a);
                           const bool loses = largest ? above(c, a) : above(a, c);
                           return wins || (!loses && a < c);
                         };
                         std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                         for (int64_t i = 0; i < k; ++i) {
                           const int64_t at = (o * k + i) * L.inner + j;
                           values[at] = p[order[i] * L.inner];
                           indices[at] = order[i];
                         }
                       }
                     });
  });
  return supported ? Status::Ok() : UnsupportedDType("TopK", in.dtype);
}

CpuKernelRegistrar reduce_sum_k(ReduceKernel<SumOp>("ReduceSum"));
CpuKernelRegistrar reduce_mean_k(ReduceKernel<MeanOp>("ReduceMean"));
CpuKernelRegistrar reduce_max_k(ReduceKernel<MaxOp>("ReduceMax"));
CpuKernelRegistrar reduce_min_k(ReduceKernel<MinOp>("ReduceMin"));
CpuKernelRegistrar arg_max_k(CpuKernel{"ArgMax", DTypesOf<NumericTypes>(), ArgCompute<true>, nullptr, nullptr});
CpuKernelRegistrar arg_min_k(CpuKernel{"ArgMin", DTypesOf<NumericTypes>(), ArgCompute<false>, nullptr, nullptr});
CpuKernelRegistrar cum_sum_k(CpuKernel{"CumSum", DTypesOf<NumericTypes>(), CumSumCompute, nullptr, nullptr});
CpuKernelRegistrar top_k_k(CpuKernel{"TopK", DTypesOf<NumericTypes>(), TopKCompute, nullptr, nullptr});

}  // namespace
}  // namespace maas
