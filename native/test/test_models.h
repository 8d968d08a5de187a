// Building ONNX models in C++ tests: a minimal protobuf writer (Proto) and a
// graph builder on top of it (ModelBuilder), so tests need no Python or JS.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace maas {

class Proto {
 public:
  Proto& Varint(uint32_t field, uint64_t value) {
    Tag(field, 0);
    Raw(value);
    return *this;
  }
  Proto& Bytes(uint32_t field, const std::string& bytes) {
    Tag(field, 2);
    Raw(bytes.size());
    out_ += bytes;
    return *this;
  }
  Proto& Message(uint32_t field, const Proto& inner) { return Bytes(field, inner.out_); }
  Proto& Fixed32(uint32_t field, float value) {
    Tag(field, 5);
    char b[4];
    std::memcpy(b, &value, 4);
    out_.append(b, 4);
    return *this;
  }
  Proto& PackedVarints(uint32_t field, const std::vector<int64_t>& values) {
    Proto inner;
    for (int64_t v : values) inner.Raw(static_cast<uint64_t>(v));
    return Bytes(field, inner.out_);
  }
  const std::string& bytes() const { return out_; }

 private:
  void Tag(uint32_t field, uint32_t wire) { Raw((static_cast<uint64_t>(field) << 3) | wire); }
  void Raw(uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      if (v) byte |= 0x80;
      out_.push_back(static_cast<char>(byte));
    } while (v);
  }
  std::string out_;
};

inline std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

inline const uint8_t* Data(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// ValueInfoProto for a tensor; a negative dim is symbolic ("batch").
inline Proto TensorValueInfo(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
  Proto shape;
  for (int64_t d : dims) {
    Proto dim;
    if (d >= 0)
      dim.Varint(1, static_cast<uint64_t>(d));
    else
      dim.Bytes(2, "batch");
    shape.Message(1, dim);
  }
  Proto tensor_type;
  tensor_type.Varint(1, elem_type).Message(2, shape);
  Proto type;
  type.Message(1, tensor_type);
  Proto info;
  info.Bytes(1, name).Message(2, type);
  return info;
}

// ONNX TensorProto.DataType numbers used by the tests.
constexpr int kOnnxFloat = 1, kOnnxInt64 = 7, kOnnxDouble = 11;

// AttributeProto builders.
inline Proto IntAttribute(const std::string& name, int64_t v) {
  Proto a;
  a.Bytes(1, name).Varint(3, static_cast<uint64_t>(v)).Varint(20, 2);
  return a;
}
inline Proto FloatAttribute(const std::string& name, float v) {
  Proto a;
  a.Bytes(1, name).Fixed32(2, v).Varint(20, 1);
  return a;
}
inline Proto IntsAttribute(const std::string& name, const std::vector<int64_t>& v) {
  Proto a;
  a.Bytes(1, name).PackedVarints(8, v).Varint(20, 7);
  return a;
}

// A graph built node by node: ModelBuilder().Input(...).Node(...).Output(...).Bytes().
class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13) : opset_(opset) {}

  ModelBuilder& Input(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    graph_.Message(11, TensorValueInfo(name, elem_type, dims));
    return *this;
  }
  ModelBuilder& Output(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    outputs_.push_back(TensorValueInfo(name, elem_type, dims));
    return *this;
  }
  ModelBuilder& Floats(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values) {
    Proto t;
    t.PackedVarints(1, dims).Varint(2, kOnnxFloat).Bytes(8, name).Bytes(9, FloatBytes(values));
    graph_.Message(5, t);
    return *this;
  }
  ModelBuilder& Int64s(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
    Proto t;
    t.PackedVarints(1, dims).Varint(2, kOnnxInt64).Bytes(8, name).PackedVarints(7, values);
    graph_.Message(5, t);
    return *this;
  }
  // Any TensorProto as an initializer (other dtypes, typed fields).
  ModelBuilder& Initializer(const Proto& tensor) {
    graph_.Message(5, tensor);
    return *this;
  }
  ModelBuilder& Node(const std::string& op, const std::vector<std::string>& inputs,
                     const std::vector<std::string>& outputs, const std::vector<Proto>& attributes = {},
                     const std::string& domain = "") {
    Proto node;
    for (const std::string& in : inputs) node.Bytes(1, in);
    for (const std::string& out : outputs) node.Bytes(2, out);
    node.Bytes(3, op + std::to_string(++nodes_)).Bytes(4, op);
    for (const Proto& a : attributes) node.Message(5, a);
    if (!domain.empty()) node.Bytes(7, domain);
    graph_.Message(1, node);
    return *this;
  }
  std::string Bytes() const {
    Proto graph = graph_;
    graph.Bytes(2, "g");
    for (const Proto& out : outputs_) graph.Message(12, out);
    Proto opset;
    opset.Bytes(1, "").Varint(2, static_cast<uint64_t>(opset_));
    Proto model;
    model.Varint(1, 8).Bytes(2, "test").Message(7, graph).Message(8, opset);
    return model.bytes();
  }

 private:
  int opset_;
  int nodes_ = 0;
  Proto graph_;
  std::vector<Proto> outputs_;
};

}  // namespace maas
