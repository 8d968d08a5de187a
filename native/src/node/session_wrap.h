// The JS handle of a loaded Session: inputMetadata, outputMetadata, device,
// run(names, tensors) → Promise<{outputName: tensor}>, memory(), plan(dims) → Promise, release().
#pragma once
#include <napi.h>

#include <memory>

#include "maas/engine.h"
#include "node/run_queue.h"

namespace maas {
namespace node {

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // A handle over `session`; the constructor comes from the addon's instance
  // data. `max_tensor_bytes` is the session's limit (SessionOptions): run()
  // refuses larger inputs before copying them.
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<const Session> session, uint64_t max_tensor_bytes);

  explicit SessionWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Memory(const Napi::CallbackInfo& info);
  Napi::Value Plan(const Napi::CallbackInfo& info);

  // Shared with in-flight runs, so release() while a run is in flight frees
  // the model only when that run finishes.
  std::shared_ptr<const Session> session_;
  uint64_t max_tensor_bytes_ = 0;  // 0: no limit
  // The output names as property keys, shared with in-flight runs.
  std::shared_ptr<const OutputKeys> output_keys_;
};

}  // namespace node
}  // namespace maas
