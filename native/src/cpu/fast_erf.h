// erf, tanh and the two GELUs in float32, branch-free so loops over them
// vectorize (libm's erff and tanhf are scalar calls). Used by the Erf, Gelu
// and Tanh-based kernels; float64 uses libm.
#pragma once
#include <cmath>

#include "cpu/fast_math.h"

namespace maas {

// erf(x), absolute error below 2e-7 over the float range.
//   |x| < 1:      x · A(x²)                 A: degree 5, least squares
//   1 <= |x| < 4: 1 − e^(−x²) · B(1/|x|)    B: degree 8, fitted to erfc(x)·e^(x²)
//   |x| >= 4:     ±1 (erfc(4) = 1.5e-8 is below float's resolution at 1)
// Coefficients fitted for this engine (relative error weighting on
// Chebyshev nodes); both pieces are computed and one is selected.
inline float FastErf(float x) {
  const float ax = std::fabs(x);
  const float s = x * x;
  float a = -5.625395973e-04f;
  a = a * s + 4.916023389e-03f;
  a = a * s + -2.670994955e-02f;
  a = a * s + 1.128013026e-01f;
  a = a * s + -3.761231973e-01f;
  a = a * s + 1.128379121e+00f;
  const float small = x * a;
  const float clamped = std::fmin(std::fmax(ax, 1.0f), 4.0f);
  const float u = 1.0f / clamped;
  float b = -1.007576985e-02f;
  b = b * u + 3.165554392e-02f;
  b = b * u + 1.721281277e-02f;
  b = b * u + -2.342706962e-01f;
  b = b * u + 4.915504754e-01f;
  b = b * u + -4.692513672e-01f;
  b = b * u + 4.135510983e-02f;
  b = b * u + 5.591439190e-01f;
  b = b * u + 2.635271085e-04f;
  float large = std::fmin(1.0f - FastExp(-clamped * clamped) * b, 1.0f);
  large = ax >= 4.0f ? 1.0f : large;
  large = std::copysign(large, x);
  const float result = ax < 1.0f ? small : large;
  return x != x ? x : result;
}

// tanh(x) = 1 − 2 / (e^(2x) + 1), saturating to ±1; absolute error ~1e-7.
inline float FastTanh(float x) {
  const float clamped = std::fmin(std::fmax(x, -10.0f), 10.0f);
  const float result = 1.0f - 2.0f / (FastExp(2.0f * clamped) + 1.0f);
  return x != x ? x : result;
}

// GELU, exact form: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
inline float GeluErf(float x) { return 0.5f * x * (1.0f + FastErf(x * 0.70710678118654752f)); }
inline double GeluErf(double x) { return 0.5 * x * (1.0 + std::erf(x * 0.70710678118654752)); }

// GELU, tanh approximation: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
constexpr double kSqrtTwoOverPi = 0.79788456080286536;
constexpr double kGeluCubic = 0.044715;
inline float GeluTanh(float x) {
  const float inner = static_cast<float>(kSqrtTwoOverPi) * (x + static_cast<float>(kGeluCubic) * x * x * x);
  return 0.5f * x * (1.0f + FastTanh(inner));
}
inline double GeluTanh(double x) { return 0.5 * x * (1.0 + std::tanh(kSqrtTwoOverPi * (x + kGeluCubic * x * x * x))); }

}  // namespace maas
