#include "cpu/kernel_util.h"

#include <algorithm>

#include "cpu/thread_pool.h"

namespace maas {

bool NormalizeAxis(int64_t axis, int64_t rank, int64_t* normalized) {
  if (axis < -rank || axis >= rank) return false;
  *normalized = axis < 0 ? axis + rank : axis;
  return true;
}

bool IsOneOf(DType dtype, std::initializer_list<DType> allowed) {
  for (DType d : allowed)
    if (d == dtype) return true;
  return false;
}

Status UnsupportedDType(const std::string& op, DType dtype) {
  return Unsupported(op + ": unsupported dtype " + DTypeName(dtype));
}

Status RequireInputs(const std::string& op, const InferContext& ctx, size_t min_inputs) {
  if (ctx.inputs.size() < min_inputs) return InvalidModel(op + ": expects at least " + std::to_string(min_inputs) + " inputs");
  for (size_t i = 0; i < min_inputs; ++i)
    if (ctx.inputs[i].dtype == DType::kUndefined) return InvalidModel(op + ": input " + std::to_string(i) + " is missing");
  return Status::Ok();
}

Status RequireInputs(const std::string& op, const KernelContext& ctx, size_t min_inputs) {
  if (ctx.inputs.size() < min_inputs) return InvalidArgument(op + ": expects at least " + std::to_string(min_inputs) + " inputs");
  for (size_t i = 0; i < min_inputs; ++i)
    if (!ctx.inputs[i] || (!ctx.inputs[i]->buffer && ctx.inputs[i]->num_elements() != 0))
      return InvalidArgument(op + ": input " + std::to_string(i) + " is missing");
  if (!ctx.outputs || ctx.outputs->empty()) return Internal(op + ": no output slot");
  return Status::Ok();
}

ValueInfo& FirstOutput(std::vector<ValueInfo>& outputs) {
  if (outputs.empty()) outputs.resize(1);
  return outputs[0];
}

Status AllocateOutput(const std::string& op, KernelContext& ctx, size_t index, DType dtype, const Shape& shape) {
  if (ctx.max_tensor_bytes != 0 && TensorBytes(dtype, shape) > ctx.max_tensor_bytes)
    return CheckTensorLimit(dtype, shape, ctx.max_tensor_bytes, op + " output " + std::to_string(index));
  Tensor t = MakeTensor(dtype, shape);
  if (!t.buffer) return Status(StatusCode::kOutOfMemory, op + ": cannot allocate output " + ShapeToString(shape));
  (*ctx.outputs)[index] = std::move(t);
  return Status::Ok();
}

void MaybeParallelFor(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (!pool || pool->num_threads() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->ParallelFor(n, grain, fn);
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

}  // namespace maas
