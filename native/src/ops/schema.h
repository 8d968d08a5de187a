// Operator schemas: what the engine knows about an op independent of any
// backend — its arity, its attributes, how its output dtypes and shapes
// follow from its inputs (type and shape inference), whether it may be
// folded on the host, and which outputs are views of (or may reuse the
// memory of) an input. Every op the engine accepts has exactly one schema,
// registered from native/src/ops/<family>.cc; each backend then brings its
// own kernels (docs/engine.md, "Adding an op").
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

// What a schema's infer sees: one ValueInfo per node input (an absent
// optional input has dtype kUndefined), the attributes and the opset.
struct InferContext {
  std::vector<ValueInfo> inputs;
  const Attributes* attrs = nullptr;
  int opset = 13;  // the default-domain opset the model imports
};

// An attribute the op reads. Attributes not listed are ignored; listed ones
// of the wrong kind make the model invalid (a float attribute may be written
// as an int, as exporters do for alpha=1).
struct AttrSpec {
  std::string name;
  Attribute::Kind kind = Attribute::Kind::kInt;
  bool required = false;
};

struct OpSchema {
  using InferFn = std::function<Status(const InferContext& ctx, std::vector<ValueInfo>& outputs)>;

  std::string op_type;  // "Gemm", or "domain.Op" ("maas.FusedGemm" for the engine's own)
  int min_inputs = 0;
  int max_inputs = 0;  // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;
  std::vector<AttrSpec> attributes;
  // Fills `outputs` (sized to the node's output count) with dtypes and shapes
  // as far as they are known; may set ValueInfo::value when the contents
  // follow from the inputs' infos alone. kInvalidModel for shapes or
  // attributes that can never work; kUnsupported for a dtype outside the
  // op's type constraint or an attribute value the engine does not handle.
  // Must accept unknown dims and unknown ranks.
  InferFn infer;
  // False for ops whose result is not a function of their inputs (random).
  // Folding evaluates the node on the host backend when every input is a
  // constant (load time) or became one for a plan's input shapes.
  bool foldable = true;
  // Per output: the input whose bytes it is (a view with a new shape, e.g.
  // Reshape), or -1. Every backend implements such an output as a view
  // (ExecContext::SetOutputView); the planner gives it no memory of its own.
  std::vector<int> views;
  // Per output: an input whose memory it may take over when that input's
  // last reader is this node and sizes match (elementwise ops, where out[i]
  // depends on in[i] only), or -1. Kernels of such ops must allow out == in.
  std::vector<int> in_place;

  int ViewOf(size_t output) const { return output < views.size() ? views[output] : -1; }
  int InPlaceWith(size_t output) const { return output < in_place.size() ? in_place[output] : -1; }
};

// The schema for an op type, or null when the engine does not know the op.
const OpSchema* FindSchema(const std::string& op_type);
std::vector<std::string> SchemaOpTypes();

// Arity and attribute kinds against the schema (kInvalidModel naming the op).
Status CheckNodeAgainstSchema(const OpSchema& schema, size_t input_count, size_t output_count, const Attributes& attrs);

// Used by each schema file: `SchemaRegistrar reg(OpSchema{...});`
struct SchemaRegistrar {
  explicit SchemaRegistrar(OpSchema schema);
};

}  // namespace maas
