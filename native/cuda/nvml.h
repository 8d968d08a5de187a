// NVML (libnvidia-ml.so.1, part of the driver) loaded at run time, for what
// the CUDA runtime cannot tell: utilization and memory used by every
// process. Absent library or failed init: Query reports nothing known.
#pragma once
#include <cstdint>
#include <string>

namespace maas::cuda {

struct NvmlSample {
  bool known = false;
  int utilization_percent = -1;
  int64_t memory_used_bytes = -1;
};

// The device with this UUID ("GPU-..."): NVML numbers devices in PCI order,
// which need not be CUDA's, so devices are matched by UUID.
NvmlSample QueryNvml(const std::string& uuid);

}  // namespace maas::cuda
