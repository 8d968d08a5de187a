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

LoadWorker::LoadWorker(Napi::Env env, std::shared_ptr<HostBuffer> bytes, SessionOptions options)
    : Napi::AsyncWorker(env, "maas.loadModel"),
      deferred_(Napi::Promise::Deferred::New(env)),
      bytes_(std::move(bytes)),
      options_(options) {}

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
    deferred_.Reject(e.Value());
  } catch (const std::exception& e) {
    RejectWith(deferred_, StatusCodeName(StatusCode::kInternal), e.what());
  }
}

// ---- run -------------------------------------------------------------------------

RunJob::RunJob(napi_env env, AddonData* addon, std::shared_ptr<const Session> session, std::vector<NamedTensor> feeds)
    : env_(env), addon_(addon), session_(std::move(session)), feeds_(std::move(feeds)) {}

RunJob::~RunJob() {
  // Only on the JS thread (after Complete, or when Start fails).
  if (work_) napi_delete_async_work(env_, work_);
}

Napi::Value RunJob::Start(Napi::Env env, AddonData* addon, std::shared_ptr<const Session> session,
                          std::vector<NamedTensor> feeds) {
  std::unique_ptr<RunJob> job(new RunJob(env, addon, std::move(session), std::move(feeds)));
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred_, &promise), Napi::Value());
  napi_status status =
      napi_create_async_work(env, nullptr, addon->strings.Value().Get(static_cast<uint32_t>(kRunResourceName)), Execute,
                             Complete, job.get(), &job->work_);
  if (status == napi_ok) status = napi_queue_async_work(env, job->work_);
  if (status != napi_ok) {
    // The promise exists: settle it rather than throw.
    job->status_ = Internal("cannot queue the run");
    job->Settle(napi_ok);
    job.reset();
    return Napi::Value(env, promise);
  }
  job.release();  // Complete deletes it
  return Napi::Value(env, promise);
}

void RunJob::Execute(napi_env /*env*/, void* data) {
  auto* job = static_cast<RunJob*>(data);
  job->status_ = Guarded([&] { return job->session_->Run(job->feeds_, &job->outputs_); });
}

void RunJob::Complete(napi_env env, napi_status status, void* data) {
  std::unique_ptr<RunJob> job(static_cast<RunJob*>(data));
  Napi::HandleScope scope(env);
  job->Settle(status);
}

// Resolves with the outputs' tensors, in the session's output order, or
// rejects; never throws into Node.
void RunJob::Settle(napi_status work_status) {
  Napi::Env env(env_);
  auto reject = [&](const char* code, const std::string& message) {
    try {
      napi_reject_deferred(env_, deferred_, MakeJsError(env, code, message).Value());
    } catch (const Napi::Error&) {
      // Creating the error failed (the environment is shutting down).
    }
  };
  if (work_status == napi_cancelled) return reject(StatusCodeName(StatusCode::kInternal), "the run was cancelled");
  if (!status_.ok()) return reject(StatusCodeName(status_.code()), status_.message());
  try {
    Napi::Array strings = addon_->strings.Value().As<Napi::Array>();
    Napi::Array tensors = Napi::Array::New(env, outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i)
      tensors.Set(static_cast<uint32_t>(i), ToJsTensor(env, strings, outputs_[i].tensor));
    outputs_.clear();  // small outputs were copied: free the engine's memory now
    napi_resolve_deferred(env_, deferred_, tensors);
  } catch (const Napi::Error& e) {
    // Napi::Error took the JS exception, so none is pending here.
    napi_reject_deferred(env_, deferred_, e.Value());
  } catch (const std::bad_alloc&) {
    reject(StatusCodeName(StatusCode::kOutOfMemory), "out of memory while handing the outputs to JS");
  } catch (const std::exception& e) {
    reject(StatusCodeName(StatusCode::kInternal), e.what());
  }
}

}  // namespace node
}  // namespace maas
