#include "node/session_wrap.h"

#include "node/addon_data.h"
#include "node/js_errors.h"
#include "node/run_queue.h"
#include "node/session_memory.h"
#include "node/tensor_convert.h"

#include <utility>

namespace maas {
namespace node {

Napi::Function SessionWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<SessionWrap>::DefineClass(env, "SessionHandle",
                                              {
                                                  InstanceMethod<&SessionWrap::Run>("run"),
                                                  InstanceMethod<&SessionWrap::Release>("release"),
                                                  InstanceMethod<&SessionWrap::Memory>("memory"),
                                                  InstanceMethod<&SessionWrap::Plan>("plan"),
                                              });
}

Napi::Object SessionWrap::NewInstance(Napi::Env env, std::shared_ptr<const Session> session,
                                      uint64_t max_tensor_bytes) {
  AddonData* data = env.GetInstanceData<AddonData>();
  // The session travels through an External so JS cannot construct a handle.
  auto* carrier = new std::shared_ptr<const Session>(std::move(session));
  Napi::External<std::shared_ptr<const Session>> external = Napi::External<std::shared_ptr<const Session>>::New(
      env, carrier, [](Napi::Env, std::shared_ptr<const Session>* p) { delete p; });
  Napi::Object handle =
      data->session_constructor.New({external, Napi::Number::New(env, static_cast<double>(max_tensor_bytes))});
  const Session& loaded = **carrier;
  Napi::Array keys = Napi::Array::New(env, loaded.outputs().size());
  for (size_t i = 0; i < loaded.outputs().size(); ++i)
    keys.Set(static_cast<uint32_t>(i), InternalizedKey(env, loaded.outputs()[i].name));
  SessionWrap::Unwrap(handle)->output_keys_ = std::make_shared<const OutputKeys>(env, keys);
  handle.DefineProperties({
      Napi::PropertyDescriptor::Value("inputMetadata", ToJsMetadata(env, loaded.inputs()), napi_enumerable),
      Napi::PropertyDescriptor::Value("outputMetadata", ToJsMetadata(env, loaded.outputs()), napi_enumerable),
      Napi::PropertyDescriptor::Value("device", Napi::String::New(env, DeviceName(loaded.device())), napi_enumerable),
  });
  return handle;
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {
  if (info.Length() < 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "session handles come from loadModel()");
  session_ = *info[0].As<Napi::External<std::shared_ptr<const Session>>>().Data();
  if (info.Length() >= 2 && info[1].IsNumber())
    max_tensor_bytes_ = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
}

// run(names: string[], tensors: {type, dims, data}[]) → Promise<{outputName: tensor}>
Napi::Value SessionWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!session_) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    RejectWith(deferred, kReleasedCode, "the session was released");
    return deferred.Promise();
  }
  auto reject = [&](StatusCode code, const std::string& message) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    RejectWith(deferred, StatusCodeName(code), message);
    return deferred.Promise();
  };
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray())
    return reject(StatusCode::kInvalidArgument, "run expects (names: string[], tensors: Tensor[])");
  Napi::Array names = info[0].As<Napi::Array>();
  Napi::Array tensors = info[1].As<Napi::Array>();
  if (names.Length() != tensors.Length())
    return reject(StatusCode::kInvalidArgument, "names and tensors differ in length");

  AddonData* addon = env.GetInstanceData<AddonData>();
  Napi::Array strings = addon->strings.Value().As<Napi::Array>();
  uint32_t count = names.Length();
  auto job = std::make_unique<RunJob>();
  job->feeds.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value name = names.Get(i);
    if (!name.IsString()) return reject(StatusCode::kInvalidArgument, "input names must be strings");
    NamedTensor& feed = job->feeds[i];
    feed.name = name.As<Napi::String>().Utf8Value();
    Status status = CopyJsTensor(strings, tensors.Get(i), feed.name, max_tensor_bytes_, &feed.tensor);
    if (!status.ok()) return reject(status.code(), status.message());
  }
  job->session = session_;
  job->output_keys = output_keys_;
  napi_value promise = addon->runs->Submit(env, std::move(job));
  if (promise == nullptr) return reject(StatusCode::kInternal, "cannot queue the run");
  return Napi::Value(env, promise);
}

// memory() → {weightsBytes, arenaReservedBytes, plans}; throws ENGINE_RELEASED after release().
Napi::Value SessionWrap::Memory(const Napi::CallbackInfo& info) {
  if (!session_) throw MakeJsError(info.Env(), kReleasedCode, "the session was released");
  return SessionMemoryToJs(info.Env(), session_->memory());
}

// plan(dims: number[][]) → Promise<{inputDims, arenaBytes, outputBytes}>
Napi::Value SessionWrap::Plan(const Napi::CallbackInfo& info) {
  if (!session_) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(info.Env());
    RejectWith(deferred, kReleasedCode, "the session was released");
    return deferred.Promise();
  }
  return StartPlanWorker(info, session_);
}

Napi::Value SessionWrap::Release(const Napi::CallbackInfo& info) {
  session_.reset();  // in-flight runs hold their own reference
  return info.Env().Undefined();
}

}  // namespace node
}  // namespace maas
