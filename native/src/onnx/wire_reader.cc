#include "onnx/wire_reader.h"

#include <cstring>

namespace maas {
namespace onnx {

namespace {
Status Truncated(const char* context) { return InvalidModel(std::string("truncated or malformed ") + context); }
}  // namespace

Status WireReader::ReadVarint(uint64_t* value, const char* context) {
  uint64_t result = 0;
  // A 64-bit varint is at most 10 bytes; anything longer is corrupt.
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= end_) return Truncated(context);
    uint8_t byte = *pos_++;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return Status::Ok();
    }
  }
  return Truncated(context);
}

Status WireReader::Next(WireField* field, const char* context) {
  uint64_t tag = 0;
  MAAS_RETURN_IF_ERROR(ReadVarint(&tag, context));
  uint64_t number = tag >> 3;
  if (number == 0 || number > 0x1fffffff) return Truncated(context);
  field->number = static_cast<uint32_t>(number);
  field->bytes = nullptr;
  field->size_bytes = 0;
  field->varint = 0;
  field->fixed_bits = 0;
  size_t remaining = 0;
  switch (tag & 7) {
    case 0: field->wire_type = WireType::kVarint; return ReadVarint(&field->varint, context);
    case 1:
      field->wire_type = WireType::kFixed64;
      if (end_ - pos_ < 8) return Truncated(context);
      std::memcpy(&field->fixed_bits, pos_, 8);  // little-endian hosts only
      pos_ += 8;
      return Status::Ok();
    case 2: {
      field->wire_type = WireType::kLengthDelimited;
      uint64_t length = 0;
      MAAS_RETURN_IF_ERROR(ReadVarint(&length, context));
      remaining = static_cast<size_t>(end_ - pos_);
      if (length > remaining) return Truncated(context);
      field->bytes = pos_;
      field->size_bytes = static_cast<size_t>(length);
      pos_ += length;
      return Status::Ok();
    }
    case 5: {
      field->wire_type = WireType::kFixed32;
      if (end_ - pos_ < 4) return Truncated(context);
      uint32_t bits = 0;
      std::memcpy(&bits, pos_, 4);
      field->fixed_bits = bits;
      pos_ += 4;
      return Status::Ok();
    }
    default:  // groups (3, 4) are not used by ONNX; 6 and 7 do not exist
      return Truncated(context);
  }
}

Status ExpectWireType(const WireField& field, WireType expected, const char* context) {
  if (field.wire_type == expected) return Status::Ok();
  return InvalidModel(std::string("wrong wire type for field ") + std::to_string(field.number) + " of " + context);
}

Status AppendVarints(const WireField& field, std::vector<int64_t>* out, const char* context) {
  if (field.wire_type == WireType::kVarint) {
    out->push_back(field.AsInt64());
    return Status::Ok();
  }
  MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, context));
  // A packed run is varints back to back, with no tags.
  const uint8_t* p = field.bytes;
  const uint8_t* end = field.bytes + field.size_bytes;
  while (p < end) {
    uint64_t value = 0;
    int shift = 0;
    for (;;) {
      if (p >= end || shift >= 70) return Truncated(context);
      uint8_t byte = *p++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    out->push_back(static_cast<int64_t>(value));
  }
  return Status::Ok();
}

Status AppendUint64s(const WireField& field, std::vector<uint64_t>* out, const char* context) {
  std::vector<int64_t> values;
  MAAS_RETURN_IF_ERROR(AppendVarints(field, &values, context));
  for (int64_t v : values) out->push_back(static_cast<uint64_t>(v));
  return Status::Ok();
}

namespace {
template <typename T, WireType kSingle>
Status AppendFixed(const WireField& field, std::vector<T>* out, const char* context) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "fixed-width types only");
  if (field.wire_type == kSingle) {
    T value;
    if (sizeof(T) == 4) {
      uint32_t bits = static_cast<uint32_t>(field.fixed_bits);
      std::memcpy(&value, &bits, 4);
    } else {
      std::memcpy(&value, &field.fixed_bits, 8);
    }
    out->push_back(value);
    return Status::Ok();
  }
  MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, context));
  if (field.size_bytes % sizeof(T) != 0) return Truncated(context);
  size_t count = field.size_bytes / sizeof(T);
  size_t old_size = out->size();
  out->resize(old_size + count);  // bounded by the input's own length
  if (count) std::memcpy(out->data() + old_size, field.bytes, field.size_bytes);
  return Status::Ok();
}
}  // namespace

Status AppendFloats(const WireField& field, std::vector<float>* out, const char* context) {
  return AppendFixed<float, WireType::kFixed32>(field, out, context);
}

Status AppendDoubles(const WireField& field, std::vector<double>* out, const char* context) {
  return AppendFixed<double, WireType::kFixed64>(field, out, context);
}

}  // namespace onnx
}  // namespace maas
