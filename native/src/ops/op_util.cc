#include "ops/op_util.h"

#include <algorithm>

namespace maas {

bool NormalizeAxis(int64_t axis, int64_t rank, int64_t* normalized) {
  if (axis < -rank || axis >= rank) return false;
  *normalized = axis < 0 ? axis + rank : axis;
  return true;
}

int64_t DimProduct(const Shape& shape, size_t begin, size_t end) {
  end = std::min(end, shape.size());
  bool has_zero = false;
  for (size_t i = begin; i < end; ++i) {
    if (shape[i] < 0) return -1;
    has_zero |= shape[i] == 0;
  }
  if (has_zero) return 0;  // even when the other dims alone would overflow
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) {
    // Dims taken from a model can be anything: a product past int64 is not a
    // shape (and signed overflow is undefined).
    if (__builtin_mul_overflow(p, shape[i], &p)) return -1;
  }
  return p;
}

bool IsOneOf(DType dtype, std::initializer_list<DType> allowed) {
  for (DType d : allowed)
    if (d == dtype) return true;
  return false;
}

bool IsFloatDType(DType dtype) {
  return IsOneOf(dtype, {DType::kFloat16, DType::kBFloat16, DType::kFloat32, DType::kFloat64});
}

bool IsIntegerDType(DType dtype) {
  return IsOneOf(dtype, {DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUint8, DType::kUint16,
                         DType::kUint32, DType::kUint64});
}

bool IsNumericDType(DType dtype) { return IsFloatDType(dtype) || IsIntegerDType(dtype); }

bool IsFixedSizeDType(DType dtype) { return DTypeSizeBytes(dtype) != 0; }

Status UnsupportedDType(const std::string& op, DType dtype) {
  return Unsupported(op + ": unsupported dtype " + DTypeName(dtype));
}

Status RequireInputs(const std::string& op, const InferContext& ctx, size_t min_inputs) {
  if (ctx.inputs.size() < min_inputs)
    return InvalidModel(op + ": expects at least " + std::to_string(min_inputs) + " inputs");
  for (size_t i = 0; i < min_inputs; ++i)
    if (ctx.inputs[i].dtype == DType::kUndefined)
      return InvalidModel(op + ": input " + std::to_string(i) + " is missing");
  return Status::Ok();
}

ValueInfo& FirstOutput(std::vector<ValueInfo>& outputs) {
  if (outputs.empty()) outputs.resize(1);
  return outputs[0];
}

bool BroadcastShapes(const Shape& a, const Shape& b, Shape* out) {
  const size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; missing leading dims act as 1.
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da == db) {
      result[i] = da;
    } else if (da == 1) {
      result[i] = db;
    } else if (db == 1) {
      result[i] = da;
    } else if (da == kUnknownDim) {
      result[i] = db;  // a must be 1 or db for the model to be valid
    } else if (db == kUnknownDim) {
      result[i] = da;
    } else {
      return false;
    }
  }
  *out = std::move(result);
  return true;
}

bool MatMulShape(const Shape& a, const Shape& b, Shape* out, std::string* error) {
  if (a.empty() || b.empty()) {
    *error = "MatMul: inputs must have rank >= 1";
    return false;
  }
  const int64_t k_a = a.back();
  const int64_t k_b = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (k_a >= 0 && k_b >= 0 && k_a != k_b) {
    *error = "MatMul: inner dims differ (" + ShapeToString(a) + " x " + ShapeToString(b) + ")";
    return false;
  }
  const Shape a_batch(a.begin(), a.end() - std::min<size_t>(a.size(), 2));
  const Shape b_batch(b.begin(), b.end() - std::min<size_t>(b.size(), 2));
  if (!BroadcastShapes(a_batch, b_batch, out)) {
    *error = "MatMul: batch dims of " + ShapeToString(a) + " and " + ShapeToString(b) + " do not broadcast";
    return false;
  }
  if (a.size() >= 2) out->push_back(a[a.size() - 2]);
  if (b.size() >= 2) out->push_back(b.back());
  return true;
}

}  // namespace maas
