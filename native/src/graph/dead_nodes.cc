#include "graph/passes.h"

namespace maas {

void KeepNodes(Graph* graph, const std::vector<bool>& keep) {
  std::vector<int> new_index(graph->nodes.size(), -1);
  std::vector<Node> kept;
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    if (!keep[n]) continue;
    new_index[n] = static_cast<int>(kept.size());
    kept.push_back(std::move(graph->nodes[n]));
  }
  graph->nodes = std::move(kept);
  for (Value& value : graph->values)
    if (value.producer >= 0) value.producer = new_index[value.producer];
}

void RemoveDeadNodes(Graph* graph) {
  // Walk backwards from the outputs; nodes are topologically sorted, so one
  // reverse pass sees every consumer before its producers.
  std::vector<bool> live_value(graph->values.size(), false);
  for (int id : graph->output_ids) live_value[id] = true;
  std::vector<bool> keep(graph->nodes.size(), false);
  for (size_t n = graph->nodes.size(); n-- > 0;) {
    const Node& node = graph->nodes[n];
    for (int out : node.outputs) {
      // A folded output is a constant now; its node need not run.
      if (out != kNoValue && live_value[out] && !graph->values[out].is_constant) keep[n] = true;
    }
    if (!keep[n]) continue;
    for (int in : node.inputs)
      if (in != kNoValue) live_value[in] = true;
  }
  KeepNodes(graph, keep);
}

}  // namespace maas
