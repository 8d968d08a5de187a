// Schema of Constant: its output is the attribute's value, known at load, so
// inference hands the value over and the node never runs.
#include <cstring>
#include <string>

#include "ops/constant_value.h"
#include "ops/op_util.h"
#include "ops/schema.h"

namespace maas {

namespace {

const char* const kOp = "Constant";

// The one value attribute the node carries, checked for a kind we support.
Status FindValue(const Attributes* attrs, const Attribute** value, std::string* name) {
  static const char* const kSupported[] = {"value", "value_float", "value_floats", "value_int", "value_ints"};
  static const char* const kUnsupported[] = {"value_string", "value_strings", "sparse_value"};
  if (attrs) {
    for (const char* n : kUnsupported)
      if (attrs->Has(n)) return Unsupported(std::string(kOp) + ": attribute '" + n + "' is not supported");
    for (const char* n : kSupported) {
      if (const Attribute* a = attrs->Find(n)) {
        *value = a;
        *name = n;
        return Status::Ok();
      }
    }
  }
  return InvalidModel(std::string(kOp) + ": no value attribute");
}

}  // namespace

Status ConstantValue(const Attributes* attrs, Tensor* value) {
  const Attribute* a = nullptr;
  std::string name;
  MAAS_RETURN_IF_ERROR(FindValue(attrs, &a, &name));
  if (name == "value") {
    if (a->kind != Attribute::Kind::kTensor) return InvalidModel(std::string(kOp) + ": 'value' is not a tensor");
    if (DTypeSizeBytes(a->t.dtype) == 0) return UnsupportedDType(kOp, a->t.dtype);
    if (!a->t.buffer && a->t.num_elements() != 0) return InvalidModel(std::string(kOp) + ": value has no data");
    *value = a->t;
    return Status::Ok();
  }
  const bool is_float = name == "value_float" || name == "value_floats";
  const bool is_list = name == "value_floats" || name == "value_ints";
  const size_t count = is_list ? (is_float ? a->floats.size() : a->ints.size()) : 1;
  *value =
      MakeTensor(is_float ? DType::kFloat32 : DType::kInt64, is_list ? Shape{static_cast<int64_t>(count)} : Shape{});
  if (!value->buffer) return Status(StatusCode::kOutOfMemory, std::string(kOp) + ": cannot allocate its value");
  if (name == "value_float") *value->data<float>() = a->f;
  if (name == "value_int") *value->data<int64_t>() = a->i;
  if (name == "value_floats" && count) std::memcpy(value->raw(), a->floats.data(), count * sizeof(float));
  if (name == "value_ints" && count) std::memcpy(value->raw(), a->ints.data(), count * sizeof(int64_t));
  return Status::Ok();
}

namespace {

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  ValueInfo& out = FirstOutput(outputs);
  MAAS_RETURN_IF_ERROR(ConstantValue(ctx.attrs, &out.value));
  out.dtype = out.value.dtype;
  out.shape = out.value.shape;
  out.rank_known = true;
  return Status::Ok();
}

OpSchema Make() {
  OpSchema s;
  s.op_type = kOp;
  s.min_inputs = s.max_inputs = 0;
  s.infer = Infer;
  return s;
}

SchemaRegistrar registrar(Make());

}  // namespace
}  // namespace maas
