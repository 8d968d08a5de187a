// Pad's semantics, shared by its schema and every backend's kernel: where
// the pads come from per opset (attribute before 11, input after; opset 18's
// axes), the modes, and the output shape. Negative pads crop.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

Status ParsePadMode(const Attributes* attrs, PadMode* mode);

// Begin and end pads per axis of a rank-`rank` input: from the `pads`
// attribute (opset < 11) or the contents of the pads input, with the axes
// input (opset 18, may be null) naming the axes they apply to.
Status ResolvePads(const Attributes* attrs, int opset, int64_t rank, const Tensor* pads, const Tensor* axes,
                   StatusCode bad_code, std::vector<int64_t>* begin, std::vector<int64_t>* end);

// Output dims for `shape` and the pads; checks what the mode can do
// (reflect needs pads smaller than the dim, edge and reflect a non-empty dim).
Status PaddedShape(PadMode mode, const Shape& shape, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                   StatusCode bad_code, Shape* out);

}  // namespace maas
