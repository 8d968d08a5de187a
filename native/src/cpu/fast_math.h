// Branch-free float math that the compiler can vectorize (libm calls block
// vectorization). Accurate to a few ulp over the float range.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace maas {

// e^x: x = n*ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n
// built in the exponent bits (in two halves, so 2^128 and the subnormal
// range are reachable). 0 below -104, +inf above 88.72; NaN propagates.
inline float FastExp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln2 split so n*kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  const float clamped = std::fmin(std::fmax(x, -104.0f), 88.72f);
  const float n = std::nearbyint(clamped * kLog2e);
  const float r = (clamped - n * kLn2Hi) - n * kLn2Lo;
  // Taylor coefficients 1/k!, evaluated by Horner.
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t n_int = static_cast<int32_t>(n);
  const int32_t half = n_int / 2;
  const int32_t bits_lo = (half + 127) << 23;
  const int32_t bits_hi = (n_int - half + 127) << 23;
  float scale_lo, scale_hi;
  std::memcpy(&scale_lo, &bits_lo, sizeof(float));
  std::memcpy(&scale_hi, &bits_hi, sizeof(float));
  float result = p * scale_lo * scale_hi;
  result = x > 88.72f ? INFINITY : result;
  result = x < -104.0f ? 0.0f : result;
  return x != x ? x : result;
}

// 1 / (1 + e^-x) without overflow: uses e^-|x| <= 1 on both sides.
inline float StableSigmoid(float x) {
  const float e = FastExp(-std::fabs(x));
  const float numerator = x >= 0.0f ? 1.0f : e;
  return numerator / (1.0f + e);
}

}  // namespace maas
