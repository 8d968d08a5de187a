// Numpy-style broadcasting: shape rules for load-time inference and an
// iteration plan for run-time binary kernels.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

// The broadcast of two shapes; dims may be kUnknownDim. Returns false when
// two known dims differ and neither is 1.
bool BroadcastShapes(const Shape& a, const Shape& b, Shape* out);

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
// [row_begin, row_end); the row has plan.inner() elements.
void ForEachBroadcastRow(const BinaryBroadcastPlan& plan, int64_t row_begin, int64_t row_end,
                         const std::function<void(int64_t, int64_t, int64_t)>& fn);

}  // namespace maas
