// Broadcasting of up to three inputs (Where's condition, X and Y), in the
// manner of BinaryBroadcastPlan (cpu/broadcast.h): output dims where every
// input is alike (all present, or the same ones broadcast) are merged, so
// the common cases become a few long rows.
#pragma once
#include <cstdint>
#include <vector>

#include "maas/tensor.h"

namespace maas {

struct NaryBroadcastPlan {
  static constexpr int kMaxInputs = 3;
  Shape out_shape;
  int count = 0;                             // inputs
  std::vector<int64_t> dims;                 // merged, outermost first; never empty
  std::vector<int64_t> strides[kMaxInputs];  // element strides; 0 where broadcast
  int64_t num_elements = 0;
  int64_t inner() const { return dims.back(); }
  int64_t rows() const { return dims.back() == 0 ? 0 : num_elements / dims.back(); }
};

// False when the shapes do not broadcast (or count is out of 1..3).
bool MakeNaryBroadcastPlan(const Shape* const* shapes, int count, NaryBroadcastPlan* plan);

// fn(out_offset, offsets) for each innermost row in [row_begin, row_end);
// offsets[i] is input i's element offset of the row's start.
template <typename Fn>
void ForEachNaryRow(const NaryBroadcastPlan& plan, int64_t row_begin, int64_t row_end, Fn&& fn) {
  const size_t outer_rank = plan.dims.size() - 1;
  int64_t index_storage[16] = {};
  std::vector<int64_t> index_heap;  // only for more than 16 merged dims
  int64_t* index = index_storage;
  if (outer_rank > 16) {
    index_heap.assign(outer_rank, 0);
    index = index_heap.data();
  }
  int64_t offsets[NaryBroadcastPlan::kMaxInputs] = {0, 0, 0};
  int64_t rest = row_begin;
  for (size_t d = outer_rank; d-- > 0;) {
    index[d] = rest % plan.dims[d];
    rest /= plan.dims[d];
    for (int k = 0; k < plan.count; ++k) offsets[k] += index[d] * plan.strides[k][d];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    fn(row * plan.inner(), static_cast<const int64_t*>(offsets));
    for (size_t d = outer_rank; d-- > 0;) {
      for (int k = 0; k < plan.count; ++k) offsets[k] += plan.strides[k][d];
      if (++index[d] < plan.dims[d]) break;
      for (int k = 0; k < plan.count; ++k) offsets[k] -= plan.strides[k][d] * plan.dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace maas
