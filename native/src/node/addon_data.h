// Per-environment state of the addon (one per Node worker thread).
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "maas/tensor.h"
#include "node/run_queue.h"

namespace maas {
namespace node {

// Indices into AddonData::strings.
enum AddonString : uint32_t {
  kTypeKey = 0,
  kDimsKey,
  kDataKey,
  kDTypeNameBase,                       // + DType value: DTypeName(dtype)
  kDTypeNameEnd = kDTypeNameBase + 17,  // DType values 0 (undefined) to 16 (bfloat16)
};

struct AddonData {
  Napi::FunctionReference session_constructor;
  // Strings every run touches, made once per environment and kept in one
  // array (NAPI_VERSION 8 has no references to strings). The property keys
  // and type names are internalized: V8 would otherwise look a fresh string
  // up in its string table on every property access.
  Napi::ObjectReference strings;
  // Where runs execute and settle (run_queue.h); stopped before this is freed.
  std::unique_ptr<RunQueue> runs;

  AddonData() = default;
  AddonData(const AddonData&) = delete;
  AddonData& operator=(const AddonData&) = delete;
  ~AddonData() {
    if (runs) runs->Stop();
  }
};

void InitAddonStrings(Napi::Env env, AddonData* data);

// `text` as an internalized property key (what napi_set_named_property
// would make): V8 looks such keys up without hashing a fresh string.
Napi::String InternalizedKey(Napi::Env env, const std::string& text);

// The cached JS name of `dtype` from `strings` (AddonData::strings' array).
Napi::Value DTypeNameString(Napi::Env env, const Napi::Array& strings, DType dtype);

}  // namespace node
}  // namespace maas
