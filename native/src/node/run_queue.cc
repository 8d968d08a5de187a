#include "node/run_queue.h"

#include <napi.h>

#include <algorithm>

#include "node/addon_data.h"
#include "node/guarded.h"
#include "node/js_errors.h"
#include "node/tensor_convert.h"

namespace maas {
namespace node {

namespace {

constexpr int kMaxRunThreadsCap = 64;

// Never throws: while an environment is being torn down (a worker thread
// terminated) every Node-API call fails, and building or reading an error
// throws again; an escaping exception would abort the process.
void RejectDeferred(napi_env env, napi_deferred deferred, const char* code, const std::string& message) {
  try {
    napi_reject_deferred(env, deferred, MakeJsError(Napi::Env(env), code, message).Value());
  } catch (...) {
    // Teardown: nothing can be reported.
  }
}

void RejectDeferred(napi_env env, napi_deferred deferred, const Napi::Error& error) {
  try {
    napi_reject_deferred(env, deferred, error.Value());
  } catch (...) {
    // Teardown: nothing can be reported.
  }
}

}  // namespace

// ---- output keys -----------------------------------------------------------------

OutputKeys::OutputKeys(napi_env env, napi_value keys_array) : env_(env) {
  napi_create_reference(env, keys_array, 1, &ref_);
}

OutputKeys::~OutputKeys() {
  if (ref_) napi_delete_reference(env_, ref_);
}

napi_value OutputKeys::Get(napi_env env) const {
  napi_value value = nullptr;
  napi_get_reference_value(env, ref_, &value);
  return value;
}

// ---- the queue ---------------------------------------------------------------------

RunQueue::RunQueue(napi_env env, int max_threads) : env_(env), max_threads_(max_threads) {}

std::unique_ptr<RunQueue> RunQueue::Create(napi_env env, int max_threads) {
  if (max_threads <= 0) {
    int cores = static_cast<int>(std::thread::hardware_concurrency());
    max_threads = std::min(kMaxRunThreadsCap, std::max(4, 2 * cores));
  }
  std::unique_ptr<RunQueue> queue(new RunQueue(env, max_threads));
  napi_value name = nullptr;
  napi_create_string_utf8(env, "maas.run", NAPI_AUTO_LENGTH, &name);
  // No JS function: the callback settles Promises itself. Never released by
  // a run thread; Stop() releases it. Unref'd while no run is in flight, so
  // an idle engine does not keep the process alive.
  if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, queue.get(),
                                      &RunQueue::DrainOnJsThread, &queue->tsfn_) != napi_ok) {
    return nullptr;
  }
  napi_unref_threadsafe_function(env, queue->tsfn_);
  return queue;
}

RunQueue::~RunQueue() { Stop(); }

int RunQueue::thread_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(threads_.size());
}

napi_value RunQueue::Submit(napi_env env, std::unique_ptr<RunJob> job) {
  napi_value promise = nullptr;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      RejectDeferred(env, job->deferred, StatusCodeName(StatusCode::kCancelled), "the engine is shutting down");
      return promise;
    }
    pending_.push_back(job.release());
    // A thread per run in flight, up to the cap; beyond it runs wait in order.
    if (idle_threads_ == 0 && static_cast<int>(threads_.size()) < max_threads_) {
      threads_.emplace_back([this] { WorkerLoop(); });
    }
  }
  work_ready_.notify_one();
  if (in_flight_++ == 0 && !referenced_) {
    napi_ref_threadsafe_function(env, tsfn_);
    referenced_ = true;
  }
  return promise;
}

void RunQueue::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ++idle_threads_;
    work_ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    --idle_threads_;
    if (stopping_) return;
    RunJob* job = pending_.front();
    pending_.pop_front();
    lock.unlock();
    job->status = Guarded([job] { return job->session->Run(job->feeds, &job->outputs); });
    job->feeds.clear();  // the inputs' copies are not needed any more
    Finished(job);
    lock.lock();
  }
}

// Hands a finished job to the JS thread. Only a push into an empty list
// wakes it: the drain takes the whole list under the same lock, so a job is
// never left behind and never announced twice.
void RunQueue::Finished(RunJob* job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    wake = done_.empty();
    done_.push_back(job);
  }
  if (wake) napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
}

void RunQueue::DrainOnJsThread(napi_env env, napi_value /*js_callback*/, void* context, void* /*data*/) {
  if (env == nullptr) return;  // the function is being torn down
  static_cast<RunQueue*>(context)->SettleAll(env);
}

void RunQueue::SettleAll(napi_env env) {
  std::vector<RunJob*> finished;
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    finished.swap(done_);
  }
  for (RunJob* job : finished) {
    napi_handle_scope scope = nullptr;
    napi_open_handle_scope(env, &scope);
    Settle(env, job);
    napi_close_handle_scope(env, scope);
    delete job;
  }
  in_flight_ -= static_cast<int>(finished.size());
  if (in_flight_ == 0 && referenced_) {
    napi_unref_threadsafe_function(env, tsfn_);
    referenced_ = false;
  }
}

// Resolves with {outputName: tensor} in the session's output order, or
// rejects; never throws into Node.
void RunQueue::Settle(napi_env raw_env, RunJob* job) {
  Napi::Env env(raw_env);
  if (!job->status.ok())
    return RejectDeferred(raw_env, job->deferred, StatusCodeName(job->status.code()), job->status.message());
  try {
    AddonData* addon = env.GetInstanceData<AddonData>();
    Napi::Array strings = addon->strings.Value().As<Napi::Array>();
    Napi::Array keys(env, job->output_keys->Get(raw_env));
    Napi::Object outputs = Napi::Object::New(env);
    for (size_t i = 0; i < job->outputs.size(); ++i)
      outputs.Set(keys.Get(static_cast<uint32_t>(i)), ToJsTensor(env, strings, job->outputs[i].tensor));
    job->outputs.clear();  // small outputs were copied: free the engine's memory now
    napi_resolve_deferred(raw_env, job->deferred, outputs);
  } catch (const Napi::Error& e) {
    // Napi::Error took the JS exception, so none is pending here.
    RejectDeferred(raw_env, job->deferred, e);
  } catch (const std::bad_alloc&) {
    RejectDeferred(raw_env, job->deferred, StatusCodeName(StatusCode::kOutOfMemory),
                   "out of memory while handing the outputs to JS");
  } catch (const std::exception& e) {
    RejectDeferred(raw_env, job->deferred, StatusCodeName(StatusCode::kInternal), e.what());
  }
}

void RunQueue::Stop() {
  std::vector<std::thread> threads;
  std::deque<RunJob*> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    threads.swap(threads_);
    dropped.swap(pending_);
  }
  work_ready_.notify_all();
  for (std::thread& t : threads) t.join();
  // The environment is going away: these Promises can no longer be settled.
  for (RunJob* job : dropped) delete job;
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    for (RunJob* job : done_) delete job;
    done_.clear();
  }
  if (tsfn_) napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  tsfn_ = nullptr;
}

}  // namespace node
}  // namespace maas
