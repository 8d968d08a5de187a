#include "node/workers.h"

#include <new>

#include "node/js_errors.h"
#include "node/session_wrap.h"
#include "node/tensor_convert.h"

namespace maas {
namespace node {

namespace {

// Runs engine work on a pool thread; nothing may escape into libuv.
template <typename Fn>
Status Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return Internal(e.what());
  } catch (...) {
    return Internal("unknown failure");
  }
}

}  // namespace

// ---- load ------------------------------------------------------------------------

LoadWorker::LoadWorker(Napi::Env env, Napi::Uint8Array bytes, SessionOptions options)
    : Napi::AsyncWorker(env, "maas.loadModel"),
      deferred_(Napi::Promise::Deferred::New(env)),
      bytes_ref_(Napi::Persistent(bytes)),
      bytes_(bytes.Data()),
      size_bytes_(bytes.ByteLength()),
      options_(options) {}

void LoadWorker::Execute() {
  status_ = Guarded([&] { return Session::Load(bytes_, size_bytes_, options_, &session_); });
}

void LoadWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (!status_.ok()) {
    RejectWith(deferred_, StatusCodeName(status_.code()), status_.message());
    return;
  }
  try {
    deferred_.Resolve(SessionWrap::NewInstance(env, std::shared_ptr<const Session>(session_.release())));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (const std::exception& e) {
    RejectWith(deferred_, StatusCodeName(StatusCode::kInternal), e.what());
  }
}

// ---- run -------------------------------------------------------------------------

RunWorker::RunWorker(Napi::Env env, std::shared_ptr<const Session> session, std::vector<NamedTensor> feeds,
                     std::vector<Napi::ObjectReference> keep_alive)
    : Napi::AsyncWorker(env, "maas.run"),
      deferred_(Napi::Promise::Deferred::New(env)),
      session_(std::move(session)),
      feeds_(std::move(feeds)),
      keep_alive_(std::move(keep_alive)) {}

void RunWorker::Execute() {
  status_ = Guarded([&] { return session_->Run(feeds_, &outputs_); });
}

void RunWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (!status_.ok()) {
    RejectWith(deferred_, StatusCodeName(status_.code()), status_.message());
    return;
  }
  try {
    Napi::Array names = Napi::Array::New(env, outputs_.size());
    Napi::Array tensors = Napi::Array::New(env, outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) {
      names.Set(static_cast<uint32_t>(i), Napi::String::New(env, outputs_[i].name));
      tensors.Set(static_cast<uint32_t>(i), ToJsTensor(env, outputs_[i].tensor));
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("names", names);
    result.Set("tensors", tensors);
    deferred_.Resolve(result);
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (const std::exception& e) {
    RejectWith(deferred_, StatusCodeName(StatusCode::kInternal), e.what());
  }
}

}  // namespace node
}  // namespace maas
