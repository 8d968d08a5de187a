// ExecContext's output allocation (maas/backend.h): the plan's storage when it
// laid the output out, else fresh memory from the backend.
#include <cstdint>

#include "maas/backend.h"

namespace maas {

Status ExecContext::AllocateOutput(size_t i, DType dtype, const Shape& shape) {
  if (i >= outputs_.size()) return Internal("output " + std::to_string(i) + " does not exist");
  Tensor& out = *outputs_[i];
  if (planned_ && planned_[i]) {
    if (out.dtype == dtype && out.shape == shape) return Status::Ok();
    return Internal("output " + std::to_string(i) + ": the kernel makes " + DTypeName(dtype) + " " +
                    ShapeToString(shape) + " where inference planned " + DTypeName(out.dtype) + " " +
                    ShapeToString(out.shape));
  }
  if (max_tensor_bytes_ != 0 && TensorBytes(dtype, shape) > max_tensor_bytes_)
    return CheckTensorLimit(dtype, shape, max_tensor_bytes_, "output " + std::to_string(i));
  const int64_t count = NumElements(shape);
  const size_t element_bytes = DTypeSizeBytes(dtype);
  // count * element_bytes must not wrap into a small allocation.
  if (count < 0 || element_bytes == 0 || static_cast<uint64_t>(count) > SIZE_MAX / element_bytes)
    return Status(StatusCode::kOutOfMemory,
                  "cannot allocate " + std::string(DTypeName(dtype)) + " " + ShapeToString(shape));
  const size_t bytes = static_cast<size_t>(count) * element_bytes;
  std::shared_ptr<Buffer> buffer;
  if (backend_) {
    MAAS_RETURN_IF_ERROR(backend_->Allocate(bytes, &buffer));
  } else {
    buffer = Buffer::Allocate(bytes);
    if (!buffer) return Status(StatusCode::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes");
  }
  out.dtype = dtype;
  out.shape = shape;
  out.buffer = std::move(buffer);
  out.byte_offset = 0;
  return Status::Ok();
}

void ExecContext::SetOutputView(size_t i, const Tensor& source, const Shape& shape) {
  Tensor& out = *outputs_[i];
  out.dtype = source.dtype;
  out.shape = shape;  // copy-assign: keeps the slot's capacity, no allocation per run
  out.buffer = source.buffer;
  out.byte_offset = source.byte_offset;
}

}  // namespace maas
