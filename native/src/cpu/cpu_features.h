// Which vector instruction sets the CPU backend may use, decided once per
// process from the CPU's features (and the OS's support for their register
// state). Kernels with ISA-specific variants (the GEMM micro-kernels, the
// vectorized elementwise loops) pick theirs through DetectCpuIsa().
//
// MAAS_CPU_ISA=portable|avx2|avx512 in the environment caps the choice (to
// compare ISAs on one machine, or to rule one out); a level the CPU lacks
// falls back to the best one below it.
#pragma once

namespace maas {

// Ordered: each level implies the ones before it.
enum class CpuIsa { kPortable = 0, kAvx2Fma = 1, kAvx512 = 2 };

// Whether this CPU (and OS) can run code for `isa`, ignoring MAAS_CPU_ISA.
bool CpuSupportsIsa(CpuIsa isa);
// The best ISA the CPU supports, capped by MAAS_CPU_ISA (detected once).
CpuIsa DetectCpuIsa();
// `wanted` when the CPU supports it, else the best supported level below.
CpuIsa UsableIsa(CpuIsa wanted);
const char* CpuIsaName(CpuIsa isa);  // "portable", "avx2-fma", "avx512"
// Single-precision lanes of one vector register of `isa` (4, 8, 16).
int IsaFloatLanes(CpuIsa isa);

}  // namespace maas
