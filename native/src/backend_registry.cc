// Which backend serves which device kind. The CPU is always there; other
// kinds come from factories their libraries register (docs/engine.md,
// "Adding a backend").
#include <mutex>

#include "cpu/cpu_backend.h"
#include "maas/backend.h"

namespace maas {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

BackendFactory& CudaFactory() {
  static BackendFactory factory = nullptr;
  return factory;
}

}  // namespace

BackendFactory RegisterBackendFactory(DeviceKind kind, BackendFactory factory) {
  if (kind == DeviceKind::kCpu) return CreateCpuBackend;
  std::lock_guard<std::mutex> lock(RegistryMutex());
  BackendFactory previous = CudaFactory();
  CudaFactory() = factory;
  return previous;
}

Status CreateBackend(const BackendOptions& options, std::unique_ptr<Backend>* out) {
  if (options.device.is_host()) return CreateCpuBackend(options, out);
  BackendFactory factory;
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    factory = CudaFactory();
  }
  const std::string name = DeviceName(options.device);
  if (!factory) {
#ifdef MAAS_WITH_CUDA
    return Unsupported("device '" + name + "' is not available: this build has no CUDA execution backend yet");
#else
    return Unsupported("device '" + name + "' is not available: this engine was built without CUDA");
#endif
  }
  return factory(options, out);
}

}  // namespace maas
