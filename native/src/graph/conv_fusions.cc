// Conv + BatchNormalization folding (run before the activation fusions, so
// Conv → BatchNormalization → Relu becomes one maas.FusedConv):
//   BatchNormalization(Conv(x, W, b), scale, B, mean, var), every parameter
//   a float32 constant and the Conv's output read by the BatchNormalization
//   only, becomes Conv(x, W', b') with, per output channel m,
//     s = scale[m] / sqrt(var[m] + epsilon)
//     W'[m, ...] = W[m, ...] * s,   b'[m] = (b[m] - mean[m]) * s + B[m]
// computed on the host in double. Results differ from the unfused pair by
// float rounding only (the ORT comparison tests run both forms).
#include <cmath>

#include "graph/fusions.h"
#include "graph/pattern.h"

namespace maas {

namespace {

// A float32 constant of `count` values, 1-D [count].
const Tensor* ChannelParams(const Graph& graph, int value, int64_t count) {
  const Value& v = graph.values[value];
  if (!v.is_constant || v.constant.dtype != DType::kFloat32 || v.constant.shape != Shape{count}) return nullptr;
  return &v.constant;
}

FusionRule ConvBatchNormRule() {
  FusionRule rule;
  rule.name = "Conv+BatchNormalization";
  rule.pattern =
      Pattern::Op({"BatchNormalization"}, {Pattern::Op({"Conv"}, {Pattern::Any("x"), Pattern::Constant("w")}, "conv"),
                                           Pattern::Constant("scale"), Pattern::Constant("shift"),
                                           Pattern::Constant("mean"), Pattern::Constant("var")});
  rule.build_with_constants = [](Graph* graph, const Match& match, Node* folded) {
    const Node& bn = graph->nodes[match.root_node];
    const Node& conv = graph->nodes[match.node("conv")];
    if (bn.attrs.GetInt("training_mode", 0) != 0) return false;
    for (size_t i = 1; i < bn.outputs.size(); ++i)
      if (bn.outputs[i] != kNoValue) return false;  // running statistics are asked for
    const Tensor& w = graph->values[match.value("w")].constant;
    if (w.dtype != DType::kFloat32 || w.shape.size() < 3 || w.shape[0] <= 0) return false;
    const int64_t channels = w.shape[0];
    const Tensor* scale = ChannelParams(*graph, match.value("scale"), channels);
    const Tensor* shift = ChannelParams(*graph, match.value("shift"), channels);
    const Tensor* mean = ChannelParams(*graph, match.value("mean"), channels);
    const Tensor* var = ChannelParams(*graph, match.value("var"), channels);
    const int bias_id = conv.inputs.size() > 2 ? conv.inputs[2] : kNoValue;
    const Tensor* bias = bias_id == kNoValue ? nullptr : ChannelParams(*graph, bias_id, channels);
    if (!scale || !shift || !mean || !var || (bias_id != kNoValue && !bias)) return false;
    const double epsilon = bn.attrs.GetFloat("epsilon", 1e-5f);
    Tensor new_w = MakeTensor(DType::kFloat32, w.shape);
    Tensor new_b = MakeTensor(DType::kFloat32, {channels});
    if (!new_w.buffer || !new_b.buffer) return false;
    const int64_t per_channel = w.num_elements() / channels;
    for (int64_t m = 0; m < channels; ++m) {
      const double s = scale->data<float>()[m] / std::sqrt(static_cast<double>(var->data<float>()[m]) + epsilon);
      const float* src = w.data<float>() + m * per_channel;
      float* dst = new_w.data<float>() + m * per_channel;
      for (int64_t i = 0; i < per_channel; ++i) dst[i] = static_cast<float>(src[i] * s);
      const double b = bias ? bias->data<float>()[m] : 0.0;
      new_b.data<float>()[m] = static_cast<float>((b - mean->data<float>()[m]) * s + shift->data<float>()[m]);
    }
    const std::string base = graph->values[match.value("w")].name;
    *folded = conv;
    folded->inputs = {match.value("x"), AddConstant(graph, base + "/bn_folded", std::move(new_w)),
                      AddConstant(graph, base + "/bn_folded_bias", std::move(new_b))};
    return true;
  };
  return rule;
}

}  // namespace

int FoldConvBatchNorm(Graph* graph, const PassContext& context) {
  static const FusionRule rule = ConvBatchNormRule();
  return ApplyFusion(graph, rule, context);
}

}  // namespace maas
