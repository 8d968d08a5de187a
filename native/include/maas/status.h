// Status: how engine code reports failure. Nothing in the engine throws across
// the N-API boundary; every fallible call returns a Status instead.
#pragma once
#include <string>
#include <utility>

namespace maas {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // bad input from the caller (shape, dtype, missing feed)
  kInvalidModel = 2,     // the ONNX bytes are broken or inconsistent
  kUnsupported = 3,      // an op, attribute or dtype the engine lacks
  kNotFound = 4,
  kOutOfMemory = 5,
  kInternal = 6,
  kCancelled = 7,
  kOutputTooLarge = 8,  // a tensor of the run would exceed SessionOptions::max_tensor_bytes
  // The device reported a sticky error (illegal address, ECC, launch
  // failure): the context is unusable, so is every session on it.
  kDeviceFault = 9,
};

// Stable string form used as the JS Error's `code`: ENGINE_<NAME>, except
// OUTPUT_TOO_LARGE, which the gateway shares (common/errors.ts has every name).
const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status InvalidModel(std::string m) { return Status(StatusCode::kInvalidModel, std::move(m)); }
inline Status Unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

}  // namespace maas

#define MAAS_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::maas::Status maas_status_ = (expr);        \
    if (!maas_status_.ok()) return maas_status_; \
  } while (0)
