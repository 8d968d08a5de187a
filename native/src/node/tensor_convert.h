// Tensors across the JS boundary without copies: JS typed arrays are
// borrowed as engine inputs, engine outputs become external ArrayBuffers.
#pragma once
#include <napi.h>

#include <string>

#include "maas/engine.h"
#include "node/addon_data.h"

namespace maas {
namespace node {

// Reads {type, dims, data} into a tensor that borrows `data`'s memory. The
// caller must keep `data` alive (a reference) until the engine is done.
// On a bad tensor returns false with `error` set (for ENGINE_INVALID_ARGUMENT).
// `strings` is AddonData::strings' array.
bool BorrowJsTensor(const Napi::Array& strings, const Napi::Value& value, const std::string& name, Tensor* tensor,
                    Napi::Object* data_object, std::string* error);

// {type, dims, data} over the tensor's buffer; the ArrayBuffer's finalizer
// drops the engine's reference. Throws Napi::Error on failure.
Napi::Object ToJsTensor(Napi::Env env, const Napi::Array& strings, const Tensor& tensor);

// {name, type, dims} with -1 for unknown dims.
Napi::Array ToJsMetadata(Napi::Env env, const std::vector<TensorMetadata>& metadata);

}  // namespace node
}  // namespace maas
