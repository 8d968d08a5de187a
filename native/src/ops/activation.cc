#include "ops/activation.h"

namespace maas {

const char* ActivationName(Activation kind) {
  switch (kind) {
    case Activation::kNone: return "";
    case Activation::kRelu: return "Relu";
    case Activation::kSigmoid: return "Sigmoid";
    case Activation::kTanh: return "Tanh";
  }
  return "";
}

namespace {

bool ActivationFromName(const std::string& name, Activation* kind) {
  for (Activation k : {Activation::kNone, Activation::kRelu, Activation::kSigmoid, Activation::kTanh}) {
    if (name == ActivationName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

}  // namespace

Status ParseActivation(const Attributes& attrs, ActivationSpec* spec) {
  *spec = ActivationSpec();
  const std::string name = attrs.GetString("activation", "");
  if (!ActivationFromName(name, &spec->kind)) return Unsupported("unsupported fused activation '" + name + "'");
  spec->alpha = attrs.GetFloat("activation_alpha", 0.0f);
  spec->beta = attrs.GetFloat("activation_beta", 0.0f);
  return Status::Ok();
}

bool ActivationOfNode(const std::string& op_type, const Attributes& attrs, ActivationSpec* spec) {
  (void)attrs;  // parameters of activations such as LeakyRelu come from here
  *spec = ActivationSpec();
  return op_type != "" && ActivationFromName(op_type, &spec->kind) && spec->kind != Activation::kNone;
}

void WriteActivation(const ActivationSpec& spec, Attributes* attrs) {
  attrs->SetString("activation", ActivationName(spec.kind));
  if (spec.alpha != 0.0f) attrs->SetFloat("activation_alpha", spec.alpha);
  if (spec.beta != 0.0f) attrs->SetFloat("activation_beta", spec.beta);
}

const std::vector<AttrSpec>& FusedActivationAttrs() {
  static const std::vector<AttrSpec> attrs = {{"activation", Attribute::Kind::kString},
                                              {"activation_alpha", Attribute::Kind::kFloat},
                                              {"activation_beta", Attribute::Kind::kFloat}};
  return attrs;
}

Status CheckFusedActivation(const std::string& op, const InferContext& ctx) {
  if (!ctx.attrs) return Status::Ok();
  ActivationSpec spec;
  Status s = ParseActivation(*ctx.attrs, &spec);
  return s.ok() ? s : Status(s.code(), op + ": " + s.message());
}

}  // namespace maas
