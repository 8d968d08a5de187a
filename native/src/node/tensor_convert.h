// Tensors across the JS boundary without copies: JS typed arrays are
// borrowed as engine inputs, engine outputs become external ArrayBuffers.
#pragma once
#include <napi.h>

#include <string>

#include "maas/engine.h"
#include "node/addon_data.h"

namespace maas {
namespace node {

// The largest ArrayBuffer this binding hands to JS: napi_create_external_arraybuffer
// goes through node::Buffer::New, which refuses more than Buffer's kMaxLength
// (2^32 bytes in Node 20). Session limits are capped to it, so the engine
// refuses such outputs (OUTPUT_TOO_LARGE) before it allocates them.
constexpr uint64_t kMaxHandOutBytes = uint64_t{1} << 32;

// Reads {type, dims, data} into a tensor that owns a copy of `data`: the
// engine never reads JS memory from its threads, so JS may detach, transfer
// or resize the array while the run is in flight (the README's engine API).
// kInvalidArgument for a bad tensor, kOutOfMemory when the copy cannot be
// allocated, kInvalidArgument above `max_bytes` (the session's tensor limit;
// 0: none) before anything is copied. `strings` is AddonData::strings' array.
Status CopyJsTensor(const Napi::Array& strings, const Napi::Value& value, const std::string& name, uint64_t max_bytes,
                    Tensor* tensor);

// {type, dims, data} over the tensor's buffer; the ArrayBuffer's finalizer
// drops the engine's reference. Throws Napi::Error (with a `code`) on
// failure, never leaving a JS exception pending.
Napi::Object ToJsTensor(Napi::Env env, const Napi::Array& strings, const Tensor& tensor);

// The TypedArray class name each dtype travels in ("Float32Array"...);
// nullptr for a dtype JS cannot hold. The addon's copy of native/types.ts
// TENSOR_TYPES (engineTables() lets a test compare them).
const char* JsArrayName(DType dtype);

// {name, type, dims} with -1 for unknown dims.
Napi::Array ToJsMetadata(Napi::Env env, const std::vector<TensorMetadata>& metadata);

}  // namespace node
}  // namespace maas
