// Inference and constant folding over the whole graph (pass 2), and the
// per-node pieces the planner reuses with concrete shapes.
#include <memory>

#include "graph/passes.h"

namespace maas {

namespace {

// Folding is for shape arithmetic and small constants; big tensors stay
// computed at run time rather than bloating the loaded model.
constexpr int64_t kMaxFoldElements = int64_t{1} << 20;

std::string Where(const Node& node) { return "node '" + node.name + "' (" + node.op_type + "): "; }

Status WithContext(const Node& node, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), Where(node) + status.message());
}

void MakeConstant(Value* value, Tensor tensor) {
  value->is_constant = true;
  value->info.dtype = tensor.dtype;
  value->info.shape = tensor.shape;
  value->info.rank_known = true;
  value->info.value = Tensor();
  value->constant = std::move(tensor);
}

}  // namespace

Status InferNode(const Node& node, const OpSchema& schema, int opset, const std::vector<ValueInfo>& inputs,
                 std::vector<ValueInfo>* outputs) {
  InferContext ctx;
  ctx.inputs = inputs;
  ctx.attrs = &node.attrs;
  ctx.opset = opset;
  outputs->assign(node.outputs.size(), ValueInfo());
  MAAS_RETURN_IF_ERROR(WithContext(node, schema.infer(ctx, *outputs)));
  if (outputs->size() != node.outputs.size())
    return Internal(Where(node) + "shape inference returned the wrong number of outputs");
  for (ValueInfo& out : *outputs) out.constant = nullptr;
  return Status::Ok();
}

bool IsFoldable(const OpSchema& schema, const std::vector<ValueInfo>& outputs) {
  if (!schema.foldable) return false;
  for (const ValueInfo& out : outputs) {
    if (!out.rank_known) return false;
    const int64_t n = NumElements(out.shape);
    if (n < 0 || n > kMaxFoldElements) return false;
  }
  return true;
}

Status EvaluateOnHost(Backend& host, const NodeDesc& node, const std::vector<const Tensor*>& inputs,
                      std::vector<Tensor>* outputs) {
  if (!node.op_type || !host.HasOp(*node.op_type) || !host.CheckNode(node).empty())
    return Unsupported("no host kernel to fold " + (node.op_type ? *node.op_type : std::string()));
  std::unique_ptr<Executable> executable;
  MAAS_RETURN_IF_ERROR(host.Bind(node, &executable));
  outputs->assign(node.outputs.size(), Tensor());
  std::vector<Tensor*> slots;
  for (Tensor& t : *outputs) slots.push_back(&t);
  std::unique_ptr<Stream> stream;
  MAAS_RETURN_IF_ERROR(host.CreateStream(&stream));
  ExecContext ctx(Span<const Tensor* const>(inputs.data(), inputs.size()),
                  Span<Tensor* const>(slots.data(), slots.size()), &host, stream.get());
  MAAS_RETURN_IF_ERROR(executable->Run(ctx));
  MAAS_RETURN_IF_ERROR(stream->Synchronize());
  for (size_t i = 0; i < outputs->size(); ++i) {
    const Tensor& result = (*outputs)[i];
    if (node.outputs[i].dtype == DType::kUndefined) continue;  // an unused optional output
    if (result.dtype == DType::kUndefined || (!result.buffer && result.num_elements() != 0))
      return Internal("the kernel produced no output " + std::to_string(i));
    // As at run time: later folds trust shape and buffer to agree.
    if (result.num_elements() < 0 || result.available_bytes() < result.size_bytes())
      return Internal("output " + std::to_string(i) + " " + ShapeToString(result.shape) + " does not fit its buffer");
  }
  return Status::Ok();
}

Status InferAndFold(Graph* graph, Backend& host, UnsupportedReport* report) {
  // Values downstream of something unsupported: not typed, not blamed.
  std::vector<bool> untyped(graph->values.size(), false);
  for (const Node& node : graph->nodes) {
    const OpSchema* schema = FindSchema(node.op_type);
    bool skip = !schema;
    std::vector<ValueInfo> inputs;
    inputs.reserve(node.inputs.size());
    for (int in : node.inputs) {
      if (in != kNoValue && untyped[in]) skip = true;
      inputs.push_back(in == kNoValue ? ValueInfo() : graph->InfoFor(in));
    }
    std::vector<ValueInfo> outputs;
    if (!skip) {
      Status status = InferNode(node, *schema, graph->opset, inputs, &outputs);
      if (status.code() == StatusCode::kUnsupported) {
        report->AddNode(status.message());
        skip = true;
      } else if (!status.ok()) {
        return status;
      }
    }
    if (skip) {
      for (int out : node.outputs)
        if (out != kNoValue) untyped[out] = true;
      continue;
    }
    bool all_known = true;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const int out = node.outputs[i];
      all_known &= out == kNoValue || outputs[i].has_value();
      if (out != kNoValue) graph->values[out].info = outputs[i];
    }
    if (all_known) {
      for (size_t i = 0; i < node.outputs.size(); ++i)
        if (node.outputs[i] != kNoValue) MakeConstant(&graph->values[node.outputs[i]], outputs[i].value);
      continue;
    }
    bool inputs_constant = true;
    for (int in : node.inputs) inputs_constant &= in == kNoValue || graph->values[in].is_constant;
    if (!inputs_constant || !IsFoldable(*schema, outputs)) continue;
    std::vector<const Tensor*> tensors;
    tensors.reserve(node.inputs.size());
    for (int in : node.inputs) tensors.push_back(in == kNoValue ? nullptr : &graph->values[in].constant);
    std::vector<Tensor> results;
    Status status = EvaluateOnHost(host, graph->DescFor(node), tensors, &results);
    if (status.code() == StatusCode::kUnsupported) continue;  // no host kernel: it runs at run time
    MAAS_RETURN_IF_ERROR(WithContext(node, status));
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i] != kNoValue) MakeConstant(&graph->values[node.outputs[i]], std::move(results[i]));
  }
  return Status::Ok();
}

}  // namespace maas
