// Numpy-style broadcasting: an iteration plan for run-time binary kernels
// (the shape rule itself, BroadcastShapes, is in ops/op_util.h).
#pragma once
#include <cstdint>
#include <vector>

#include "maas/status.h"
#include "maas/tensor.h"
#include "ops/op_util.h"

namespace maas {

// How to walk two concrete inputs of a binary op in output order. Dims are
// coalesced (adjacent dims merged when both inputs treat them alike), so
// equal shapes become one flat dim and [N,C]+[C] becomes rows of C.
struct BinaryBroadcastPlan {
  Shape out_shape;
  std::vector<int64_t> dims;       // coalesced, outermost first; never empty
  std::vector<int64_t> a_strides;  // element strides; 0 where a is broadcast
  std::vector<int64_t> b_strides;
  int64_t num_elements = 0;
  int64_t inner() const { return dims.back(); }
  int64_t rows() const { return dims.back() == 0 ? 0 : num_elements / dims.back(); }
};

bool MakeBinaryBroadcastPlan(const Shape& a, const Shape& b, BinaryBroadcastPlan* plan);

// Calls fn(out_offset, a_offset, b_offset) for each innermost row in
// [row_begin, row_end); the row has plan.inner() elements. A template so the
// per-row call inlines.
template <typename Fn>
void ForEachBroadcastRow(const BinaryBroadcastPlan& plan, int64_t row_begin, int64_t row_end, Fn&& fn) {
  const size_t outer_rank = plan.dims.size() - 1;
  const int64_t inner = plan.inner();
  // Multi-index of row_begin over the outer dims, and the matching offsets.
  int64_t index_storage[16];
  std::vector<int64_t> index_heap;
  int64_t* index = index_storage;
  if (outer_rank > 16) {
    index_heap.assign(outer_rank, 0);
    index = index_heap.data();
  }
  int64_t a_off = 0, b_off = 0;
  int64_t rest = row_begin;
  for (size_t i = outer_rank; i-- > 0;) {
    index[i] = rest % plan.dims[i];
    rest /= plan.dims[i];
    a_off += index[i] * plan.a_strides[i];
    b_off += index[i] * plan.b_strides[i];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    fn(row * inner, a_off, b_off);
    // Odometer increment, carrying into outer dims.
    for (size_t i = outer_rank; i-- > 0;) {
      a_off += plan.a_strides[i];
      b_off += plan.b_strides[i];
      if (++index[i] < plan.dims[i]) break;
      a_off -= plan.a_strides[i] * plan.dims[i];
      b_off -= plan.b_strides[i] * plan.dims[i];
      index[i] = 0;
    }
  }
}

}  // namespace maas
