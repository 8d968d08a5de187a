#include "graph/plan.h"

namespace maas {

ExecutionPlan PlanExecution(const Graph& graph) {
  const int kNever = -1;
  std::vector<int> last_step(graph.values.size(), kNever);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    for (int out : node.outputs)  // an unread output dies where it is born
      if (out != kNoValue && last_step[out] == kNever) last_step[out] = static_cast<int>(n);
    for (int in : node.inputs)
      if (in != kNoValue) last_step[in] = static_cast<int>(n);
  }
  std::vector<bool> keep(graph.values.size(), false);
  for (int id : graph.output_ids) keep[id] = true;
  for (size_t id = 0; id < graph.values.size(); ++id)
    if (graph.values[id].is_constant) keep[id] = true;

  ExecutionPlan plan;
  plan.steps.resize(graph.nodes.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) plan.steps[n].node = static_cast<int>(n);
  for (size_t id = 0; id < graph.values.size(); ++id)
    if (!keep[id] && last_step[id] != kNever) plan.steps[last_step[id]].release_after.push_back(static_cast<int>(id));
  return plan;
}

}  // namespace maas
