// CUDA errors as engine Statuses. A sticky error (the context is lost:
// illegal address, launch failure, ECC) becomes kDeviceFault, which the
// gateway reads as "this model version is unavailable" rather than as one
// failed request (docs/cuda.md, "Faults"); out of memory becomes kOutOfMemory.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "maas/status.h"

namespace maas::cuda {

inline bool IsStickyError(cudaError_t error) {
  switch (error) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout: return true;
    default: return false;
  }
}

// Ok for cudaSuccess; otherwise `what` plus CUDA's own name and text.
inline Status FromCuda(cudaError_t error, const std::string& what) {
  if (error == cudaSuccess) return Status::Ok();
  const std::string text = what + ": " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")";
  if (error == cudaErrorMemoryAllocation) return Status(StatusCode::kOutOfMemory, text);
  if (IsStickyError(error))
    return Status(StatusCode::kDeviceFault, "CUDA device fault, the device needs a restart: " + text);
  return Status(StatusCode::kInternal, text);
}

}  // namespace maas::cuda
