// Where session runs execute: the addon's own threads, not libuv's shared
// pool of 4 (which file reads, DNS and zlib also use), and no
// napi_async_work per run. A run is queued by the JS thread, executed on a
// run thread, and settled back on the JS thread through one thread-safe
// function whose callback drains every finished run at once: under load one
// wake-up of the event loop settles many runs.
//
// Ownership: one RunQueue per Node environment (AddonData owns it). It owns
// its threads (started on demand, up to max_threads, joined by Stop()) and
// every RunJob from Submit() until the job is settled on the JS thread. A
// job owns its feeds (copies of the JS arrays) and, once run, its outputs;
// the JS Promise's deferred is settled exactly once, on the JS thread.
#pragma once
#include <node_api.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "maas/engine.h"

namespace maas {
namespace node {

// The output names of a session as JS property keys, made once per session
// and shared by its runs. Only created and destroyed on the JS thread.
class OutputKeys {
 public:
  OutputKeys(napi_env env, napi_value keys_array);
  ~OutputKeys();
  OutputKeys(const OutputKeys&) = delete;
  OutputKeys& operator=(const OutputKeys&) = delete;
  napi_value Get(napi_env env) const;  // the array of key strings

 private:
  napi_env env_;
  napi_ref ref_ = nullptr;
};

struct RunJob {
  std::shared_ptr<const Session> session;  // keeps the model alive across release()
  std::shared_ptr<const OutputKeys> output_keys;
  std::vector<NamedTensor> feeds;
  std::vector<NamedTensor> outputs;
  Status status;
  napi_deferred deferred = nullptr;
};

class RunQueue {
 public:
  // max_threads: the most run threads this queue starts (0: a default from
  // the core count). Creates the thread-safe function (JS thread only).
  static std::unique_ptr<RunQueue> Create(napi_env env, int max_threads);
  ~RunQueue();
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // JS thread. Queues the job and returns its Promise (a rejected one if
  // the queue is stopped).
  napi_value Submit(napi_env env, std::unique_ptr<RunJob> job);

  // Stops the threads after their current run; queued runs are dropped
  // unsettled (the environment is going away). Idempotent; JS thread.
  void Stop();

  int thread_count() const;

 private:
  RunQueue(napi_env env, int max_threads);
  void WorkerLoop();
  void Finished(RunJob* job);  // run thread
  static void DrainOnJsThread(napi_env env, napi_value js_callback, void* context, void* data);
  void SettleAll(napi_env env);
  static void Settle(napi_env env, RunJob* job);

  napi_env env_;
  const int max_threads_;
  napi_threadsafe_function tsfn_ = nullptr;

  mutable std::mutex mutex_;  // guards the fields below up to done_
  std::condition_variable work_ready_;
  std::deque<RunJob*> pending_;
  std::vector<std::thread> threads_;
  int idle_threads_ = 0;
  bool stopping_ = false;

  std::mutex done_mutex_;
  std::vector<RunJob*> done_;  // finished, waiting for the JS thread

  int in_flight_ = 0;        // JS thread only: submitted and not yet settled
  bool referenced_ = false;  // JS thread only: whether the tsfn keeps the loop alive
};

}  // namespace node
}  // namespace maas
