// CUDA device enumeration through the runtime API. Any CUDA error (no
// driver, no device, a driver older than the runtime) means "no devices":
// a CPU-only host is normal, not a failure.
#include <cuda_runtime.h>

#include "maas/backend.h"

namespace maas {

std::vector<DeviceInfo> ListCudaDevices() {
  std::vector<DeviceInfo> devices;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count <= 0) {
    cudaGetLastError();  // clear the sticky error so later CUDA calls start clean
    return devices;
  }
  for (int id = 0; id < count; ++id) {
    cudaDeviceProp props;
    if (cudaGetDeviceProperties(&props, id) != cudaSuccess) {
      cudaGetLastError();
      return {};
    }
    DeviceInfo info;
    info.id = id;
    info.name = props.name;
    info.total_memory_bytes = static_cast<uint64_t>(props.totalGlobalMem);
    info.compute_capability_major = props.major;
    info.compute_capability_minor = props.minor;
    devices.push_back(std::move(info));
  }
  return devices;
}

}  // namespace maas
