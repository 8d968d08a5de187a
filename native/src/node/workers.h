// The async workers: model loading and inference run on the libuv pool,
// never on the JS thread. Each settles its Promise on the JS thread when done
// (LoadWorker in OnOK, RunJob in its complete callback) and never throws into Node.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "maas/engine.h"
#include "node/addon_data.h"

namespace maas {
namespace node {

// Parses and plans `bytes` (read in place: the array is kept referenced).
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, Napi::Uint8Array bytes, SessionOptions options);
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override;
  void OnOK() override;

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> bytes_ref_;  // keeps the model bytes alive
  const uint8_t* bytes_;
  size_t size_bytes_;
  SessionOptions options_;
  Status status_;
  std::unique_ptr<Session> session_;
};

// Runs a session over feeds that borrow JS memory (kept referenced). A bare
// napi_async_work rather than Napi::AsyncWorker: a run is the hot path, and
// the wrapper costs a receiver object and its reference per run.
// Start() queues it and returns the Promise; the job deletes itself once it
// has settled that Promise.
class RunJob {
 public:
  // `keep_alive` holds one strong reference per feed's typed array; the job
  // takes ownership (and deletes them), also when Start() fails.
  static Napi::Value Start(Napi::Env env, AddonData* addon, std::shared_ptr<const Session> session,
                           std::vector<NamedTensor> feeds, std::vector<napi_ref> keep_alive);
  ~RunJob();  // on the JS thread only
  // It owns its references and its async work: a copy would delete them twice.
  RunJob(const RunJob&) = delete;
  RunJob& operator=(const RunJob&) = delete;

 private:
  RunJob(napi_env env, AddonData* addon, std::shared_ptr<const Session> session, std::vector<NamedTensor> feeds,
         std::vector<napi_ref> keep_alive);
  static void Execute(napi_env env, void* data);
  static void Complete(napi_env env, napi_status status, void* data);
  void Settle(napi_status status);

  napi_env env_;
  AddonData* addon_;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::shared_ptr<const Session> session_;
  std::vector<NamedTensor> feeds_;
  std::vector<napi_ref> keep_alive_;  // the feeds' typed arrays
  Status status_;
  std::vector<NamedTensor> outputs_;
};

}  // namespace node
}  // namespace maas
