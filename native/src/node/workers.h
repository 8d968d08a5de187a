// The async workers: model loading and inference run on the libuv pool,
// never on the JS thread. Each settles its Promise in OnOK, which never
// throws into Node.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "maas/engine.h"

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

// Runs a session over feeds that borrow JS memory (kept referenced).
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<const Session> session, std::vector<NamedTensor> feeds,
            std::vector<Napi::ObjectReference> keep_alive);
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override;
  void OnOK() override;

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const Session> session_;
  std::vector<NamedTensor> feeds_;
  std::vector<Napi::ObjectReference> keep_alive_;  // the feeds' typed arrays
  Status status_;
  std::vector<NamedTensor> outputs_;
};

}  // namespace node
}  // namespace maas
