#include "cuda/kernels/cuda_util.h"

#include "ops/indexing.h"

namespace maas::cuda {

std::vector<int64_t> BroadcastStrides(const Shape& shape, const Shape& out) {
  const size_t rank = out.size();
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    const size_t d = shape.size() - 1 - k;  // dim of `shape`
    const size_t o = rank - 1 - k;          // the output dim it aligns with
    strides[o] = (shape[d] == 1 && out[o] != 1) ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

Status CheckRank(const std::string& op, const Shape& shape) {
  if (shape.size() <= static_cast<size_t>(kMaxRank)) return Status::Ok();
  return Unsupported(op + ": rank " + std::to_string(shape.size()) + " above the CUDA kernels' " +
                     std::to_string(kMaxRank));
}

Status RequireInputs(const std::string& op, const CudaKernelContext& ctx, size_t min_inputs) {
  if (ctx.inputs.size() < min_inputs)
    return InvalidArgument(op + ": expects at least " + std::to_string(min_inputs) + " inputs");
  for (size_t i = 0; i < min_inputs; ++i)
    if (!ctx.inputs[i] || (!ctx.inputs[i]->buffer && ctx.inputs[i]->num_elements() != 0))
      return InvalidArgument(op + ": input " + std::to_string(i) + " is missing");
  if (ctx.num_outputs() == 0) return Internal(op + ": no output slot");
  return Status::Ok();
}

Status AllocateOutput(const std::string& op, CudaKernelContext& ctx, size_t index, DType dtype, const Shape& shape) {
  Status s = ctx.exec.AllocateOutput(index, dtype, shape);
  return s.ok() ? s : Status(s.code(), op + ": " + s.message());
}

Status LaunchStatus(const std::string& op) {
  const cudaError_t error = cudaGetLastError();
  if (error == cudaSuccess) return Status::Ok();
  return Internal(op + ": CUDA launch failed: " + cudaGetErrorString(error));
}

bool HostInts(const CudaKernelContext& ctx, size_t i, std::vector<int64_t>* values) {
  if (i >= ctx.inputs.size() || !ctx.inputs[i]) return false;
  const Tensor& t = *ctx.inputs[i];
  if (t.num_elements() != 0 && (!t.buffer || !t.device().is_host())) return false;
  return ReadIntList(t, values);
}

Status UploadToDevice(CudaPrepareContext& ctx, const void* data, size_t size_bytes, std::shared_ptr<Buffer>* out) {
  MAAS_RETURN_IF_ERROR(ctx.allocate(size_bytes, out));
  if (size_bytes == 0) return Status::Ok();
  cudaError_t error = cudaMemcpyAsync((*out)->data(), data, size_bytes, cudaMemcpyHostToDevice, ctx.stream);
  if (error == cudaSuccess) error = cudaStreamSynchronize(ctx.stream);
  if (error != cudaSuccess) return Internal(std::string("uploading a weight: ") + cudaGetErrorString(error));
  return Status::Ok();
}

StreamScratch::StreamScratch(const CudaKernelContext& ctx, size_t size_bytes)
    : stream_(ctx.stream), size_bytes_(size_bytes) {
  constexpr size_t kAlign = 256;
  const size_t rounded = (size_bytes + kAlign - 1) / kAlign * kAlign;
  void* planned = ctx.exec.workspace();
  const size_t planned_bytes = ctx.exec.workspace_bytes();
  if (planned && planned_bytes >= rounded) {
    data_ = size_bytes ? planned : nullptr;
    rest_ = static_cast<char*>(planned) + rounded;
    rest_bytes_ = planned_bytes - rounded;
    if (rest_bytes_ == 0) rest_ = nullptr;
    return;
  }
  if (size_bytes == 0) return;
  if (cudaMallocAsync(&data_, size_bytes, stream_) == cudaSuccess) {
    owned_ = true;
  } else {
    data_ = nullptr;
    cudaGetLastError();  // the failure is reported through ok(), not left sticky
  }
}

StreamScratch::~StreamScratch() {
  if (owned_) cudaFreeAsync(data_, stream_);
}

}  // namespace maas::cuda
