// Axis rules of the reductions and the ops that work along one axis
// (ReduceSum/Mean/Max/Min, ArgMax/ArgMin, TopK, CumSum), shared by their
// schemas and every backend's kernels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

// The opset from which a reduction reads its axes from input 1 instead of
// the `axes` attribute (13 for ReduceSum, 18 for the others).
int ReduceAxesInputOpset(const std::string& op);

// Which dims are reduced: the listed axes (negative allowed, none repeated);
// no axes (absent or empty) means every dim, or none with
// noop_with_empty_axes. `reduced` gets one flag per dim.
Status ReducedDims(const std::string& op, int64_t rank, const std::vector<int64_t>& axes, bool noop_with_empty_axes,
                   std::vector<bool>* reduced);

// The output shape: reduced dims dropped, or kept as 1 with keepdims.
Shape ReducedShape(const Shape& in, const std::vector<bool>& reduced, bool keepdims);

// One axis viewed as [outer, len, inner] (ArgMax, TopK, CumSum, ...).
struct AxisLayout {
  int64_t outer = 1, len = 1, inner = 1;
};
AxisLayout LayoutAround(const Shape& shape, int64_t axis);

}  // namespace maas
