#include "nvml.h"

#include <dlfcn.h>

#include <mutex>

namespace maas::cuda {

namespace {

// The few NVML declarations we use (NVML's C ABI; values from its API docs).
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
struct NvmlDeviceOpaque;
using NvmlDevice = NvmlDeviceOpaque*;
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct Nvml {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*by_uuid)(const char*, NvmlDevice*) = nullptr;
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*) = nullptr;
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;
  bool ready = false;
};

template <typename Fn>
bool Resolve(void* library, const char* name, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(library, name));
  return *fn != nullptr;
}

// Loaded once; the handle is kept for the process's life (never dlclosed:
// NVML keeps threads of its own).
const Nvml& LoadNvml() {
  static Nvml nvml;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return;
    Nvml loaded;
    if (!Resolve(library, "nvmlInit_v2", &loaded.init) ||
        !Resolve(library, "nvmlDeviceGetHandleByUUID", &loaded.by_uuid) ||
        !Resolve(library, "nvmlDeviceGetUtilizationRates", &loaded.utilization) ||
        !Resolve(library, "nvmlDeviceGetMemoryInfo", &loaded.memory))
      return;
    if (loaded.init() != kNvmlSuccess) return;
    loaded.ready = true;
    nvml = loaded;
  });
  return nvml;
}

}  // namespace

NvmlSample QueryNvml(const std::string& uuid) {
  NvmlSample sample;
  const Nvml& nvml = LoadNvml();
  if (!nvml.ready || uuid.empty()) return sample;
  NvmlDevice device = nullptr;
  if (nvml.by_uuid(uuid.c_str(), &device) != kNvmlSuccess) return sample;
  NvmlUtilization utilization{};
  if (nvml.utilization(device, &utilization) == kNvmlSuccess)
    sample.utilization_percent = static_cast<int>(utilization.gpu);
  NvmlMemory memory{};
  if (nvml.memory(device, &memory) == kNvmlSuccess) sample.memory_used_bytes = static_cast<int64_t>(memory.used);
  sample.known = true;
  return sample;
}

}  // namespace maas::cuda
