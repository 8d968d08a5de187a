// Fusions of what exporters write as primitive ops back into one op:
//
//   FuseLayerNorm   Add(Mul(Div(Sub(x, ReduceMean(x)) = d,
//                               Sqrt(Add(ReduceMean(Pow(d, 2) | Mul(d, d)), eps))), gamma), beta)
//                   → LayerNormalization(x, gamma, beta; axis, epsilon)
//                   (both ReduceMeans over the same trailing axes, keepdims;
//                   gamma and beta one value per normalized element)
//   FuseGelu        x · 0.5 · (1 + erf(x / √2))          → Gelu(x)
//                   x · 0.5 · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
//                                                        → Gelu(x; approximate = "tanh")
//                   with the 0.5 applied first or last, x / √2 written as a
//                   Div or as a Mul by 1/√2, and every Add and Mul's operands
//                   in either order.
// The constants are checked (to 1e-4 relative), so a look-alike with other
// values stays as it is. The fused kernels compute the same functions in one
// pass; results agree with the primitive graph to float rounding.
#include <algorithm>
#include <cmath>

#include "graph/fusions.h"
#include "graph/pattern.h"
#include "ops/indexing.h"
#include "ops/op_util.h"

namespace maas {

namespace {

// The value is a one-element float constant within 1e-4 (relative) of `expected`.
std::function<bool(const Graph&, int)> ScalarNear(double expected) {
  return [expected](const Graph& graph, int value) {
    const Value& v = graph.values[value];
    if (!v.is_constant || v.constant.num_elements() != 1 || !v.constant.raw()) return false;
    double x = 0;
    switch (v.constant.dtype) {
      case DType::kFloat32: x = *v.constant.data<float>(); break;
      case DType::kFloat64: x = *v.constant.data<double>(); break;
      default: return false;
    }
    return std::fabs(x - expected) <= 1e-4 * std::fabs(expected);
  };
}

Pattern Near(double expected, std::string capture = "") {
  return Pattern::Constant(std::move(capture)).When(ScalarNear(expected));
}

Pattern Commuted(Pattern p) { return p.Commutative(); }

// ---- LayerNorm ----------------------------------------------------------------------

Pattern LayerNormPattern(bool square_as_mul) {
  const Pattern mean = Pattern::Op({"ReduceMean"}, {Pattern::Any("x")}, "mean");
  const Pattern d = Pattern::Op({"Sub"}, {Pattern::Any("x"), mean}, "d");
  const Pattern square = square_as_mul ? Pattern::Op({"Mul"}, {Pattern::Any("d"), Pattern::Any("d")}, "square")
                                       : Pattern::Op({"Pow"}, {Pattern::Any("d"), Near(2.0)}, "square");
  const Pattern variance = Pattern::Op({"ReduceMean"}, {square}, "variance");
  const Pattern shifted = Commuted(Pattern::Op({"Add"}, {variance, Pattern::Constant("eps")}));
  const Pattern deviation = Pattern::Op({"Sqrt"}, {shifted});
  const Pattern normalized = Pattern::Op({"Div"}, {d, deviation});
  const Pattern scaled = Commuted(Pattern::Op({"Mul"}, {normalized, Pattern::Any("gamma")}));
  return Commuted(Pattern::Op({"Add"}, {scaled, Pattern::Any("beta")}));
}

// The trailing axes a ReduceMean node reduces (keepdims), as the first of
// them; -1 when it reduces anything else.
int64_t TrailingAxisOf(const Graph& graph, const Node& node, int64_t rank) {
  if (node.attrs.GetInt("keepdims", 1) == 0 || node.attrs.GetInt("noop_with_empty_axes", 0) != 0) return -1;
  std::vector<int64_t> axes;
  if (graph.opset < 18) {
    axes = node.attrs.GetInts("axes", {});
  } else if (node.inputs.size() > 1 && node.inputs[1] != kNoValue) {
    const Value& v = graph.values[node.inputs[1]];
    if (!v.is_constant || !ReadIntList(v.constant, &axes)) return -1;
  }
  std::vector<int64_t> normalized;
  if (axes.empty() || !NormalizeAxes("ReduceMean", axes, rank, &normalized).ok()) return -1;
  std::sort(normalized.begin(), normalized.end());
  for (size_t i = 0; i < normalized.size(); ++i)
    if (normalized[i] != rank - static_cast<int64_t>(normalized.size() - i)) return -1;
  return normalized.front();
}

// gamma or beta: x's dtype, no more dims than the normalized ones, one value per normalized element.
bool ParamFits(const ValueInfo& param, const ValueInfo& x, int64_t axis) {
  const int64_t size = DimProduct(x.shape, static_cast<size_t>(axis), x.shape.size());
  return param.dtype == x.dtype && param.rank_known && size >= 0 &&
         static_cast<int64_t>(param.shape.size()) <= static_cast<int64_t>(x.shape.size()) - axis &&
         NumElements(param.shape) == size;
}

bool BuildLayerNorm(const Graph& graph, const Match& match, Node* fused) {
  const ValueInfo& x = graph.values[match.value("x")].info;
  if (!IsFloatDType(x.dtype) || !x.rank_known) return false;
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = TrailingAxisOf(graph, graph.nodes[match.node("mean")], rank);
  if (axis < 0 || TrailingAxisOf(graph, graph.nodes[match.node("variance")], rank) != axis) return false;
  const ValueInfo& gamma = graph.values[match.value("gamma")].info;
  const ValueInfo& beta = graph.values[match.value("beta")].info;
  if (!ParamFits(gamma, x, axis) || !ParamFits(beta, x, axis)) return false;
  const Value& eps = graph.values[match.value("eps")];
  if (eps.constant.num_elements() != 1 || !eps.constant.raw()) return false;
  double epsilon = 0;
  if (eps.constant.dtype == DType::kFloat32)
    epsilon = *eps.constant.data<float>();
  else if (eps.constant.dtype == DType::kFloat64)
    epsilon = *eps.constant.data<double>();
  else
    return false;
  fused->op_type = "LayerNormalization";
  fused->inputs = {match.value("x"), match.value("gamma"), match.value("beta")};
  fused->attrs.SetInt("axis", axis);
  fused->attrs.SetFloat("epsilon", static_cast<float>(epsilon));
  return true;
}

// ---- GELU ---------------------------------------------------------------------------

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrtTwoOverPi = 0.7978845608028654;

// The part that differs between the two forms: erf(x/√2) or tanh(√(2/π)(x + 0.044715x³)).
Pattern GeluCore(bool tanh_form, bool multiply) {
  if (!tanh_form) {
    const Pattern scaled = multiply ? Commuted(Pattern::Op({"Mul"}, {Pattern::Any("x"), Near(1.0 / kSqrt2)}))
                                    : Pattern::Op({"Div"}, {Pattern::Any("x"), Near(kSqrt2)});
    return Pattern::Op({"Erf"}, {scaled});
  }
  const Pattern cube = Pattern::Op({"Pow"}, {Pattern::Any("x"), Near(3.0)});
  const Pattern cubic = Commuted(Pattern::Op({"Mul"}, {cube, Near(0.044715)}));
  const Pattern inner = Commuted(Pattern::Op({"Add"}, {Pattern::Any("x"), cubic}));
  return Pattern::Op({"Tanh"}, {Commuted(Pattern::Op({"Mul"}, {inner, Near(kSqrtTwoOverPi)}))});
}

// half_first: (x · 0.5) · (1 + core); else (x · (1 + core)) · 0.5.
Pattern GeluPattern(bool tanh_form, bool multiply, bool half_first) {
  const Pattern one_plus = Commuted(Pattern::Op({"Add"}, {GeluCore(tanh_form, multiply), Near(1.0)}));
  if (half_first) {
    const Pattern half_x = Commuted(Pattern::Op({"Mul"}, {Pattern::Any("x"), Near(0.5)}));
    return Commuted(Pattern::Op({"Mul"}, {half_x, one_plus}));
  }
  const Pattern x_times = Commuted(Pattern::Op({"Mul"}, {Pattern::Any("x"), one_plus}));
  return Commuted(Pattern::Op({"Mul"}, {x_times, Near(0.5)}));
}

std::vector<FusionRule> GeluRules() {
  std::vector<FusionRule> rules;
  for (bool tanh_form : {false, true})
    for (bool multiply : tanh_form ? std::vector<bool>{false} : std::vector<bool>{false, true})
      for (bool half_first : {false, true}) {
        FusionRule rule;
        rule.name = tanh_form ? "GELU (tanh)" : "GELU (erf)";
        rule.pattern = GeluPattern(tanh_form, multiply, half_first);
        rule.build = [tanh_form](const Graph& graph, const Match& match, Node* fused) {
          if (!IsFloatDType(graph.values[match.value("x")].info.dtype)) return false;
          fused->op_type = "Gelu";
          fused->inputs = {match.value("x")};
          if (tanh_form) fused->attrs.SetString("approximate", "tanh");
          return true;
        };
        rules.push_back(std::move(rule));
      }
  return rules;
}

}  // namespace

int FuseLayerNorm(Graph* graph, const PassContext& context) {
  static const std::vector<FusionRule> rules = [] {
    std::vector<FusionRule> r(2);
    for (int i = 0; i < 2; ++i) {
      r[i].name = "LayerNorm";
      r[i].pattern = LayerNormPattern(i == 1);
      r[i].build = BuildLayerNorm;
    }
    return r;
  }();
  int replaced = 0;
  for (const FusionRule& rule : rules) replaced += ApplyFusion(graph, rule, context);
  return replaced;
}

int FuseGelu(Graph* graph, const PassContext& context) {
  static const std::vector<FusionRule> rules = GeluRules();
  int replaced = 0;
  for (const FusionRule& rule : rules) replaced += ApplyFusion(graph, rule, context);
  return replaced;
}

}  // namespace maas
