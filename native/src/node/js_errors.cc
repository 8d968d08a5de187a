#include "node/js_errors.h"

namespace maas {
namespace node {

Napi::Error MakeJsError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error MakeJsError(Napi::Env env, const Status& status) {
  return MakeJsError(env, StatusCodeName(status.code()), status.message());
}

void RejectWith(const Napi::Promise::Deferred& deferred, const char* code, const std::string& message) {
  try {
    deferred.Reject(MakeJsError(deferred.Env(), code, message).Value());
  } catch (...) {
    // Creating the error failed (the environment is shutting down):
    // nothing can be reported.
  }
}

}  // namespace node
}  // namespace maas
