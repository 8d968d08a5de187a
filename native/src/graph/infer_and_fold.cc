#include <set>

#include "graph/passes.h"

namespace maas {

namespace {

// Folding is for shape arithmetic and small constants; big tensors stay
// computed at run time rather than bloating the loaded model.
constexpr int64_t kMaxFoldElements = int64_t{1} << 20;

bool IsNondeterministic(const std::string& op_type) {
  static const std::set<std::string> kRandomOps = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                                   "RandomUniformLike", "Multinomial", "Bernoulli"};
  return kRandomOps.count(op_type) != 0;
}

std::string Where(const Node& node) { return "node '" + node.name + "' (" + node.op_type + "): "; }

Status WithContext(const Node& node, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), Where(node) + status.message());
}

bool CanFold(const Graph& graph, const Node& node, const std::vector<ValueInfo>& outputs) {
  if (IsNondeterministic(node.op_type)) return false;
  for (int in : node.inputs)
    if (in != kNoValue && !graph.values[in].is_constant) return false;
  for (const ValueInfo& out : outputs) {
    if (!out.rank_known) return false;
    int64_t n = NumElements(out.shape);
    if (n < 0 || n > kMaxFoldElements) return false;
  }
  return true;
}

Status Fold(Graph* graph, const Node& node, const OpKernel& kernel) {
  KernelContext ctx;
  for (int in : node.inputs) ctx.inputs.push_back(in == kNoValue ? nullptr : &graph->values[in].constant);
  std::vector<Tensor> results(node.outputs.size());
  ctx.outputs = &results;
  ctx.attrs = &node.attrs;
  ctx.opset = graph->opset;
  ctx.pool = nullptr;
  MAAS_RETURN_IF_ERROR(WithContext(node, kernel.compute(ctx)));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int out = node.outputs[i];
    if (out == kNoValue) continue;
    Tensor& result = results[i];
    if (result.dtype == DType::kUndefined || (!result.buffer && result.num_elements() != 0))
      return Internal(Where(node) + "the kernel produced no output " + std::to_string(i));
    // As at run time (CheckKernelOutput): later folds trust shape and buffer to agree.
    if (result.num_elements() < 0 || (result.size_bytes() > 0 && result.buffer->size_bytes() < result.size_bytes()))
      return Internal(Where(node) + "output " + std::to_string(i) + " " + ShapeToString(result.shape) +
                      " does not fit its buffer");
    Value& value = graph->values[out];
    value.is_constant = true;
    value.info.dtype = result.dtype;
    value.info.shape = result.shape;
    value.info.rank_known = true;
    value.constant = std::move(result);
  }
  return Status::Ok();
}

}  // namespace

Status InferAndFold(Graph* graph) {
  for (const Node& node : graph->nodes) {
    const OpKernel* kernel = FindCpuKernel(node.op_type);
    if (!kernel) return Unsupported("unsupported ops: " + node.op_type);  // filtered earlier; defensive
    InferContext ctx;
    for (int in : node.inputs) ctx.inputs.push_back(in == kNoValue ? ValueInfo() : graph->InfoFor(in));
    ctx.attrs = &node.attrs;
    ctx.opset = graph->opset;
    std::vector<ValueInfo> outputs(node.outputs.size());
    if (kernel->infer) MAAS_RETURN_IF_ERROR(WithContext(node, kernel->infer(ctx, outputs)));
    if (outputs.size() != node.outputs.size())
      return Internal(Where(node) + "shape inference returned the wrong number of outputs");
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      int out = node.outputs[i];
      if (out == kNoValue) continue;
      graph->values[out].info = outputs[i];
      graph->values[out].info.constant = nullptr;  // constants are reached through InfoFor
    }
    if (kernel->compute && CanFold(*graph, node, outputs)) MAAS_RETURN_IF_ERROR(Fold(graph, node, *kernel));
  }
  return Status::Ok();
}

}  // namespace maas
