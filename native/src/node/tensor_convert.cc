#include "node/tensor_convert.h"

#include <cmath>
#include <cstring>

#include "node/js_errors.h"

namespace maas {
namespace node {

namespace {

// Which TypedArray carries each dtype (fixed at compile time, as in the JS
// façade): float16 and bfloat16 travel as their bits in a Uint16Array, bool as a Uint8Array.
struct JsArrayType {
  DType dtype;
  napi_typedarray_type type;
  const char* name;
};
constexpr JsArrayType kJsArrays[] = {
    {DType::kFloat32, napi_float32_array, "Float32Array"},
    {DType::kFloat64, napi_float64_array, "Float64Array"},
    {DType::kFloat16, napi_uint16_array, "Uint16Array"},
    {DType::kBFloat16, napi_uint16_array, "Uint16Array"},
    {DType::kInt8, napi_int8_array, "Int8Array"},
    {DType::kUint8, napi_uint8_array, "Uint8Array"},
    {DType::kBool, napi_uint8_array, "Uint8Array"},
    {DType::kInt16, napi_int16_array, "Int16Array"},
    {DType::kUint16, napi_uint16_array, "Uint16Array"},
    {DType::kInt32, napi_int32_array, "Int32Array"},
    {DType::kUint32, napi_uint32_array, "Uint32Array"},
    {DType::kInt64, napi_bigint64_array, "BigInt64Array"},
    {DType::kUint64, napi_biguint64_array, "BigUint64Array"},
};

bool JsArrayTypeOf(DType dtype, napi_typedarray_type* type) {
  for (const JsArrayType& entry : kJsArrays) {
    if (entry.dtype == dtype) {
      *type = entry.type;
      return true;
    }
  }
  return false;
}

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

bool ReadDims(const Napi::Value& value, Shape* shape, std::string* error) {
  if (!value.IsArray()) {
    *error = "dims must be an array";
    return false;
  }
  Napi::Array dims = value.As<Napi::Array>();
  double elements = 1;
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    Napi::Value d = dims.Get(i);
    double v = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0) || v != std::floor(v) || v > kMaxSafeInteger) {
      *error = "dims must be non-negative integers";
      return false;
    }
    elements *= v;
    shape->push_back(static_cast<int64_t>(v));
  }
  if (elements > kMaxSafeInteger) {
    *error = "dims describe an impossibly large tensor";
    return false;
  }
  return true;
}

void DropEngineBuffer(napi_env /*env*/, void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<HostBuffer>*>(hint);
}

// An ArrayBuffer over the engine's memory; a copy only where the runtime
// forbids external buffers.
Napi::ArrayBuffer WrapBuffer(Napi::Env env, const Tensor& tensor) {
  size_t size_bytes = tensor.size_bytes();
  if (size_bytes == 0 || !tensor.buffer) return Napi::ArrayBuffer::New(env, 0);
  if (size_bytes > kMaxHandOutBytes) {
    // Session limits are capped below this, so the engine refused it already.
    throw MakeJsError(env, StatusCodeName(StatusCode::kOutputTooLarge),
                      "an output of " + std::to_string(size_bytes) + " bytes is more than JS can receive (" +
                          std::to_string(kMaxHandOutBytes) + " bytes)");
  }
  auto* owner = new std::shared_ptr<HostBuffer>(tensor.buffer);
  napi_value result = nullptr;
  napi_status status =
      napi_create_external_arraybuffer(env, tensor.raw(), size_bytes, DropEngineBuffer, owner, &result);
  if (status == napi_ok) return Napi::ArrayBuffer(env, result);
  // Who owns `owner` now: when Node fails inside (node::Buffer::New), it runs
  // the finalizer itself and leaves an exception pending; only when nothing is
  // pending (the call refused its arguments, or external buffers are not
  // allowed here) is it still ours to free. Either way clear the exception
  // before calling into JS again.
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored = nullptr;
    napi_get_and_clear_last_exception(env, &ignored);
  } else {
    delete owner;
  }
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, size_bytes);
  std::memcpy(copy.Data(), tensor.raw(), size_bytes);
  return copy;
}

}  // namespace

const char* JsArrayName(DType dtype) {
  for (const JsArrayType& entry : kJsArrays)
    if (entry.dtype == dtype) return entry.name;
  return nullptr;
}

Status CopyJsTensor(const Napi::Array& strings, const Napi::Value& value, const std::string& name, uint64_t max_bytes,
                    Tensor* tensor) {
  // Built only on failure: this runs for every feed of every run.
  auto invalid = [&](const std::string& what) { return InvalidArgument("input '" + name + "': " + what); };
  if (!value.IsObject()) return invalid("a tensor must be an object {type, dims, data}");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value type_value = object.Get(strings.Get(static_cast<uint32_t>(kTypeKey)));
  DType dtype = type_value.IsString() ? DTypeFromName(type_value.As<Napi::String>().Utf8Value()) : DType::kUndefined;
  napi_typedarray_type expected_array;
  if (!JsArrayTypeOf(dtype, &expected_array)) return invalid("unknown tensor type");
  Shape shape;
  std::string error;
  if (!ReadDims(object.Get(strings.Get(static_cast<uint32_t>(kDimsKey))), &shape, &error)) return invalid(error);
  Napi::Value data = object.Get(strings.Get(static_cast<uint32_t>(kDataKey)));
  if (!data.IsTypedArray()) return invalid("data must be a TypedArray");
  napi_typedarray_type array_type;
  size_t length = 0;
  void* bytes = nullptr;
  napi_value array_buffer = nullptr;
  size_t byte_offset = 0;
  if (napi_get_typedarray_info(value.Env(), data, &array_type, &length, &bytes, &array_buffer, &byte_offset) !=
      napi_ok) {
    return invalid("cannot read the data");
  }
  if (array_type != expected_array)
    return invalid(std::string("data is not the TypedArray for type ") + DTypeName(dtype));
  if (static_cast<int64_t>(length) != NumElements(shape)) {
    return invalid("data has " + std::to_string(length) + " elements, dims " + ShapeToString(shape) + " need " +
                   std::to_string(NumElements(shape)));
  }
  size_t size_bytes = length * DTypeSizeBytes(dtype);
  if (max_bytes != 0 && size_bytes > max_bytes) {
    return invalid("data is " + std::to_string(size_bytes) + " bytes, above this session's limit of " +
                   std::to_string(max_bytes) + " bytes per tensor");
  }
  tensor->dtype = dtype;
  tensor->shape = std::move(shape);
  tensor->buffer = HostBuffer::Allocate(size_bytes);
  if (!tensor->buffer) {
    return Status(StatusCode::kOutOfMemory,
                  "input '" + name + "': no memory for a copy of " + std::to_string(size_bytes) + " bytes");
  }
  // On the JS thread, so JS cannot detach the array while this reads it.
  if (size_bytes != 0) std::memcpy(tensor->buffer->data(), bytes, size_bytes);
  return Status::Ok();
}

Napi::Object ToJsTensor(Napi::Env env, const Napi::Array& strings, const Tensor& tensor) {
  napi_typedarray_type array_type;
  if (!JsArrayTypeOf(tensor.dtype, &array_type))
    throw Napi::Error::New(env, std::string("no TypedArray for dtype ") + DTypeName(tensor.dtype));
  Napi::ArrayBuffer buffer = WrapBuffer(env, tensor);
  napi_value typed_array = nullptr;
  size_t length = static_cast<size_t>(tensor.num_elements());
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, array_type, length, buffer, 0, &typed_array), Napi::Object());
  Napi::Array dims = Napi::Array::New(env, tensor.shape.size());
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    dims.Set(i, Napi::Number::New(env, static_cast<double>(tensor.shape[i])));
  Napi::Object out = Napi::Object::New(env);
  out.Set(strings.Get(static_cast<uint32_t>(kTypeKey)), DTypeNameString(env, strings, tensor.dtype));
  out.Set(strings.Get(static_cast<uint32_t>(kDimsKey)), dims);
  out.Set(strings.Get(static_cast<uint32_t>(kDataKey)), Napi::Value(env, typed_array));
  return out;
}

Napi::Array ToJsMetadata(Napi::Env env, const std::vector<TensorMetadata>& metadata) {
  Napi::Array list = Napi::Array::New(env, metadata.size());
  for (size_t i = 0; i < metadata.size(); ++i) {
    const TensorMetadata& m = metadata[i];
    Napi::Array dims = Napi::Array::New(env, m.shape.size());
    for (size_t d = 0; d < m.shape.size(); ++d) dims.Set(d, Napi::Number::New(env, static_cast<double>(m.shape[d])));
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", Napi::String::New(env, m.name));
    entry.Set("type", Napi::String::New(env, DTypeName(m.dtype)));
    entry.Set("dims", dims);
    list.Set(static_cast<uint32_t>(i), entry);
  }
  return list;
}

}  // namespace node
}  // namespace maas
