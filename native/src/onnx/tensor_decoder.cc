// TensorProto → Tensor. Values may arrive in raw_data (little-endian bytes)
// or in the typed repeated fields; int32_data also carries the narrow types.
#include <cstring>

#include "onnx/model.h"
#include "onnx/wire_reader.h"

namespace maas {
namespace onnx {

namespace {

constexpr const char* kContext = "TensorProto";
// Element counts above this are refused before any allocation (the data has
// to be in the model bytes anyway, so real models are far below it).
constexpr int64_t kMaxElements = int64_t{1} << 40;

// The TensorProto fields as read; typed values are collected first because
// data_type may come after them on the wire.
struct RawTensorFields {
  std::vector<int64_t> dims;
  int32_t data_type = 0;
  std::string name;
  const uint8_t* raw_data = nullptr;
  size_t raw_size_bytes = 0;
  bool has_raw_data = false;
  bool external = false;
  std::vector<float> float_data;
  std::vector<int64_t> int32_data;  // widened while reading
  std::vector<int64_t> int64_data;
  std::vector<double> double_data;
  std::vector<uint64_t> uint64_data;
};

Status ReadFields(const uint8_t* bytes, size_t size_bytes, RawTensorFields* f) {
  WireReader reader(bytes, size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, kContext));
    switch (field.number) {
      case 1: MAAS_RETURN_IF_ERROR(AppendVarints(field, &f->dims, "TensorProto.dims")); break;
      case 2:
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kVarint, kContext));
        f->data_type = static_cast<int32_t>(field.varint);
        break;
      case 4: MAAS_RETURN_IF_ERROR(AppendFloats(field, &f->float_data, "TensorProto.float_data")); break;
      case 5: MAAS_RETURN_IF_ERROR(AppendVarints(field, &f->int32_data, "TensorProto.int32_data")); break;
      case 7: MAAS_RETURN_IF_ERROR(AppendVarints(field, &f->int64_data, "TensorProto.int64_data")); break;
      case 8:
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, kContext));
        f->name = field.AsString();
        break;
      case 9:
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, kContext));
        f->raw_data = field.bytes;
        f->raw_size_bytes = field.size_bytes;
        f->has_raw_data = true;
        break;
      case 10: MAAS_RETURN_IF_ERROR(AppendDoubles(field, &f->double_data, "TensorProto.double_data")); break;
      case 11: MAAS_RETURN_IF_ERROR(AppendUint64s(field, &f->uint64_data, "TensorProto.uint64_data")); break;
      case 14:
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kVarint, kContext));
        f->external = field.varint == 1;  // DataLocation.EXTERNAL
        break;
      default: break;  // string_data, segment, doc_string, external_data, ...
    }
  }
  return Status::Ok();
}

Status ElementCount(const std::vector<int64_t>& dims, const std::string& name, int64_t* count) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return InvalidModel("tensor '" + name + "' has a negative dim");
    if (d != 0 && n > kMaxElements / d) return InvalidModel("tensor '" + name + "' is impossibly large");
    n *= d;
  }
  *count = n;
  return Status::Ok();
}

template <typename To, typename From>
void ConvertInto(const std::vector<From>& values, void* out) {
  To* dst = static_cast<To*>(out);
  for (size_t i = 0; i < values.size(); ++i) dst[i] = static_cast<To>(values[i]);
}

// How many values the typed field that belongs to `dtype` holds.
size_t TypedValueCount(const RawTensorFields& f, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return f.float_data.size();
    case DType::kFloat64: return f.double_data.size();
    case DType::kInt64: return f.int64_data.size();
    case DType::kUint64:
    case DType::kUint32: return f.uint64_data.size();
    default: return f.int32_data.size();  // int32 and every narrower type
  }
}

// Copies the typed field that belongs to `dtype` into `out`, which has room
// for exactly TypedValueCount(f, dtype) elements.
void CopyTypedValues(const RawTensorFields& f, DType dtype, void* out) {
  switch (dtype) {
    case DType::kFloat32: ConvertInto<float>(f.float_data, out); return;
    case DType::kFloat64: ConvertInto<double>(f.double_data, out); return;
    case DType::kInt64: ConvertInto<int64_t>(f.int64_data, out); return;
    case DType::kUint64: ConvertInto<uint64_t>(f.uint64_data, out); return;
    case DType::kUint32: ConvertInto<uint32_t>(f.uint64_data, out); return;
    case DType::kInt32: ConvertInto<int32_t>(f.int32_data, out); return;
    case DType::kInt16: ConvertInto<int16_t>(f.int32_data, out); return;
    case DType::kInt8: ConvertInto<int8_t>(f.int32_data, out); return;
    case DType::kUint16:
    case DType::kFloat16:  // float16 and bfloat16 travel as their 16 bits in int32_data
    case DType::kBFloat16: ConvertInto<uint16_t>(f.int32_data, out); return;
    case DType::kUint8: ConvertInto<uint8_t>(f.int32_data, out); return;
    case DType::kBool: {
      uint8_t* dst = static_cast<uint8_t*>(out);
      for (size_t i = 0; i < f.int32_data.size(); ++i) dst[i] = f.int32_data[i] != 0 ? 1 : 0;
      return;
    }
    default: return;  // unsupported dtypes never reach here
  }
}

}  // namespace

Status DecodeTensorProto(const uint8_t* bytes, size_t size_bytes, std::string* name, Tensor* tensor) {
  RawTensorFields f;
  MAAS_RETURN_IF_ERROR(ReadFields(bytes, size_bytes, &f));
  *name = f.name;
  if (f.external) return Unsupported("tensor '" + f.name + "' keeps its data in an external file");
  int64_t count = 0;
  MAAS_RETURN_IF_ERROR(ElementCount(f.dims, f.name, &count));

  DType dtype = static_cast<DType>(f.data_type);
  tensor->dtype = dtype;
  tensor->shape = f.dims;
  tensor->buffer = nullptr;
  if (f.data_type == 0) return InvalidModel("tensor '" + f.name + "' has no data_type");
  if (!IsSupportedDType(dtype)) return Status::Ok();  // reported by the caller with the other gaps

  size_t element_bytes = DTypeSizeBytes(dtype);
  if (f.has_raw_data) {
    // Checked before allocating: the size must match the bytes present.
    if (static_cast<uint64_t>(count) * element_bytes != f.raw_size_bytes)
      return InvalidModel("tensor '" + f.name + "' raw_data holds " + std::to_string(f.raw_size_bytes) +
                          " bytes, its dims and dtype need " + std::to_string(count * element_bytes));
    Tensor t = MakeTensor(dtype, f.dims);
    if (!t.buffer) return Status(StatusCode::kOutOfMemory, "no memory for tensor '" + f.name + "'");
    if (f.raw_size_bytes) std::memcpy(t.raw(), f.raw_data, f.raw_size_bytes);
    *tensor = std::move(t);
    return Status::Ok();
  }
  // Checked before allocating: the typed field's length is bounded by the
  // input size, so a huge dims product with little data never allocates.
  size_t have = TypedValueCount(f, dtype);
  if (static_cast<int64_t>(have) != count)
    return InvalidModel("tensor '" + f.name + "' holds " + std::to_string(have) + " values, its dims say " +
                        std::to_string(count));
  Tensor t = MakeTensor(dtype, f.dims);
  if (!t.buffer) return Status(StatusCode::kOutOfMemory, "no memory for tensor '" + f.name + "'");
  CopyTypedValues(f, dtype, t.raw());
  *tensor = std::move(t);
  return Status::Ok();
}

}  // namespace onnx
}  // namespace maas
