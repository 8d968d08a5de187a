// Module init: loadModel(bytes, options) → Promise<handle>, devices(), deviceMemory(), engineTables().
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "maas/engine.h"
#include "node/addon_data.h"
#include "node/js_errors.h"
#include "node/session_wrap.h"
#include "node/tensor_convert.h"
#include "node/workers.h"

namespace maas {
namespace node {

namespace {

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto reject_invalid = [&](const std::string& message) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    RejectWith(deferred, StatusCodeName(StatusCode::kInvalidArgument), message);
    return deferred.Promise();
  };
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return reject_invalid("loadModel expects the model bytes as a Uint8Array");
  SessionOptions options;
  options.max_tensor_bytes = std::min(options.max_tensor_bytes, kMaxHandOutBytes);
  if (info.Length() >= 2 && info[1].IsObject()) {
    Napi::Object given = info[1].As<Napi::Object>();
    Napi::Value threads = given.Get("intraOpThreads");
    if (!threads.IsUndefined()) {
      double n = threads.IsNumber() ? threads.As<Napi::Number>().DoubleValue() : -1;
      if (!(n >= 1 && n <= 1024) || n != static_cast<int>(n))
        return reject_invalid("intraOpThreads must be an integer from 1 to 1024");
      options.intra_op_threads = static_cast<int>(n);
    }
    Napi::Value max_bytes = given.Get("maxTensorBytes");
    if (!max_bytes.IsUndefined()) {
      double n = max_bytes.IsNumber() ? max_bytes.As<Napi::Number>().DoubleValue() : -1;
      if (!(n >= 1 && n <= 9007199254740991.0) || n != std::floor(n))
        return reject_invalid("maxTensorBytes must be a positive integer");
      // Nothing larger can be handed to JS anyway.
      options.max_tensor_bytes = std::min(static_cast<uint64_t>(n), kMaxHandOutBytes);
    }
    Napi::Value device = given.Get("device");
    if (!device.IsUndefined()) {
      if (!device.IsString()) return reject_invalid("device must be a string ('cpu' or 'cuda:N')");
      options.device = device.As<Napi::String>().Utf8Value();  // the engine checks it
    }
    Napi::Value precision = given.Get("precision");
    if (!precision.IsUndefined()) {
      if (!precision.IsString()) return reject_invalid("precision must be a string ('fp32', 'fp16' or 'bf16')");
      options.precision = precision.As<Napi::String>().Utf8Value();  // the engine checks it
    }
  }
  // A copy: JS may detach or reuse its array while the load runs.
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  std::shared_ptr<HostBuffer> copy = HostBuffer::Allocate(bytes.ByteLength());
  if (!copy) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    RejectWith(deferred, StatusCodeName(StatusCode::kOutOfMemory), "no memory for a copy of the model bytes");
    return deferred.Promise();
  }
  if (bytes.ByteLength() != 0) std::memcpy(copy->data(), bytes.Data(), bytes.ByteLength());
  auto* worker = new LoadWorker(env, std::move(copy), options);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Number Bytes(Napi::Env env, uint64_t bytes) { return Napi::Number::New(env, static_cast<double>(bytes)); }

// [{id, name, uuid, totalMemoryBytes, freeMemoryBytes, computeCapability,
//   driverVersion, runtimeVersion, utilizationPercent, memoryUsedBytes}];
// [] on any failure (no driver, no GPU, a CPU-only build).
Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<DeviceInfo> devices;
  try {
    devices = ListDevices();
  } catch (const std::exception&) {
    devices.clear();
  }
  Napi::Array list = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceInfo& d = devices[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("id", Napi::Number::New(env, d.id));
    entry.Set("name", Napi::String::New(env, d.name));
    entry.Set("uuid", Napi::String::New(env, d.uuid));
    entry.Set("totalMemoryBytes", Bytes(env, d.total_memory_bytes));
    entry.Set("freeMemoryBytes", Bytes(env, d.free_memory_bytes));
    entry.Set("computeCapability", Napi::String::New(env, std::to_string(d.compute_capability_major) + "." +
                                                              std::to_string(d.compute_capability_minor)));
    entry.Set("driverVersion", Napi::Number::New(env, d.driver_version));
    entry.Set("runtimeVersion", Napi::Number::New(env, d.runtime_version));
    entry.Set("utilizationPercent", Napi::Number::New(env, d.utilization_percent));
    entry.Set("memoryUsedBytes", Napi::Number::New(env, static_cast<double>(d.memory_used_bytes)));
    list.Set(static_cast<uint32_t>(i), entry);
  }
  return list;
}

// [{device, inUseBytes, reservedBytes, peakInUseBytes, pinnedHostBytes,
//   allocations, driverAllocations}]: the CUDA caching allocators; [] without.
Napi::Value DeviceMemoryStatistics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<DeviceMemoryStats> stats = DeviceMemory();
  Napi::Array list = Napi::Array::New(env, stats.size());
  for (size_t i = 0; i < stats.size(); ++i) {
    const DeviceMemoryStats& s = stats[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("device", Napi::Number::New(env, s.device));
    entry.Set("inUseBytes", Bytes(env, s.in_use_bytes));
    entry.Set("reservedBytes", Bytes(env, s.reserved_bytes));
    entry.Set("peakInUseBytes", Bytes(env, s.peak_in_use_bytes));
    entry.Set("pinnedHostBytes", Bytes(env, s.pinned_host_bytes));
    entry.Set("allocations", Bytes(env, s.allocations));
    entry.Set("driverAllocations", Bytes(env, s.driver_allocations));
    list.Set(static_cast<uint32_t>(i), entry);
  }
  return list;
}

}  // namespace

// A property key that napi_set_named_property made, read back: V8 makes
// such keys internalized.
Napi::String InternalizedKey(Napi::Env env, const std::string& text) {
  Napi::Object holder = Napi::Object::New(env);
  holder.Set(text, env.Null());
  return holder.GetPropertyNames().Get(0u).As<Napi::String>();
}

namespace {

// {dtypes: [{name, sizeBytes, array}], statusCodes: [name]}: the engine's
// own tables, so a test can keep the TypeScript copies in step
// (native/types.ts TENSOR_TYPES, common/errors.ts).
Napi::Value EngineTables(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array dtypes = Napi::Array::New(env);
  uint32_t n = 0;
  for (int value = 1; value < static_cast<int>(kDTypeNameEnd - kDTypeNameBase); ++value) {
    DType dtype = static_cast<DType>(value);
    const char* array = JsArrayName(dtype);
    if (array == nullptr) continue;  // not a type JS can hold (string, undefined)
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", DTypeName(dtype));
    entry.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(DTypeSizeBytes(dtype))));
    entry.Set("array", array);
    dtypes.Set(n++, entry);
  }
  Napi::Array codes = Napi::Array::New(env);
  uint32_t c = 0;
  // Every code value the enum may hold (unknown values name ENGINE_INTERNAL).
  for (int value = 1; value < 64; ++value) {
    const char* name = StatusCodeName(static_cast<StatusCode>(value));
    codes.Set(c++, name);
  }
  codes.Set(c++, kReleasedCode);
  Napi::Object out = Napi::Object::New(env);
  out.Set("dtypes", dtypes);
  out.Set("statusCodes", codes);
  return out;
}

}  // namespace

void InitAddonStrings(Napi::Env env, AddonData* data) {
  Napi::Array strings = Napi::Array::New(env, kDTypeNameEnd);
  strings.Set(static_cast<uint32_t>(kTypeKey), InternalizedKey(env, "type"));
  strings.Set(static_cast<uint32_t>(kDimsKey), InternalizedKey(env, "dims"));
  strings.Set(static_cast<uint32_t>(kDataKey), InternalizedKey(env, "data"));
  for (uint32_t i = 0; i < kDTypeNameEnd - kDTypeNameBase; ++i)
    strings.Set(kDTypeNameBase + i, InternalizedKey(env, DTypeName(static_cast<DType>(i))));
  data->strings = Napi::Persistent(static_cast<Napi::Object>(strings));
}

Napi::Value DTypeNameString(Napi::Env env, const Napi::Array& strings, DType dtype) {
  uint32_t index = static_cast<uint32_t>(dtype);
  if (index >= kDTypeNameEnd - kDTypeNameBase) return Napi::String::New(env, DTypeName(dtype));
  return strings.Get(kDTypeNameBase + index);
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->session_constructor = Napi::Persistent(SessionWrap::DefineClass(env));
  InitAddonStrings(env, data);
  data->runs = RunQueue::Create(env, 0);
  env.SetInstanceData<AddonData>(data);  // deleted by Node when the environment exits (stops the run threads)
  if (!data->runs) throw Napi::Error::New(env, "maas: cannot create the engine's run queue");
  exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
  exports.Set("devices", Napi::Function::New<Devices>(env, "devices"));
  exports.Set("deviceMemory", Napi::Function::New<DeviceMemoryStatistics>(env, "deviceMemory"));
  exports.Set("engineTables", Napi::Function::New<EngineTables>(env, "engineTables"));
  return exports;
}

}  // namespace node
}  // namespace maas

// The macro pastes the function name into identifiers: it needs an unqualified one.
// A failed init must not escape as a C++ exception: when a worker thread is
// terminated while it loads the addon, every Node-API call fails and even
// node-addon-api's own conversion to a JS exception throws again, which
// would abort the whole process.
static Napi::Object InitMaasAddon(Napi::Env env, Napi::Object exports) {
  try {
    return maas::node::InitAddon(env, exports);
  } catch (const Napi::Error&) {
    napi_throw_error(env, nullptr, "maas: the native engine could not initialise (is the environment shutting down?)");
    return exports;
  }
}
NODE_API_MODULE(maas_addon, InitMaasAddon)
