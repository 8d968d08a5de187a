// The CUDA backend (maas::Backend on one CUDA device): kernels come from the
// registry behind native/cuda/cuda_kernel.h, memory from the device's
// caching allocator, streams with pinned staging from cuda_stream.h.
// docs/cuda.md describes streams, memory, completion and faults.
#pragma once
#include <memory>

#include "maas/backend.h"

namespace maas::cuda {

// The BackendFactory registered for DeviceKind::kCuda (at static
// initialization, by cuda_backend.cc). kUnsupported naming the reason when
// the machine has no driver or no such device.
Status CreateCudaBackend(const BackendOptions& options, std::unique_ptr<Backend>* out);

}  // namespace maas::cuda
