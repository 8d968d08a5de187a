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

// Parses and plans a copy of the model bytes, so JS may detach or reuse its
// array while the load runs.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::shared_ptr<HostBuffer> bytes, SessionOptions options);
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override;
  void OnOK() override;

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<HostBuffer> bytes_;
  SessionOptions options_;
  Status status_;
  std::unique_ptr<Session> session_;
};

// Runs a session over feeds that own their memory (copies of the JS arrays). A bare
// napi_async_work rather than Napi::AsyncWorker: a run is the hot path, and
// the wrapper costs a receiver object and its reference per run.
// Start() queues it and returns the Promise; the job deletes itself once it
// has settled that Promise.
class RunJob {
 public:
  static Napi::Value Start(Napi::Env env, AddonData* addon, std::shared_ptr<const Session> session,
                           std::vector<NamedTensor> feeds);
  ~RunJob();  // on the JS thread only
  // It owns its references and its async work: a copy would delete them twice.
  RunJob(const RunJob&) = delete;
  RunJob& operator=(const RunJob&) = delete;

 private:
  RunJob(napi_env env, AddonData* addon, std::shared_ptr<const Session> session, std::vector<NamedTensor> feeds);
  static void Execute(napi_env env, void* data);
  static void Complete(napi_env env, napi_status status, void* data);
  void Settle(napi_status status);

  napi_env env_;
  AddonData* addon_;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::shared_ptr<const Session> session_;
  std::vector<NamedTensor> feeds_;
  Status status_;
  std::vector<NamedTensor> outputs_;
};

}  // namespace node
}  // namespace maas
