#include "cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace maas {

namespace {

CpuIsa HardwareIsa() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's checks include the OS's XSAVE support for the wider registers.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return CpuIsa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::kAvx2Fma;
#endif
  return CpuIsa::kPortable;
}

// The cap from MAAS_CPU_ISA; kAvx512 (no cap) when unset or unknown.
CpuIsa EnvironmentCap() {
  const char* value = std::getenv("MAAS_CPU_ISA");
  if (!value) return CpuIsa::kAvx512;
  if (std::strcmp(value, "portable") == 0) return CpuIsa::kPortable;
  if (std::strcmp(value, "avx2") == 0 || std::strcmp(value, "avx2-fma") == 0) return CpuIsa::kAvx2Fma;
  return CpuIsa::kAvx512;
}

}  // namespace

bool CpuSupportsIsa(CpuIsa isa) {
  static const CpuIsa hardware = HardwareIsa();
  return static_cast<int>(isa) <= static_cast<int>(hardware);
}

CpuIsa UsableIsa(CpuIsa wanted) {
  for (int level = static_cast<int>(wanted); level > 0; --level)
    if (CpuSupportsIsa(static_cast<CpuIsa>(level))) return static_cast<CpuIsa>(level);
  return CpuIsa::kPortable;
}

CpuIsa DetectCpuIsa() {
  static const CpuIsa isa = UsableIsa(EnvironmentCap());
  return isa;
}

const char* CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512: return "avx512";
    case CpuIsa::kAvx2Fma: return "avx2-fma";
    case CpuIsa::kPortable: break;
  }
  return "portable";
}

int IsaFloatLanes(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512: return 16;
    case CpuIsa::kAvx2Fma: return 8;
    case CpuIsa::kPortable: break;
  }
  return 4;
}

}  // namespace maas
