// A bounds-checked decoder for the protobuf wire format: just enough to walk
// ONNX messages field by field. Every length is checked against the bytes
// that remain, so broken input yields a Status and never reads out of bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "maas/status.h"

namespace maas {
namespace onnx {

enum class WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};

// One decoded field. Which member is meaningful depends on `wire_type`.
struct WireField {
  uint32_t number = 0;
  WireType wire_type = WireType::kVarint;
  uint64_t varint = 0;             // kVarint
  uint64_t fixed_bits = 0;         // kFixed64 / kFixed32 (zero-extended)
  const uint8_t* bytes = nullptr;  // kLengthDelimited
  size_t size_bytes = 0;           // kLengthDelimited

  std::string AsString() const { return std::string(reinterpret_cast<const char*>(bytes), size_bytes); }
  int64_t AsInt64() const { return static_cast<int64_t>(varint); }
};

class WireReader {
 public:
  WireReader(const uint8_t* data, size_t size_bytes) : pos_(data), end_(data + size_bytes) {}
  bool done() const { return pos_ >= end_; }
  // Decodes the next field. `context` names the message for error text.
  Status Next(WireField* field, const char* context);

 private:
  Status ReadVarint(uint64_t* value, const char* context);
  const uint8_t* pos_;
  const uint8_t* end_;
};

// Repeated scalar fields arrive packed (one length-delimited field) or
// unpacked (one field per element); these accept both and append.
Status AppendVarints(const WireField& field, std::vector<int64_t>* out, const char* context);
Status AppendUint64s(const WireField& field, std::vector<uint64_t>* out, const char* context);
Status AppendFloats(const WireField& field, std::vector<float>* out, const char* context);
Status AppendDoubles(const WireField& field, std::vector<double>* out, const char* context);

// Checks the field's wire type; an error names the field for the message.
Status ExpectWireType(const WireField& field, WireType expected, const char* context);

}  // namespace onnx
}  // namespace maas
