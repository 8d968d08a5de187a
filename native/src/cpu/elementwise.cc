#include "cpu/elementwise.h"

#include <cstring>

namespace maas {

bool BroadcastCopy(const Tensor& in, Tensor& out, ThreadPool* pool) {
  BinaryBroadcastPlan plan;
  if (!MakeBinaryBroadcastPlan(in.shape, out.shape, &plan) || plan.out_shape != out.shape) return false;
  if (plan.num_elements == 0) return true;
  return DispatchElementSize(DTypeSizeBytes(in.dtype), [&](auto tag) {
    using U = decltype(tag);
    const U* src = in.data<U>();
    U* dst = out.data<U>();
    const int64_t inner = plan.inner();
    const int64_t step = plan.a_strides.back();
    const int64_t row_grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner));
    MaybeParallelFor(pool, plan.rows(), row_grain, [&](int64_t row_begin, int64_t row_end) {
      ForEachBroadcastRow(plan, row_begin, row_end, [&](int64_t out_off, int64_t a_off, int64_t) {
        if (step) {
          std::memcpy(dst + out_off, src + a_off, static_cast<size_t>(inner) * sizeof(U));
        } else {
          const U v = src[a_off];
          for (int64_t i = 0; i < inner; ++i) dst[out_off + i] = v;
        }
      });
    });
  });
}

}  // namespace maas
