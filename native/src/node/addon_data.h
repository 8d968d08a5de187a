// Per-environment state of the addon (one per Node worker thread).
#pragma once
#include <napi.h>

#include "maas/tensor.h"

namespace maas {
namespace node {

// Indices into AddonData::strings.
enum AddonString : uint32_t {
  kTypeKey = 0,
  kDimsKey,
  kDataKey,
  kRunResourceName,  // async_hooks name of a run
  kDTypeNameBase,    // + DType value: DTypeName(dtype)
  kDTypeNameEnd = kDTypeNameBase + 16,
};

struct AddonData {
  Napi::FunctionReference session_constructor;
  // Strings every run touches, made once per environment and kept in one
  // array (NAPI_VERSION 8 has no references to strings). The property keys
  // and type names are internalized: V8 would otherwise look a fresh string
  // up in its string table on every property access.
  Napi::ObjectReference strings;
};

void InitAddonStrings(Napi::Env env, AddonData* data);

// The cached JS name of `dtype` from `strings` (AddonData::strings' array).
Napi::Value DTypeNameString(Napi::Env env, const Napi::Array& strings, DType dtype);

}  // namespace node
}  // namespace maas
