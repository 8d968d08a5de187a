// Builds the execution plan for one input-shape signature (plan/plan.h).
#pragma once
#include <memory>
#include <vector>

#include "graph/graph.h"
#include "maas/backend.h"
#include "plan/plan.h"

namespace maas {

// What a plan is built from: the session's optimized graph, its backend and
// the executables bound at load, and the host backend for folding.
struct PlanSource {
  const Graph* graph = nullptr;
  Backend* backend = nullptr;
  Backend* host = nullptr;
  const std::vector<std::unique_ptr<Executable>>* executables = nullptr;  // per node
  // SessionOptions::max_tensor_bytes: a plan with a larger tensor is refused
  // (kOutputTooLarge) before any run allocates it; 0: no limit.
  uint64_t max_tensor_bytes = 0;
};

// Infers every shape for `input_shapes` (in the graph's input order), folds
// what became constant (shape subgraphs), drops steps nothing needs, decides
// each value's storage and lays the arena out. kInvalidArgument when the
// shapes cannot run through the model.
Status BuildPlan(const PlanSource& source, const std::vector<Shape>& input_shapes, ExecutionPlan* plan);

}  // namespace maas
