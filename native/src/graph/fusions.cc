// The fusion rules, applied by OptimizeGraph in the order listed there:
//   FuseMatMulBias   MatMul(a, b) + bias[N]          → maas.FusedMatMul(a, b, bias)
//   FuseActivations  {Gemm, MatMul, Conv, fused forms} → act → the fused form with activation=act
// (Conv + BatchNormalization folding is in graph/conv_fusions.cc.)
// Each replacement computes the same float operations in the same order
// (the GEMM epilogue adds the bias, then applies the activation), so fused
// and unfused results agree exactly on the CPU.
#include "graph/fusions.h"

#include "graph/pattern.h"
#include "ops/activation.h"
#include "ops/conv_geometry.h"
#include "ops/gemm_shapes.h"

namespace maas {

namespace {

// The bias is 1-D and as long as B's last dim, so the Add broadcasts it over
// rows and never widens the product.
bool BiasFits(const Graph& graph, const Match& match) {
  const ValueInfo& b = graph.values[match.value("b")].info;
  const ValueInfo& bias = graph.values[match.value("bias")].info;
  return b.rank_known && b.shape.size() >= 2 && bias.rank_known && bias.shape.size() == 1 && bias.shape[0] >= 0 &&
         bias.shape[0] == b.shape.back() && bias.dtype == b.dtype;
}

FusionRule MatMulBiasRule() {
  FusionRule rule;
  rule.name = "MatMul+bias";
  rule.pattern = Pattern::Op({"Add"}, {Pattern::Op({"MatMul"}, {Pattern::Any("a"), Pattern::Any("b")}, "mm"),
                                       Pattern::Any("bias")})
                     .Commutative();
  rule.build = [](const Graph& graph, const Match& match, Node* fused) {
    if (!BiasFits(graph, match)) return false;
    fused->op_type = kFusedMatMulOp;
    fused->inputs = {match.value("a"), match.value("b"), match.value("bias")};
    return true;
  };
  return rule;
}

FusionRule ActivationRule() {
  FusionRule rule;
  rule.name = "product+activation";
  const std::vector<std::string> producers = {"Gemm", kFusedGemmOp, "MatMul", kFusedMatMulOp, "Conv", kFusedConvOp};
  rule.pattern = Pattern::Op({"Relu", "Sigmoid", "Tanh"}, {Pattern::Op(producers, {}, "x")});
  rule.build = [](const Graph& graph, const Match& match, Node* fused) {
    const Node& act = graph.nodes[match.root_node];
    ActivationSpec spec;
    if (!ActivationOfNode(act.op_type, act.attrs, &spec)) return false;
    const Node& product = graph.nodes[match.node("x")];
    if (!product.attrs.GetString("activation", "").empty()) return false;  // one activation per node
    *fused = product;
    if (product.op_type == "Gemm") fused->op_type = kFusedGemmOp;
    if (product.op_type == "MatMul") fused->op_type = kFusedMatMulOp;
    if (product.op_type == "Conv") fused->op_type = kFusedConvOp;
    WriteActivation(spec, &fused->attrs);
    return true;
  };
  return rule;
}

}  // namespace

int FuseMatMulBias(Graph* graph, const PassContext& context) {
  static const FusionRule rule = MatMulBiasRule();
  return ApplyFusion(graph, rule, context);
}

int FuseActivations(Graph* graph, const PassContext& context) {
  static const FusionRule rule = ActivationRule();
  return ApplyFusion(graph, rule, context);
}

}  // namespace maas
