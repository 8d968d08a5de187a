// Shape and index rules of the ops that select, repeat or relabel data
// (Squeeze, Unsqueeze, Slice, Split, Gather, Tile, Shape, Range), shared by
// their schemas (inference, on dims that may be unknown) and every backend's
// kernels (run time, concrete). Errors are kInvalidModel naming the op;
// kernels report them as kInvalidArgument.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"
#include "ops/schema.h"

namespace maas {

// A 1-D or scalar int32/int64 host tensor as int64 values; false when it is
// another dtype, rank or not in host memory.
bool ReadIntList(const Tensor& t, std::vector<int64_t>* values);

// Each axis in [-rank, rank) mapped into [0, rank), none repeated.
Status NormalizeAxes(const std::string& op, const std::vector<int64_t>& axes, int64_t rank, std::vector<int64_t>* out);

// An op's axes list: the `axes` attribute before `input_from_opset`, input
// `input_index` from then on. *known is false when the list is an input that
// is not a constant; *present false when neither is given.
Status AxesOf(const InferContext& ctx, int input_from_opset, size_t input_index, std::vector<int64_t>* axes,
              bool* present, bool* known);

// Squeeze: drops the listed dims (each must be 1, or unknown), or with no
// axes every dim of size 1 (then every dim must be known).
Status SqueezeShape(const Shape& in, const std::vector<int64_t>* axes, Shape* out);
// Unsqueeze: inserts 1s at the listed positions of the output.
Status UnsqueezeShape(const Shape& in, const std::vector<int64_t>& axes, Shape* out);

// Slice per input dim: elements start, start + step, ... (count of them).
struct SliceDim {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};
// starts/ends/axes/steps as ONNX Slice (opset 10+): negative values count
// from the end, out-of-range values are clamped; empty axes: 0..n-1; empty
// steps: 1. A dim not sliced keeps start 0, step 1, count = its size. Dims
// may be unknown only where they are not sliced (their count stays unknown).
Status ResolveSlice(const Shape& in, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                    const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, std::vector<SliceDim>* dims);

// Split: sizes of `outputs` pieces of a dim of `dim` elements: the given
// `split` list, else equal pieces (opset 18 with num_outputs: the last one
// smaller when it does not divide).
Status SplitSizes(int64_t dim, const std::vector<int64_t>* split, size_t outputs, bool allow_uneven,
                  std::vector<int64_t>* sizes);

// Gather's output: data dims before axis, the indices' dims, data dims after.
Shape GatherShape(const Shape& data, const Shape& indices, int64_t axis);

// Shape's [start, end) of a rank (opset 15 attributes; clamped like Slice).
void ShapeRange(const Attributes* attrs, int64_t rank, int64_t* begin, int64_t* end);

// Range's element count, max(ceil(span / delta), 0) with span = limit - start
// (computed by the caller in the inputs' precision); kInvalidModel for delta
// 0 or a count that is not finite or does not fit int64.
Status RangeCount(double span, double delta, int64_t* count);
Status RangeCountInt(int64_t start, int64_t limit, int64_t delta, int64_t* count);

}  // namespace maas
