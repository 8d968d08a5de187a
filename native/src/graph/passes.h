// The graph passes. At load they run in this order (the loader in
// engine/session.cc, then OptimizeGraph in graph/simplify.cc):
//   1. RemoveDeadNodes      nodes no output depends on       (in BuildGraph)
//   2. InferAndFold         dtypes and shapes, constants folded on the host
//   3. RemoveDeadNodes      what folding made unreachable
//   4. RemoveIdentities     Identity, Cast to the same dtype
//   5. fusions              FuseLayerNorm, FuseGelu (graph/fusions_primitive.cc),
//                           FoldConvBatchNorm (graph/conv_fusions.cc), then
//                           FuseMatMulBias, FuseActivations (graph/fusions.cc)
//   6. RemoveDeadNodes
// and per execution plan, with the input shapes known, folding again so
// shape subgraphs vanish (plan/planner.cc). docs/engine.md ("Graph passes")
// says how to add one.
#pragma once
#include <vector>

#include "graph/graph.h"
#include "maas/backend.h"
#include "ops/schema.h"

namespace maas {

// What the passes may consult.
struct PassContext {
  Backend* host = nullptr;          // evaluates foldable nodes (always the CPU backend)
  const Backend* target = nullptr;  // the session's backend: fusions make only nodes it can run
  bool fuse = true;                 // run the fusion passes
};

// Drops nodes no graph output depends on (and nodes already folded away).
void RemoveDeadNodes(Graph* graph);

// Keeps the nodes whose flag is set, in order, and renumbers producers.
void KeepNodes(Graph* graph, const std::vector<bool>& keep);

// Runs each node's schema infer in topological order to type every value,
// and folds nodes whose value is known from inference or whose inputs are all
// constants (small outputs only) by evaluating them on the host; their
// outputs become constants. A node whose op has no schema or whose infer
// reports kUnsupported goes to `report`; its outputs (and what depends on
// them) stay untyped, so later nodes are not blamed for it.
Status InferAndFold(Graph* graph, Backend& host, UnsupportedReport* report);

// One node's inference: checks the output count and strips input constants
// from the returned infos. Errors name the node.
Status InferNode(const Node& node, const OpSchema& schema, int opset, const std::vector<ValueInfo>& inputs,
                 std::vector<ValueInfo>* outputs);

// Whether a node with these inferred outputs may be folded: its schema
// allows it and every output is small and of known shape.
bool IsFoldable(const OpSchema& schema, const std::vector<ValueInfo>& outputs);

// Evaluates one node on the host backend over constant inputs. kUnsupported
// when the host has no kernel for it (the node then stays in the graph).
Status EvaluateOnHost(Backend& host, const NodeDesc& node, const std::vector<const Tensor*>& inputs,
                      std::vector<Tensor>* outputs);

// Readers of Identity outputs and of Casts to the same dtype read the input
// instead; the nodes go (unless their output is a graph output).
void RemoveIdentities(Graph* graph);

// Passes 4 to 6 above.
Status OptimizeGraph(Graph* graph, const PassContext& context);

}  // namespace maas
