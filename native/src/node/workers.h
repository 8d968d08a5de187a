// Model loading off the JS thread, on libuv's pool (loads are rare; runs
// have their own threads: run_queue.h). Settles its Promise on the JS
// thread in OnOK and never throws into Node.
#pragma once
#include <napi.h>

#include <memory>

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

}  // namespace node
}  // namespace maas
