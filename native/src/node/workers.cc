#include "node/workers.h"

#include <new>

#include "node/guarded.h"
#include "node/js_errors.h"
#include "node/session_wrap.h"

namespace maas {
namespace node {

// ---- load ------------------------------------------------------------------------

LoadWorker::LoadWorker(Napi::Env env, std::shared_ptr<HostBuffer> bytes, SessionOptions options)
    : Napi::AsyncWorker(env, "maas.loadModel"),
      deferred_(Napi::Promise::Deferred::New(env)),
      bytes_(std::move(bytes)),
      options_(std::move(options)) {}

void LoadWorker::Execute() {
  status_ = Guarded([&] {
    return Session::Load(static_cast<const uint8_t*>(bytes_->data()), bytes_->size_bytes(), options_, &session_);
  });
  bytes_.reset();  // the session keeps what it needs
}

void LoadWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (!status_.ok()) {
    RejectWith(deferred_, StatusCodeName(status_.code()), status_.message());
    return;
  }
  try {
    deferred_.Resolve(
        SessionWrap::NewInstance(env, std::shared_ptr<const Session>(session_.release()), options_.max_tensor_bytes));
  } catch (const Napi::Error& e) {
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
      // The environment is being torn down: nothing can be reported.
    }
  } catch (const std::exception& e) {
    RejectWith(deferred_, StatusCodeName(StatusCode::kInternal), e.what());
  }
}

}  // namespace node
}  // namespace maas
