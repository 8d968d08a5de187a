// Helpers for op semantics shared by schemas (load-time inference) and every
// backend's kernels (run time): axis normalization, broadcasting and matmul
// shape rules, dtype groups, and the checks every infer starts with.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"
#include "ops/schema.h"

namespace maas {

// Maps a possibly negative axis into [0, rank); false when out of range.
bool NormalizeAxis(int64_t axis, int64_t rank, int64_t* normalized);

// Product of shape[begin, end); -1 if any of those dims is unknown.
int64_t DimProduct(const Shape& shape, size_t begin, size_t end);

bool IsOneOf(DType dtype, std::initializer_list<DType> allowed);

// ONNX type-constraint groups (what a schema accepts; a backend may
// implement fewer and says so through Backend::CheckNode).
bool IsFloatDType(DType dtype);      // float16, bfloat16, float32, float64
bool IsIntegerDType(DType dtype);    // int8..int64, uint8..uint64
bool IsNumericDType(DType dtype);    // float or integer
bool IsFixedSizeDType(DType dtype);  // anything with a byte size (not string)

// "<op>: unsupported dtype <name>" as kUnsupported.
Status UnsupportedDType(const std::string& op, DType dtype);

// The node has at least `min_inputs` present inputs (kInvalidModel).
Status RequireInputs(const std::string& op, const InferContext& ctx, size_t min_inputs);

// outputs[0], growing the vector if the caller left it empty.
ValueInfo& FirstOutput(std::vector<ValueInfo>& outputs);

// The numpy broadcast of two shapes; dims may be kUnknownDim. False when two
// known dims differ and neither is 1.
bool BroadcastShapes(const Shape& a, const Shape& b, Shape* out);

// Output shape of numpy matmul (1-D operands promoted and the added dim
// dropped); dims may be unknown. False with a message when it can never work.
bool MatMulShape(const Shape& a, const Shape& b, Shape* out, std::string* error);

}  // namespace maas
