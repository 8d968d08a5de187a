// Pass 4 (RemoveIdentities) and the load-time pipeline after inference.
#include <numeric>

#include "graph/fusions.h"
#include "graph/passes.h"

namespace maas {

namespace {

bool IsIdentity(const Graph& graph, const Node& node) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1 || node.inputs[0] == kNoValue) return false;
  if (node.op_type == "Identity") return true;
  return node.op_type == "Cast" &&
         graph.values[node.inputs[0]].info.dtype == graph.values[node.outputs[0]].info.dtype &&
         graph.values[node.outputs[0]].info.dtype != DType::kUndefined;
}

}  // namespace

void RemoveIdentities(Graph* graph) {
  std::vector<int> source(graph->values.size());
  std::iota(source.begin(), source.end(), 0);
  std::vector<bool> keep(graph->nodes.size(), true);
  bool any = false;
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& node = graph->nodes[n];
    // A graph output keeps its node: its name must still be written.
    if (!IsIdentity(*graph, node) || graph->IsGraphOutput(node.outputs[0])) continue;
    source[node.outputs[0]] = source[node.inputs[0]];  // nodes are sorted: the input is final already
    graph->values[node.outputs[0]].producer = -1;
    keep[n] = false;
    any = true;
  }
  if (!any) return;
  for (Node& node : graph->nodes)
    for (int& in : node.inputs)
      if (in != kNoValue) in = source[in];
  KeepNodes(graph, keep);
}

Status OptimizeGraph(Graph* graph, const PassContext& context) {
  RemoveIdentities(graph);
  if (context.fuse) {
    FuseLayerNorm(graph, context);
    FuseGelu(graph, context);
    FoldConvBatchNorm(graph, context);
    FuseMatMulBias(graph, context);
    FuseActivations(graph, context);
  }
  RemoveDeadNodes(graph);
  return Status::Ok();
}

}  // namespace maas
