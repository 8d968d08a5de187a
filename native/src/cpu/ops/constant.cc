// Constant: its output is the attribute's value. `value` (a tensor) is shared
// without a copy; value_float(s)/value_int(s) build a scalar or 1-D tensor.
#include <cstring>
#include <string>

#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

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

Status Describe(const Attribute& a, const std::string& name, DType* dtype, Shape* shape) {
  if (name == "value") {
    if (a.kind != Attribute::Kind::kTensor) return InvalidModel(std::string(kOp) + ": 'value' is not a tensor");
    if (DTypeSizeBytes(a.t.dtype) == 0) return UnsupportedDType(kOp, a.t.dtype);
    *dtype = a.t.dtype;
    *shape = a.t.shape;
  } else if (name == "value_float") {
    *dtype = DType::kFloat32;
    *shape = {};
  } else if (name == "value_floats") {
    *dtype = DType::kFloat32;
    *shape = {static_cast<int64_t>(a.floats.size())};
  } else if (name == "value_int") {
    *dtype = DType::kInt64;
    *shape = {};
  } else {
    *dtype = DType::kInt64;
    *shape = {static_cast<int64_t>(a.ints.size())};
  }
  return Status::Ok();
}

Status Infer(const InferContext& ctx, std::vector<ValueInfo>& outputs) {
  const Attribute* value = nullptr;
  std::string name;
  MAAS_RETURN_IF_ERROR(FindValue(ctx.attrs, &value, &name));
  ValueInfo& out = FirstOutput(outputs);
  MAAS_RETURN_IF_ERROR(Describe(*value, name, &out.dtype, &out.shape));
  out.rank_known = true;
  // Points into the node's attributes, which live as long as the graph.
  out.constant = name == "value" ? &value->t : nullptr;
  return Status::Ok();
}

Status Compute(KernelContext& ctx) {
  const Attribute* value = nullptr;
  std::string name;
  MAAS_RETURN_IF_ERROR(FindValue(ctx.attrs, &value, &name));
  if (!ctx.outputs || ctx.outputs->empty()) return Internal(std::string(kOp) + ": no output slot");
  if (name == "value") {
    if (!value->t.buffer && value->t.num_elements() != 0) return InvalidModel(std::string(kOp) + ": value has no data");
    (*ctx.outputs)[0] = value->t;
    return Status::Ok();
  }
  DType dtype;
  Shape shape;
  MAAS_RETURN_IF_ERROR(Describe(*value, name, &dtype, &shape));
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, dtype, shape));
  Tensor& out = (*ctx.outputs)[0];
  if (name == "value_float") *out.data<float>() = value->f;
  if (name == "value_int") *out.data<int64_t>() = value->i;
  if (name == "value_floats" && !value->floats.empty())
    std::memcpy(out.raw(), value->floats.data(), value->floats.size() * sizeof(float));
  if (name == "value_ints" && !value->ints.empty())
    std::memcpy(out.raw(), value->ints.data(), value->ints.size() * sizeof(int64_t));
  return Status::Ok();
}

KernelRegistrar registrar(OpKernel{kOp, Infer, Compute});

}  // namespace
}  // namespace maas
