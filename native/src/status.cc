#include "maas/status.h"

namespace maas {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "ENGINE_INVALID_ARGUMENT";
    case StatusCode::kInvalidModel: return "ENGINE_INVALID_MODEL";
    case StatusCode::kUnsupported: return "ENGINE_UNSUPPORTED";
    case StatusCode::kNotFound: return "ENGINE_NOT_FOUND";
    case StatusCode::kOutOfMemory: return "ENGINE_OUT_OF_MEMORY";
    case StatusCode::kInternal: return "ENGINE_INTERNAL";
    case StatusCode::kCancelled: return "ENGINE_CANCELLED";
    case StatusCode::kOutputTooLarge: return "OUTPUT_TOO_LARGE";
    case StatusCode::kDeviceFault: return "ENGINE_DEVICE_FAULT";
  }
  return "ENGINE_INTERNAL";
}

}  // namespace maas
