// The execution plan: which node runs at each step and which values can be
// freed after it, so a run holds only the intermediates still needed.
#pragma once
#include <vector>

#include "graph/graph.h"

namespace maas {

struct PlanStep {
  int node = 0;                    // index into Graph::nodes
  std::vector<int> release_after;  // value ids whose last reader is this step
};

struct ExecutionPlan {
  std::vector<PlanStep> steps;
};

// Steps follow the graph's (topological) node order. Constants and graph
// outputs are never released; inputs and intermediates are released after
// their last reader (or right after their producer when nothing reads them).
ExecutionPlan PlanExecution(const Graph& graph);

}  // namespace maas
