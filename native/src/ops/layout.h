// Attribute and shape rules of the data-movement ops and Softmax, shared by
// their schemas (inference) and every backend's kernels (run time). Errors
// come back as kInvalidModel; kernels turn them into kInvalidArgument.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

// Reshape: applies `spec` to an input shape whose dims may be unknown. 0
// copies the input dim (unless allowzero), -1 is inferred from the count.
Status ResolveReshape(const Shape& in, const std::vector<int64_t>& spec, bool allowzero, Shape* out);
// Reads Reshape's 1-D int64 shape tensor (host memory); false if malformed.
bool ReadShapeTensor(const Tensor& t, std::vector<int64_t>* spec);

// Flatten's axis in [0, rank] (default 1, negative allowed).
Status FlattenAxis(int64_t rank, const Attributes* attrs, int64_t* axis);

// Transpose's perm (default: reversed dims; negative entries allowed).
Status ResolvePerm(const Attributes* attrs, size_t rank, std::vector<int64_t>* perm);

// Concat's axis (required from opset 4; default 1 before).
Status ConcatAxis(const Attributes* attrs, int opset, int64_t rank, int64_t* axis);

// Softmax as `outer` groups of `len` values spaced `inner` apart.
// opset >= 13: along `axis` (default -1). opset < 13: the input viewed as 2-D
// [prod(dims[:axis]), prod(dims[axis:])] (axis default 1), rows normalized.
struct SoftmaxLayout {
  int64_t outer = 1, len = 1, inner = 1;
};
Status ResolveSoftmaxLayout(const Shape& shape, const Attributes* attrs, int opset, SoftmaxLayout* layout);

}  // namespace maas
