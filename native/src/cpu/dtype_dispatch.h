// From a run-time DType to a C++ element type, for kernels written once as
// templates. A kernel names the types it implements as a TypeList and calls
//   DispatchDType<ArithmeticTypes>(tensor.dtype, [&](auto tag) {
//     using T = decltype(tag);
//     ... T-typed loop ...
//   });
// which returns false for a dtype outside the list. The same list gives the
// kernel's registration its dtypes (DTypesOf<List>()), so what a kernel
// declares and what it dispatches cannot drift apart.
#pragma once
#include <cstdint>
#include <vector>

#include "cpu/half.h"
#include "maas/tensor.h"

namespace maas {

template <typename... Ts>
struct TypeList {};

// The DType a C++ element type stores (bool is ONNX's 1-byte bool).
template <typename T>
struct DTypeOfType;
template <>
struct DTypeOfType<float> {
  static constexpr DType value = DType::kFloat32;
};
template <>
struct DTypeOfType<double> {
  static constexpr DType value = DType::kFloat64;
};
template <>
struct DTypeOfType<int8_t> {
  static constexpr DType value = DType::kInt8;
};
template <>
struct DTypeOfType<int16_t> {
  static constexpr DType value = DType::kInt16;
};
template <>
struct DTypeOfType<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DTypeOfType<int64_t> {
  static constexpr DType value = DType::kInt64;
};
template <>
struct DTypeOfType<uint8_t> {
  static constexpr DType value = DType::kUint8;
};
template <>
struct DTypeOfType<uint16_t> {
  static constexpr DType value = DType::kUint16;
};
template <>
struct DTypeOfType<uint32_t> {
  static constexpr DType value = DType::kUint32;
};
template <>
struct DTypeOfType<uint64_t> {
  static constexpr DType value = DType::kUint64;
};
template <>
struct DTypeOfType<bool> {
  static constexpr DType value = DType::kBool;
};
template <>
struct DTypeOfType<Float16> {
  static constexpr DType value = DType::kFloat16;
};
template <>
struct DTypeOfType<BFloat16> {
  static constexpr DType value = DType::kBFloat16;
};
template <typename T>
constexpr DType kDTypeOf = DTypeOfType<T>::value;

using FloatTypes = TypeList<float, double>;
// The 16-bit floats: storage types, computed in float32 (cpu/half.h).
using HalfTypes = TypeList<Float16, BFloat16>;
using IntegerTypes = TypeList<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using ArithmeticTypes =
    TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using AllTypes =
    TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, bool>;

// Calls fn(T{}) for the T in `List` that stores `dtype`; false when none does.
template <typename List, typename Fn>
struct Dispatcher;
template <typename... Ts, typename Fn>
struct Dispatcher<TypeList<Ts...>, Fn> {
  static bool Run(DType dtype, Fn& fn) {
    bool found = false;
    // Left to right, stopping at the first match.
    (void)((dtype == kDTypeOf<Ts> ? (fn(Ts{}), found = true) : false) || ...);
    return found;
  }
};
template <typename List, typename Fn>
bool DispatchDType(DType dtype, Fn&& fn) {
  return Dispatcher<List, Fn>::Run(dtype, fn);
}

// The DTypes of a list, for CpuKernel::dtypes.
template <typename... Ts>
std::vector<DType> DTypesOf(TypeList<Ts...>) {
  return {kDTypeOf<Ts>...};
}
template <typename List>
std::vector<DType> DTypesOf() {
  return DTypesOf(List{});
}

}  // namespace maas
