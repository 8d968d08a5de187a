#include "onnx/model.h"

namespace maas {
namespace onnx {

bool IsSupportedDType(DType dtype) {
  return dtype != DType::kUndefined && dtype != DType::kString && DTypeSizeBytes(dtype) != 0;
}

std::string OnnxDTypeName(DType dtype) {
  if (IsSupportedDType(dtype) || dtype == DType::kString) return DTypeName(dtype);
  // ONNX types beyond what the engine holds, by TensorProto.DataType number.
  switch (static_cast<int32_t>(dtype)) {
    case 0: return "undefined";
    case 14: return "complex64";
    case 15: return "complex128";
    case 16: return "bfloat16";
    case 17: return "float8e4m3fn";
    case 18: return "float8e4m3fnuz";
    case 19: return "float8e5m2";
    case 20: return "float8e5m2fnuz";
    case 21: return "uint4";
    case 22: return "int4";
    case 23: return "float4e2m1";
    default: break;  // a number ONNX has not named (yet)
  }
  return "dtype#" + std::to_string(static_cast<int32_t>(dtype));
}

}  // namespace onnx
}  // namespace maas
