// CUDA device enumeration through the runtime API, with NVML's utilization
// and memory used when the driver ships it. Any CUDA error (no driver, no
// device, a driver older than the runtime) means "no devices": a CPU-only
// host is normal, not a failure.
#include <cuda_runtime.h>

#include <cstdio>

#include "maas/backend.h"
#include "nvml.h"

namespace maas {

namespace {

// NVML's and Triton's form: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
std::string UuidText(const cudaUUID_t& uuid) {
  const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
  char text[64];
  std::snprintf(text, sizeof(text), "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

}  // namespace

std::vector<DeviceInfo> ListCudaDevices() {
  std::vector<DeviceInfo> devices;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count <= 0) {
    cudaGetLastError();  // clear the error so later CUDA calls start clean
    return devices;
  }
  int driver_version = 0;
  int runtime_version = 0;
  cudaDriverGetVersion(&driver_version);
  cudaRuntimeGetVersion(&runtime_version);
  int current = 0;
  cudaGetDevice(&current);
  for (int id = 0; id < count; ++id) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, id) != cudaSuccess) {
      cudaGetLastError();
      return {};
    }
    DeviceInfo info;
    info.id = id;
    info.name = props.name;
    info.uuid = UuidText(props.uuid);
    info.total_memory_bytes = static_cast<uint64_t>(props.totalGlobalMem);
    info.compute_capability_major = props.major;
    info.compute_capability_minor = props.minor;
    info.driver_version = driver_version;
    info.runtime_version = runtime_version;
    const cuda::NvmlSample sample = cuda::QueryNvml(info.uuid);
    info.utilization_percent = sample.utilization_percent;
    info.memory_used_bytes = sample.memory_used_bytes;
    if (sample.memory_used_bytes >= 0) {
      const auto used = static_cast<uint64_t>(sample.memory_used_bytes);
      info.free_memory_bytes = used < info.total_memory_bytes ? info.total_memory_bytes - used : 0;
    } else {
      // Without NVML: cudaMemGetInfo reports the current device (making its
      // context, once per process).
      size_t free_bytes = 0;
      size_t total_bytes = 0;
      if (cudaSetDevice(id) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
        info.free_memory_bytes = free_bytes;
      cudaGetLastError();
    }
    devices.push_back(std::move(info));
  }
  cudaSetDevice(current);
  cudaGetLastError();
  return devices;
}

}  // namespace maas
