// The parts of an ONNX ModelProto the engine uses, decoded into plain structs.
// No graph logic here: the graph builder (src/graph) checks and types it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {
namespace onnx {

// A graph input/output/value_info entry. `dtype` is the ONNX elem_type as
// read (it may be a type the engine lacks); kUndefined when the value is not
// a tensor or has no type.
struct ValueInfoDecl {
  std::string name;
  DType dtype = DType::kUndefined;
  bool is_tensor = false;   // TypeProto held tensor_type
  bool rank_known = false;  // TypeProto.tensor_type held a shape
  Shape shape;              // kUnknownDim for dim_param or missing dim_value
};

struct NodeDecl {
  std::string name;
  std::string op_type;
  std::string domain;                // "" or "ai.onnx" is the default domain
  std::vector<std::string> inputs;   // "" marks an absent optional input
  std::vector<std::string> outputs;  // "" marks an unused optional output
  Attributes attrs;
};

struct InitializerDecl {
  std::string name;
  Tensor tensor;  // tensor.dtype may be unsupported; then tensor.buffer is null
};

struct ModelDecl {
  int64_t ir_version = 0;
  int opset = 0;  // the default-domain opset version
  std::vector<NodeDecl> nodes;
  std::vector<InitializerDecl> initializers;
  std::vector<ValueInfoDecl> inputs;
  std::vector<ValueInfoDecl> outputs;
  std::vector<ValueInfoDecl> value_infos;
  // Tensors (initializers, attribute tensors) whose dtype the engine lacks,
  // as "bfloat16 (initializer w)"; reported with the unsupported ops.
  std::vector<std::string> unsupported_dtypes;
};

// Parses serialized ModelProto bytes. Broken bytes give kInvalidModel;
// external tensor data gives kUnsupported. Never throws.
Status ParseModel(const uint8_t* bytes, size_t size_bytes, ModelDecl* model);

// Decodes one TensorProto into a host tensor. A dtype the engine lacks is not
// an error here: the tensor comes back with that dtype and no buffer.
Status DecodeTensorProto(const uint8_t* bytes, size_t size_bytes, std::string* name, Tensor* tensor);

// True for the element types the engine can hold in a Tensor.
bool IsSupportedDType(DType dtype);
// The ONNX type name for any elem_type number ("bfloat16", "complex64", ...).
std::string OnnxDTypeName(DType dtype);

}  // namespace onnx
}  // namespace maas
