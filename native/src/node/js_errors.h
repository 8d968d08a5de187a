// Engine Status → JS Error with a `code` (ENGINE_*). The only place errors
// cross into JS.
#pragma once
#include <napi.h>

#include <string>

#include "maas/status.h"

namespace maas {
namespace node {

// The code for a session used after release(); no engine Status maps to it.
constexpr const char* kReleasedCode = "ENGINE_RELEASED";

Napi::Error MakeJsError(Napi::Env env, const char* code, const std::string& message);
Napi::Error MakeJsError(Napi::Env env, const Status& status);

// Rejects with a fresh error. Safe to call with a pending JS exception
// cleared; never throws.
void RejectWith(const Napi::Promise::Deferred& deferred, const char* code, const std::string& message);

}  // namespace node
}  // namespace maas
