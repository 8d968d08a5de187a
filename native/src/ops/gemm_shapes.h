// Names and shape rules of the matrix-product ops that kernels share with
// the schemas (native/src/ops/gemm.cc).
#pragma once
#include <cstdint>

#include "maas/tensor.h"

namespace maas {

// The engine's fused forms (ops/gemm.cc describes them).
constexpr const char* kFusedGemmOp = "maas.FusedGemm";
constexpr const char* kFusedMatMulOp = "maas.FusedMatMul";

// True when Gemm's C of shape `c` broadcasts one-way to [m, n] (unknown dims pass).
bool GemmCBroadcasts(const Shape& c, int64_t m, int64_t n);

}  // namespace maas
