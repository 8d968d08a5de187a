// The CPU's activation functions, shared by the standalone kernels (Relu,
// Sigmoid, Tanh) and the GEMM epilogue of the fused ops, so a fused node
// computes exactly what the unfused pair would.
#pragma once
#include <cmath>
#include <cstdint>

#include "cpu/fast_math.h"
#include "ops/activation.h"

namespace maas {

struct ReluFn {
  template <typename T>
  static T Apply(T x) {
    return x > T(0) ? x : T(0);
  }
};
struct SigmoidFn {
  static float Apply(float x) { return StableSigmoid(x); }
  static double Apply(double x) {
    const double e = std::exp(-std::fabs(x));
    return (x >= 0 ? 1.0 : e) / (1.0 + e);
  }
};
struct TanhFn {
  template <typename T>
  static T Apply(T x) {
    return std::tanh(x);
  }
};

// y[i] = act(y[i]) for i in [0, n).
void ApplyActivation(const ActivationSpec& spec, float* y, int64_t n);

}  // namespace maas
