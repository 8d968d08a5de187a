// Activations that a producer (Gemm, MatMul, later Conv) can apply in its
// epilogue instead of a separate node. The fusion pass turns "X then Relu"
// into one fused node with activation="Relu"; every backend that claims the
// fused op implements each activation listed here. Part of the op semantics,
// so backend-neutral.
#pragma once
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"
#include "ops/schema.h"

namespace maas {

enum class Activation { kNone, kRelu, kSigmoid, kTanh };

struct ActivationSpec {
  Activation kind = Activation::kNone;
  float alpha = 0.0f;  // parameters of activations that take them (none yet)
  float beta = 0.0f;
};

const char* ActivationName(Activation kind);  // "" for kNone, else the ONNX op name

// Reads a fused node's `activation` (plus `activation_alpha`/`_beta`)
// attributes; kUnsupported for a name not listed above.
Status ParseActivation(const Attributes& attrs, ActivationSpec* spec);

// True when a node of `op_type` with `attrs` is an activation an epilogue can
// absorb (and which one); writes the attributes a fused node carries for it.
bool ActivationOfNode(const std::string& op_type, const Attributes& attrs, ActivationSpec* spec);
void WriteActivation(const ActivationSpec& spec, Attributes* attrs);

// The attributes every fused op carries for its activation, and the check a
// fused op's infer starts with (kUnsupported naming `op` for an unknown one).
const std::vector<AttrSpec>& FusedActivationAttrs();
Status CheckFusedActivation(const std::string& op, const InferContext& ctx);

}  // namespace maas
