// Fusion passes (rules in graph/fusions.cc and graph/fusions_primitive.cc);
// each returns how many nodes it replaced. The target backend decides: a rule
// only makes nodes it can run.
#pragma once
#include "graph/graph.h"
#include "graph/passes.h"

namespace maas {

// graph/fusions_primitive.cc: ops exporters spell out as primitives.
int FuseLayerNorm(Graph* graph, const PassContext& context);
int FuseGelu(Graph* graph, const PassContext& context);
// graph/fusions.cc
int FuseMatMulBias(Graph* graph, const PassContext& context);
int FuseActivations(Graph* graph, const PassContext& context);
// graph/conv_fusions.cc: Conv + BatchNormalization with constant parameters
// → one Conv with folded weights. Runs before FuseActivations.
int FoldConvBatchNorm(Graph* graph, const PassContext& context);

}  // namespace maas
