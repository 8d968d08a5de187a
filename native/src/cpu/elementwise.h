// Elementwise loops shared by the math, comparison and logic kernels: a unary
// map over n elements and a binary map over a broadcast plan (cpu/broadcast.h),
// each split over the thread pool. The element function gets stored values
// and returns the stored result; the 16-bit floats widen to float32 inside
// it (see Lift below). Outputs may alias input A (in place): every loop reads
// an element before writing the same index and never reads it again.
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/broadcast.h"
#include "cpu/half.h"
#include "cpu/kernel_util.h"

namespace maas {

template <typename In, typename Out, typename Fn>
void MapUnary(const In* in, Out* out, int64_t n, ThreadPool* pool, const Fn& fn) {
  MaybeParallelFor(pool, n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = fn(in[i]);
  });
}

// One innermost row of a broadcast; a_step and b_step are 0 (broadcast) or 1.
// A loop per case, so each is a plain stream the compiler can vectorize.
template <typename A, typename B, typename Out, typename Fn>
void MapBinaryRow(int64_t n, const A* a, int64_t a_step, const B* b, int64_t b_step, Out* out, const Fn& fn) {
  if (a_step && b_step) {
    for (int64_t i = 0; i < n; ++i) out[i] = fn(a[i], b[i]);
  } else if (b_step) {
    const A av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = fn(av, b[i]);
  } else if (a_step) {
    const B bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = fn(a[i], bv);
  } else {
    const Out v = fn(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

template <typename A, typename B, typename Out, typename Fn>
void MapBinary(const BinaryBroadcastPlan& plan, const A* a, const B* b, Out* out, ThreadPool* pool, const Fn& fn) {
  if (plan.num_elements <= 0) return;
  const int64_t inner = plan.inner();
  const int64_t a_step = plan.a_strides.back(), b_step = plan.b_strides.back();
  if (plan.dims.size() == 1) {
    MaybeParallelFor(pool, inner, kElementwiseGrain, [&](int64_t begin, int64_t end) {
      MapBinaryRow(end - begin, a + begin * a_step, a_step, b + begin * b_step, b_step, out + begin, fn);
    });
    return;
  }
  const int64_t row_grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner));
  MaybeParallelFor(pool, plan.rows(), row_grain, [&](int64_t row_begin, int64_t row_end) {
    ForEachBroadcastRow(plan, row_begin, row_end, [&](int64_t out_off, int64_t a_off, int64_t b_off) {
      MapBinaryRow(inner, a + a_off, a_step, b + b_off, b_step, out + out_off, fn);
    });
  });
}

// Lifts a function of the compute type (float for the 16-bit floats, T
// otherwise) to one over stored elements: widen, apply, round once.
template <typename T, typename Fn>
struct Lift {
  Fn fn;
  T operator()(T x) const { return Narrow<T>(fn(Widen(x))); }
  T operator()(T a, T b) const { return Narrow<T>(fn(Widen(a), Widen(b))); }
};
template <typename T, typename Fn>
Lift<T, Fn> Lifted(Fn fn) {
  return Lift<T, Fn>{fn};
}

}  // namespace maas

namespace maas {

// Calls fn(U{}) with the unsigned integer type as wide as one element
// (1, 2, 4 or 8 bytes): data movement that does not care what the bits mean.
template <typename Fn>
bool DispatchElementSize(size_t size_bytes, Fn&& fn) {
  switch (size_bytes) {
    case 1: fn(uint8_t{}); return true;
    case 2: fn(uint16_t{}); return true;
    case 4: fn(uint32_t{}); return true;
    case 8: fn(uint64_t{}); return true;
    default: return false;
  }
}

// Copies `in` into `out`, whose shape `in` broadcasts to (Expand, and the
// first input of Min/Max). Any fixed-size dtype; false when the shapes do
// not broadcast that way.
bool BroadcastCopy(const Tensor& in, Tensor& out, ThreadPool* pool);

}  // namespace maas
