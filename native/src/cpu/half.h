// The two 16-bit float storage types: IEEE binary16 (float16) and bfloat16
// (float32's upper half). Kernels store them as these structs and compute
// in float32: each element is widened, the op runs in float, the result is
// rounded once (round to nearest, ties to even). Conversions keep NaN a NaN
// (quiet, sign and top payload bits kept), Inf an Inf, and handle float16
// subnormals exactly.
#pragma once
#include <cstdint>
#include <cstring>

namespace maas {

struct Float16 {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

inline uint32_t FloatBits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float FloatFromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// float32 → binary16, round to nearest even.
inline uint16_t FloatToHalfBits(float value) {
  const uint32_t u = FloatBits(value);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t magnitude = u & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {
    // Inf stays Inf; a NaN keeps its top payload bits and is made quiet.
    if (magnitude == 0x7f800000u) return sign | 0x7c00u;
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  // 65520 = 65504 + half an ulp: from there on, rounding reaches 2^16 = Inf.
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;
  if (magnitude < 0x38800000u) {
    // Below 2^-14 the result is subnormal (or zero): its unit is 2^-24.
    // Adding 0.5 (2^-1) shifts the value so float's own rounding, at a unit
    // of 2^-24, does the ties-to-even rounding; the low bits are the result.
    const float shifted = FloatFromBits(magnitude) + 0.5f;
    return static_cast<uint16_t>(sign | (FloatBits(shifted) - 0x3f000000u));
  }
  // Normal: rebias the exponent (127 → 15) and drop 13 mantissa bits,
  // rounding half to even through the bias added before the shift.
  const uint32_t odd = (magnitude >> 13) & 1u;
  const uint32_t rebiased = magnitude - (uint32_t{112} << 23) + 0xfffu + odd;
  return static_cast<uint16_t>(sign | (rebiased >> 13));
}

// binary16 → float32 (exact).
inline float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return FloatFromBits(sign | 0x7f800000u | (mantissa << 13));  // Inf, NaN
  if (exponent != 0) return FloatFromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa · 2^-24, exact in float.
  const float magnitude = static_cast<float>(mantissa) * FloatFromBits(0x33800000u);  // 2^-24
  return FloatFromBits(sign | FloatBits(magnitude));
}

// float32 → bfloat16, round to nearest even; NaN stays a quiet NaN.
inline uint16_t FloatToBFloat16Bits(float value) {
  const uint32_t u = FloatBits(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  const uint32_t odd = (u >> 16) & 1u;
  return static_cast<uint16_t>((u + 0x7fffu + odd) >> 16);
}

inline float BFloat16BitsToFloat(uint16_t b) { return FloatFromBits(static_cast<uint32_t>(b) << 16); }

// Widening and narrowing, overloaded so templates can say Widen(x) and
// Narrow<T>(f) for any element type.
inline float Widen(Float16 x) { return HalfBitsToFloat(x.bits); }
inline float Widen(BFloat16 x) { return BFloat16BitsToFloat(x.bits); }
template <typename T>
inline T Widen(T x) {
  return x;
}

template <typename T>
struct Narrower {
  template <typename C>
  static T From(C x) {
    return static_cast<T>(x);
  }
};
template <>
struct Narrower<Float16> {
  static Float16 From(float x) { return Float16{FloatToHalfBits(x)}; }
};
template <>
struct Narrower<BFloat16> {
  static BFloat16 From(float x) { return BFloat16{FloatToBFloat16Bits(x)}; }
};
template <typename T, typename C>
inline T Narrow(C x) {
  return Narrower<T>::From(x);
}

// The type a kernel computes in for elements of T: float for the 16-bit
// floats, T itself otherwise.
template <typename T>
struct ComputeTypeOf {
  using type = T;
};
template <>
struct ComputeTypeOf<Float16> {
  using type = float;
};
template <>
struct ComputeTypeOf<BFloat16> {
  using type = float;
};
template <typename T>
using ComputeType = typename ComputeTypeOf<T>::type;

template <typename T>
inline constexpr bool kIsHalf = false;
template <>
inline constexpr bool kIsHalf<Float16> = true;
template <>
inline constexpr bool kIsHalf<BFloat16> = true;

}  // namespace maas
