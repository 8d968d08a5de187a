// The schema table. Schema files register from static initializers, so the
// table is a function-local static built on first use, whatever order the
// translation units initialize in.
#include "ops/schema.h"

#include <map>
#include <utility>

namespace maas {
namespace {

std::map<std::string, OpSchema>& SchemaTable() {
  static std::map<std::string, OpSchema> table;
  return table;
}

}  // namespace

SchemaRegistrar::SchemaRegistrar(OpSchema schema) {
  std::string op_type = schema.op_type;
  SchemaTable()[op_type] = std::move(schema);
}

const OpSchema* FindSchema(const std::string& op_type) {
  const auto& table = SchemaTable();
  auto it = table.find(op_type);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<std::string> SchemaOpTypes() {
  std::vector<std::string> names;
  for (const auto& entry : SchemaTable()) names.push_back(entry.first);
  return names;
}

Status CheckNodeAgainstSchema(const OpSchema& schema, size_t input_count, size_t output_count,
                              const Attributes& attrs) {
  const std::string& op = schema.op_type;
  auto count_error = [&](const char* what, size_t have, int min, int max) {
    std::string range = max < 0
                            ? "at least " + std::to_string(min)
                            : (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max));
    return InvalidModel(op + ": has " + std::to_string(have) + " " + what + ", expects " + range);
  };
  if (static_cast<int64_t>(input_count) < schema.min_inputs ||
      (schema.max_inputs >= 0 && static_cast<int64_t>(input_count) > schema.max_inputs))
    return count_error("inputs", input_count, schema.min_inputs, schema.max_inputs);
  if (static_cast<int64_t>(output_count) < schema.min_outputs ||
      (schema.max_outputs >= 0 && static_cast<int64_t>(output_count) > schema.max_outputs))
    return count_error("outputs", output_count, schema.min_outputs, schema.max_outputs);
  for (const AttrSpec& spec : schema.attributes) {
    const Attribute* a = attrs.Find(spec.name);
    if (!a) {
      if (spec.required) return InvalidModel(op + ": missing '" + spec.name + "' attribute");
      continue;
    }
    const bool int_for_float = spec.kind == Attribute::Kind::kFloat && a->kind == Attribute::Kind::kInt;
    if (a->kind != spec.kind && !int_for_float)
      return InvalidModel(op + ": attribute '" + spec.name + "' is " + AttributeKindName(a->kind) + ", expects " +
                          AttributeKindName(spec.kind));
  }
  return Status::Ok();
}

}  // namespace maas
