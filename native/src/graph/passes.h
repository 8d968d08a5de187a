// Graph passes run by BuildGraph after the graph is sorted and checked.
#pragma once
#include <vector>

#include "graph/graph.h"

namespace maas {

// Drops nodes no graph output depends on (and nodes already folded away).
void RemoveDeadNodes(Graph* graph);

// Keeps the nodes whose flag is set, in order, and renumbers producers.
void KeepNodes(Graph* graph, const std::vector<bool>& keep);

// Runs each kernel's infer in topological order to type every value, and
// evaluates nodes whose inputs are all constants (small outputs only), turning
// their outputs into constants; such nodes leave the graph.
Status InferAndFold(Graph* graph);

}  // namespace maas
