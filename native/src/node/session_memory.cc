#include "node/session_memory.h"

#include <cmath>

#include "node/js_errors.h"

namespace maas {
namespace node {

namespace {

Napi::Array ShapesToJs(Napi::Env env, const std::vector<Shape>& shapes) {
  Napi::Array list = Napi::Array::New(env, shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    Napi::Array dims = Napi::Array::New(env, shapes[i].size());
    for (size_t d = 0; d < shapes[i].size(); ++d)
      dims.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(shapes[i][d])));
    list.Set(static_cast<uint32_t>(i), dims);
  }
  return list;
}

Napi::Object PlanToJs(Napi::Env env, const PlanMemory& plan) {
  Napi::Object entry = Napi::Object::New(env);
  entry.Set("inputDims", ShapesToJs(env, plan.input_shapes));
  entry.Set("arenaBytes", Napi::Number::New(env, static_cast<double>(plan.arena_bytes)));
  entry.Set("outputBytes", Napi::Number::New(env, static_cast<double>(plan.output_bytes)));
  return entry;
}

// Builds the plan on the libuv pool.
class PlanWorker : public Napi::AsyncWorker {
 public:
  PlanWorker(Napi::Env env, std::shared_ptr<const Session> session, std::vector<Shape> shapes)
      : Napi::AsyncWorker(env, "maas.plan"),
        deferred_(Napi::Promise::Deferred::New(env)),
        session_(std::move(session)),
        shapes_(std::move(shapes)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      status_ = session_->Plan(shapes_, &plan_);
    } catch (const std::exception& e) {
      status_ = Internal(e.what());
    }
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (!status_.ok()) return RejectWith(deferred_, StatusCodeName(status_.code()), status_.message());
    deferred_.Resolve(PlanToJs(Env(), plan_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const Session> session_;
  std::vector<Shape> shapes_;
  Status status_;
  PlanMemory plan_;
};

bool ReadShapes(const Napi::Value& value, std::vector<Shape>* shapes) {
  if (!value.IsArray()) return false;
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value dims = list.Get(i);
    if (!dims.IsArray()) return false;
    Shape shape;
    Napi::Array array = dims.As<Napi::Array>();
    for (uint32_t d = 0; d < array.Length(); ++d) {
      Napi::Value dim = array.Get(d);
      const double v = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1;
      if (!(v >= 0 && v <= 9007199254740991.0) || v != std::floor(v)) return false;
      shape.push_back(static_cast<int64_t>(v));
    }
    shapes->push_back(std::move(shape));
  }
  return true;
}

}  // namespace

Napi::Object SessionMemoryToJs(Napi::Env env, const SessionMemory& memory) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("weightsBytes", Napi::Number::New(env, static_cast<double>(memory.weights_bytes)));
  out.Set("arenaReservedBytes", Napi::Number::New(env, static_cast<double>(memory.arena_reserved_bytes)));
  Napi::Array plans = Napi::Array::New(env, memory.plans.size());
  for (size_t i = 0; i < memory.plans.size(); ++i) plans.Set(static_cast<uint32_t>(i), PlanToJs(env, memory.plans[i]));
  out.Set("plans", plans);
  return out;
}

Napi::Value StartPlanWorker(const Napi::CallbackInfo& info, std::shared_ptr<const Session> session) {
  Napi::Env env = info.Env();
  std::vector<Shape> shapes;
  if (info.Length() < 1 || !ReadShapes(info[0], &shapes)) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    RejectWith(deferred, StatusCodeName(StatusCode::kInvalidArgument), "plan expects dims: number[][] (one per input)");
    return deferred.Promise();
  }
  auto* worker = new PlanWorker(env, std::move(session), std::move(shapes));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace node
}  // namespace maas
