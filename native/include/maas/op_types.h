// What every layer knows about an operator node, independent of any backend:
// its decoded ONNX attributes, what is known of its values before running
// (ValueInfo), and the description a backend receives when asked whether it
// can run the node and to bind it (NodeDesc).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "maas/tensor.h"

namespace maas {

// An ONNX attribute value after decoding (only the kinds our ops use).
struct Attribute {
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kTensor } kind = Kind::kInt;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  Tensor t;  // kTensor (e.g. Constant's value), already decoded to host memory
};
const char* AttributeKindName(Attribute::Kind kind);  // "int", "floats", ...

class Attributes {
 public:
  std::map<std::string, Attribute> values;
  bool Has(const std::string& name) const { return values.count(name) != 0; }
  int64_t GetInt(const std::string& name, int64_t fallback) const;
  // Also reads an int attribute (exporters write alpha=1 as an int).
  float GetFloat(const std::string& name, float fallback) const;
  std::string GetString(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> GetInts(const std::string& name, const std::vector<int64_t>& fallback) const;
  std::vector<float> GetFloats(const std::string& name, const std::vector<float>& fallback) const;
  const Attribute* Find(const std::string& name) const;
  void SetInt(const std::string& name, int64_t value);
  void SetFloat(const std::string& name, float value);
  void SetString(const std::string& name, const std::string& value);
};

// What is known of a value before running: its dtype, its shape (dims may be
// kUnknownDim; `rank_known=false` when even the rank is unknown), and, for an
// input of an op, its contents when it is a constant (initializer, Constant
// output or folded value).
struct ValueInfo {
  DType dtype = DType::kUndefined;
  Shape shape;
  bool rank_known = true;
  const Tensor* constant = nullptr;  // inputs only: non-null for constants (host memory)
  // Outputs only: set by a schema's infer when it can tell the contents
  // without running the op (Constant, and later Shape or Size on a known
  // shape); the graph then treats the value as a constant.
  Tensor value;

  bool has_value() const { return value.dtype != DType::kUndefined; }
  // True when every dim is known (a run-time shape).
  bool concrete() const { return rank_known && NumElements(shape) >= 0; }
};

// A node as a backend sees it when asked whether it can run it and when
// binding it: op type ("Gemm", or "domain.Op" outside the default domain),
// attributes, the model's default-domain opset, and what is known of each
// input and output (an absent optional value has dtype kUndefined).
struct NodeDesc {
  const std::string* name = nullptr;
  const std::string* op_type = nullptr;
  const Attributes* attrs = nullptr;
  int opset = 13;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;

  // The dtype that selects a kernel: input 0's, else output 0's.
  DType key_dtype() const;
};

}  // namespace maas
