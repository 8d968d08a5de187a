// ModelProto → ModelDecl: walks ModelProto, GraphProto, NodeProto,
// AttributeProto and ValueInfoProto. Subgraph attributes (If/Loop bodies)
// are skipped, so nesting depth is fixed and recursion is bounded.
#include <new>

#include "onnx/model.h"
#include "onnx/wire_reader.h"

namespace maas {
namespace onnx {

namespace {

// ---- helpers ---------------------------------------------------------------

Status ReadString(const WireField& field, const char* context, std::string* out) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, context));
  *out = field.AsString();
  return Status::Ok();
}

Status ReadInt(const WireField& field, const char* context, int64_t* out) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kVarint, context));
  *out = field.AsInt64();
  return Status::Ok();
}

bool IsDefaultDomain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// ---- ValueInfoProto ------------------------------------------------------------

// TensorShapeProto.Dimension: dim_value(1) | dim_param(2).
Status ReadDim(const WireField& dim_field, int64_t* dim) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(dim_field, WireType::kLengthDelimited, "Dimension"));
  *dim = kUnknownDim;
  WireReader reader(dim_field.bytes, dim_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "Dimension"));
    if (field.number == 1) {
      int64_t value = 0;
      MAAS_RETURN_IF_ERROR(ReadInt(field, "Dimension.dim_value", &value));
      *dim = value >= 0 ? value : kUnknownDim;
    } else if (field.number == 2) {
      *dim = kUnknownDim;  // symbolic
    }
  }
  return Status::Ok();
}

// TypeProto.Tensor: elem_type(1), shape(2) → dim(1)*.
Status ReadTensorType(const WireField& tensor_field, ValueInfoDecl* info) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(tensor_field, WireType::kLengthDelimited, "TypeProto.Tensor"));
  info->is_tensor = true;
  WireReader reader(tensor_field.bytes, tensor_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "TypeProto.Tensor"));
    if (field.number == 1) {
      int64_t elem_type = 0;
      MAAS_RETURN_IF_ERROR(ReadInt(field, "TypeProto.Tensor.elem_type", &elem_type));
      info->dtype = static_cast<DType>(static_cast<int32_t>(elem_type));
    } else if (field.number == 2) {
      MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, "TensorShapeProto"));
      info->rank_known = true;
      info->shape.clear();
      WireReader shape_reader(field.bytes, field.size_bytes);
      WireField dim_field;
      while (!shape_reader.done()) {
        MAAS_RETURN_IF_ERROR(shape_reader.Next(&dim_field, "TensorShapeProto"));
        if (dim_field.number != 1) continue;
        int64_t dim = kUnknownDim;
        MAAS_RETURN_IF_ERROR(ReadDim(dim_field, &dim));
        info->shape.push_back(dim);
      }
    }
  }
  return Status::Ok();
}

Status ReadValueInfo(const WireField& value_field, ValueInfoDecl* info) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(value_field, WireType::kLengthDelimited, "ValueInfoProto"));
  WireReader reader(value_field.bytes, value_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "ValueInfoProto"));
    if (field.number == 1) {
      MAAS_RETURN_IF_ERROR(ReadString(field, "ValueInfoProto.name", &info->name));
    } else if (field.number == 2) {
      // TypeProto: only tensor_type(1) is a tensor; sequences, maps, ... stay non-tensor.
      MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, "TypeProto"));
      WireReader type_reader(field.bytes, field.size_bytes);
      WireField type_field;
      while (!type_reader.done()) {
        MAAS_RETURN_IF_ERROR(type_reader.Next(&type_field, "TypeProto"));
        if (type_field.number == 1) MAAS_RETURN_IF_ERROR(ReadTensorType(type_field, info));
      }
    }
  }
  return Status::Ok();
}

// ---- AttributeProto ----------------------------------------------------------

// AttributeProto.type values.
enum AttributeType : int64_t { kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kFloats = 6, kInts = 7 };

Status ReadAttribute(const WireField& attr_field, NodeDecl* node, ModelDecl* model) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(attr_field, WireType::kLengthDelimited, "AttributeProto"));
  std::string name;
  Attribute attr;
  int64_t declared_type = 0;
  int64_t seen_type = 0;  // from which value field appeared, for writers that omit `type`
  std::string tensor_name;
  WireReader reader(attr_field.bytes, attr_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "AttributeProto"));
    switch (field.number) {
      case 1: MAAS_RETURN_IF_ERROR(ReadString(field, "AttributeProto.name", &name)); break;
      case 2: {
        std::vector<float> one;
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kFixed32, "AttributeProto.f"));
        MAAS_RETURN_IF_ERROR(AppendFloats(field, &one, "AttributeProto.f"));
        attr.f = one.front();
        seen_type = kFloat;
        break;
      }
      case 3:
        MAAS_RETURN_IF_ERROR(ReadInt(field, "AttributeProto.i", &attr.i));
        seen_type = kInt;
        break;
      case 4:
        MAAS_RETURN_IF_ERROR(ReadString(field, "AttributeProto.s", &attr.s));
        seen_type = kString;
        break;
      case 5:
        MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, "AttributeProto.t"));
        MAAS_RETURN_IF_ERROR(DecodeTensorProto(field.bytes, field.size_bytes, &tensor_name, &attr.t));
        seen_type = kTensor;
        break;
      case 7:
        MAAS_RETURN_IF_ERROR(AppendFloats(field, &attr.floats, "AttributeProto.floats"));
        seen_type = kFloats;
        break;
      case 8:
        MAAS_RETURN_IF_ERROR(AppendVarints(field, &attr.ints, "AttributeProto.ints"));
        seen_type = kInts;
        break;
      case 20: MAAS_RETURN_IF_ERROR(ReadInt(field, "AttributeProto.type", &declared_type)); break;
      default: break;  // graphs, strings, sparse tensors, doc_string: not used by our ops
    }
  }
  if (name.empty()) return InvalidModel("node '" + node->name + "' has an attribute without a name");
  switch (declared_type != 0 ? declared_type : seen_type) {
    case kFloat: attr.kind = Attribute::Kind::kFloat; break;
    case kInt: attr.kind = Attribute::Kind::kInt; break;
    case kString: attr.kind = Attribute::Kind::kString; break;
    case kTensor:
      attr.kind = Attribute::Kind::kTensor;
      if (!IsSupportedDType(attr.t.dtype))
        model->unsupported_dtypes.push_back(OnnxDTypeName(attr.t.dtype) + " (attribute " + name + " of node '" +
                                            node->name + "')");
      break;
    case kFloats: attr.kind = Attribute::Kind::kFloats; break;
    case kInts: attr.kind = Attribute::Kind::kInts; break;
    default: return Status::Ok();  // a kind no kernel reads: dropped
  }
  node->attrs.values[name] = std::move(attr);
  return Status::Ok();
}

// ---- NodeProto / GraphProto / ModelProto ------------------------------------------

Status ReadNode(const WireField& node_field, ModelDecl* model) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(node_field, WireType::kLengthDelimited, "NodeProto"));
  NodeDecl node;
  std::vector<WireField> attribute_fields;  // read after the name is known, for messages
  WireReader reader(node_field.bytes, node_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "NodeProto"));
    std::string text;
    switch (field.number) {
      case 1:
        MAAS_RETURN_IF_ERROR(ReadString(field, "NodeProto.input", &text));
        node.inputs.push_back(std::move(text));
        break;
      case 2:
        MAAS_RETURN_IF_ERROR(ReadString(field, "NodeProto.output", &text));
        node.outputs.push_back(std::move(text));
        break;
      case 3: MAAS_RETURN_IF_ERROR(ReadString(field, "NodeProto.name", &node.name)); break;
      case 4: MAAS_RETURN_IF_ERROR(ReadString(field, "NodeProto.op_type", &node.op_type)); break;
      case 5: attribute_fields.push_back(field); break;
      case 7: MAAS_RETURN_IF_ERROR(ReadString(field, "NodeProto.domain", &node.domain)); break;
      default: break;
    }
  }
  if (node.op_type.empty()) return InvalidModel("a node has no op_type");
  if (node.name.empty()) node.name = node.op_type + "#" + std::to_string(model->nodes.size());
  if (IsDefaultDomain(node.domain)) node.domain.clear();
  for (const WireField& attr_field : attribute_fields) MAAS_RETURN_IF_ERROR(ReadAttribute(attr_field, &node, model));
  model->nodes.push_back(std::move(node));
  return Status::Ok();
}

Status ReadInitializer(const WireField& field, ModelDecl* model) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(field, WireType::kLengthDelimited, "GraphProto.initializer"));
  InitializerDecl init;
  MAAS_RETURN_IF_ERROR(DecodeTensorProto(field.bytes, field.size_bytes, &init.name, &init.tensor));
  if (init.name.empty()) return InvalidModel("an initializer has no name");
  if (!IsSupportedDType(init.tensor.dtype))
    model->unsupported_dtypes.push_back(OnnxDTypeName(init.tensor.dtype) + " (initializer " + init.name + ")");
  model->initializers.push_back(std::move(init));
  return Status::Ok();
}

Status ReadGraph(const WireField& graph_field, ModelDecl* model) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(graph_field, WireType::kLengthDelimited, "GraphProto"));
  WireReader reader(graph_field.bytes, graph_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "GraphProto"));
    ValueInfoDecl info;
    switch (field.number) {
      case 1: MAAS_RETURN_IF_ERROR(ReadNode(field, model)); break;
      case 5: MAAS_RETURN_IF_ERROR(ReadInitializer(field, model)); break;
      case 11:
        MAAS_RETURN_IF_ERROR(ReadValueInfo(field, &info));
        model->inputs.push_back(std::move(info));
        break;
      case 12:
        MAAS_RETURN_IF_ERROR(ReadValueInfo(field, &info));
        model->outputs.push_back(std::move(info));
        break;
      case 13:
        MAAS_RETURN_IF_ERROR(ReadValueInfo(field, &info));
        model->value_infos.push_back(std::move(info));
        break;
      default: break;  // name, doc_string, sparse_initializer, quantization annotations
    }
  }
  return Status::Ok();
}

// OperatorSetIdProto: domain(1), version(2). Only the default domain counts.
Status ReadOpsetImport(const WireField& opset_field, ModelDecl* model, bool* found_default) {
  MAAS_RETURN_IF_ERROR(ExpectWireType(opset_field, WireType::kLengthDelimited, "OperatorSetIdProto"));
  std::string domain;
  int64_t version = 0;
  WireReader reader(opset_field.bytes, opset_field.size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "OperatorSetIdProto"));
    if (field.number == 1) MAAS_RETURN_IF_ERROR(ReadString(field, "OperatorSetIdProto.domain", &domain));
    if (field.number == 2) MAAS_RETURN_IF_ERROR(ReadInt(field, "OperatorSetIdProto.version", &version));
  }
  if (!IsDefaultDomain(domain)) return Status::Ok();
  if (version < 1 || version > 1000) return InvalidModel("bad opset version " + std::to_string(version));
  model->opset = static_cast<int>(version);
  *found_default = true;
  return Status::Ok();
}

Status ParseModelUnchecked(const uint8_t* bytes, size_t size_bytes, ModelDecl* model) {
  if (bytes == nullptr || size_bytes == 0) return InvalidModel("the model is empty");
  bool found_graph = false;
  bool found_default_opset = false;
  WireReader reader(bytes, size_bytes);
  WireField field;
  while (!reader.done()) {
    MAAS_RETURN_IF_ERROR(reader.Next(&field, "ModelProto"));
    switch (field.number) {
      case 1: MAAS_RETURN_IF_ERROR(ReadInt(field, "ModelProto.ir_version", &model->ir_version)); break;
      case 7:
        if (found_graph) return InvalidModel("the model has two graphs");
        MAAS_RETURN_IF_ERROR(ReadGraph(field, model));
        found_graph = true;
        break;
      case 8: MAAS_RETURN_IF_ERROR(ReadOpsetImport(field, model, &found_default_opset)); break;
      default: break;  // producer, doc_string, metadata_props, functions, ...
    }
  }
  if (!found_graph) return InvalidModel("the model has no graph");
  if (!found_default_opset) {
    // Before IR version 3 the opset import was implied; later it is required.
    if (model->ir_version >= 3) return InvalidModel("the model imports no default-domain opset");
    model->opset = 1;
  }
  return Status::Ok();
}

}  // namespace

Status ParseModel(const uint8_t* bytes, size_t size_bytes, ModelDecl* model) {
  *model = ModelDecl();
  try {
    return ParseModelUnchecked(bytes, size_bytes, model);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory while reading the model");
  } catch (const std::exception& e) {
    return InvalidModel(std::string("cannot read the model: ") + e.what());
  }
}

}  // namespace onnx
}  // namespace maas
