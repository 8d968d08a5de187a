#include "graph/pattern.h"

#include <algorithm>

namespace maas {

Pattern Pattern::Any(std::string capture) {
  Pattern p;
  p.capture = std::move(capture);
  return p;
}

Pattern Pattern::Constant(std::string capture) {
  Pattern p = Any(std::move(capture));
  p.when = [](const Graph& graph, int value) { return graph.values[value].is_constant; };
  return p;
}

Pattern Pattern::Op(std::vector<std::string> ops, std::vector<Pattern> inputs, std::string capture) {
  Pattern p;
  p.ops = std::move(ops);
  p.inputs = std::move(inputs);
  p.capture = std::move(capture);
  return p;
}

Pattern& Pattern::Commutative() {
  commutative = true;
  return *this;
}

Pattern& Pattern::As(std::string name) {
  capture = std::move(name);
  return *this;
}

Pattern& Pattern::When(std::function<bool(const Graph&, int)> condition) {
  when = std::move(condition);
  return *this;
}

GraphIndex::GraphIndex(const Graph& graph) : consumers_(graph.values.size()) {
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int in : graph.nodes[n].inputs)
      if (in != kNoValue) {
        std::vector<int>& readers = consumers_[in];
        if (readers.empty() || readers.back() != static_cast<int>(n)) readers.push_back(static_cast<int>(n));
      }
}

namespace {

bool Bind(std::map<std::string, int>* bindings, const std::string& name, int id) {
  if (name.empty()) return true;
  auto it = bindings->find(name);
  if (it != bindings->end()) return it->second == id;
  (*bindings)[name] = id;
  return true;
}

bool MatchValue(const Graph& graph, int value, const Pattern& pattern, Match* match);

bool MatchInputs(const Graph& graph, const Node& node, const Pattern& pattern, bool swapped, Match* match) {
  if (node.inputs.size() < pattern.inputs.size()) return false;
  for (size_t i = 0; i < pattern.inputs.size(); ++i) {
    const size_t source = swapped ? 1 - i : i;
    const int in = node.inputs[source];
    if (in == kNoValue || !MatchValue(graph, in, pattern.inputs[i], match)) return false;
  }
  return true;
}

bool MatchValue(const Graph& graph, int value, const Pattern& pattern, Match* match) {
  if (pattern.when && !pattern.when(graph, value)) return false;
  if (!Bind(&match->values, pattern.capture, value)) return false;
  if (pattern.ops.empty()) return true;
  const int producer = graph.values[value].producer;
  if (producer < 0 || graph.values[value].is_constant) return false;
  const Node& node = graph.nodes[producer];
  if (std::find(pattern.ops.begin(), pattern.ops.end(), node.op_type) == pattern.ops.end()) return false;
  if (!Bind(&match->nodes, pattern.capture, producer)) return false;
  if (std::find(match->matched_nodes.begin(), match->matched_nodes.end(), producer) == match->matched_nodes.end())
    match->matched_nodes.push_back(producer);
  if (!pattern.commutative || pattern.inputs.size() != 2 || node.inputs.size() != 2)
    return MatchInputs(graph, node, pattern, false, match);
  Match attempt = *match;
  if (MatchInputs(graph, node, pattern, false, &attempt)) {
    *match = std::move(attempt);
    return true;
  }
  return MatchInputs(graph, node, pattern, true, match);
}

// Values written by matched nodes other than the root stay inside the match.
bool InteriorIsPrivate(const Graph& graph, const GraphIndex& index, const Match& match) {
  for (int n : match.matched_nodes) {
    if (n == match.root_node) continue;
    for (int out : graph.nodes[n].outputs) {
      if (out == kNoValue) continue;
      if (graph.IsGraphOutput(out)) return false;
      for (int reader : index.consumers(out))
        if (std::find(match.matched_nodes.begin(), match.matched_nodes.end(), reader) == match.matched_nodes.end())
          return false;
    }
  }
  return true;
}

}  // namespace

bool MatchAt(const Graph& graph, const GraphIndex& index, int root_value, const Pattern& pattern, Match* match) {
  *match = Match();
  match->root_node = graph.values[root_value].producer;
  if (match->root_node < 0 || pattern.ops.empty()) return false;
  if (!MatchValue(graph, root_value, pattern, match)) return false;
  return InteriorIsPrivate(graph, index, *match);
}

int AddConstant(Graph* graph, std::string name, Tensor tensor) {
  Value value;
  value.name = std::move(name);
  value.is_constant = true;
  value.info.dtype = tensor.dtype;
  value.info.shape = tensor.shape;
  value.info.rank_known = true;
  value.constant = std::move(tensor);
  graph->values.push_back(std::move(value));
  return static_cast<int>(graph->values.size()) - 1;
}

namespace {

// Names the replacement after the root and checks it: it must infer to what
// the root did, and the target must run it.
bool Acceptable(const Graph& graph, const Node& root, const PassContext& context, Node* replacement) {
  replacement->name = root.name;
  replacement->outputs = root.outputs;
  const OpSchema* schema = FindSchema(replacement->op_type);
  if (!schema) return false;
  std::vector<ValueInfo> inputs, outputs;
  for (int in : replacement->inputs) inputs.push_back(in == kNoValue ? ValueInfo() : graph.InfoFor(in));
  if (!InferNode(*replacement, *schema, graph.opset, inputs, &outputs).ok()) return false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int out = replacement->outputs[i];
    if (out == kNoValue) continue;
    const ValueInfo& before = graph.values[out].info;
    if (outputs[i].dtype != before.dtype || outputs[i].rank_known != before.rank_known ||
        (before.rank_known && outputs[i].shape.size() != before.shape.size()))
      return false;
  }
  return !context.target || (context.target->HasOp(replacement->op_type) &&
                             context.target->CheckNode(graph.DescFor(*replacement)).empty());
}

}  // namespace

int ApplyFusion(Graph* graph, const FusionRule& rule, const PassContext& context) {
  // Most rules find no root op at all: skip building the index for them.
  const std::vector<std::string>& roots = rule.pattern.ops;
  if (std::none_of(graph->nodes.begin(), graph->nodes.end(), [&](const Node& node) {
        return std::find(roots.begin(), roots.end(), node.op_type) != roots.end();
      }))
    return 0;
  const GraphIndex index(*graph);
  std::vector<bool> used(graph->nodes.size(), false);
  std::vector<bool> keep(graph->nodes.size(), true);
  int replaced = 0;
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& root = graph->nodes[n];
    if (used[n] || root.outputs.empty() || root.outputs[0] == kNoValue) continue;
    Match match;
    if (!MatchAt(*graph, index, root.outputs[0], rule.pattern, &match)) continue;
    bool overlaps = false;
    for (int m : match.matched_nodes) overlaps |= used[m];
    if (overlaps) continue;
    Node replacement;
    const size_t values_before = graph->values.size();
    const bool built = rule.build_with_constants ? rule.build_with_constants(graph, match, &replacement)
                                                 : rule.build(*graph, match, &replacement);
    if (!built || !Acceptable(*graph, graph->nodes[n], context, &replacement)) {
      graph->values.resize(values_before);  // drops constants the build added
      continue;
    }
    for (int m : match.matched_nodes) {
      used[m] = true;
      if (m == match.root_node) continue;
      keep[m] = false;
      for (int out : graph->nodes[m].outputs)
        if (out != kNoValue) graph->values[out].producer = -1;  // an orphan now: nothing reads it
    }
    graph->nodes[n] = std::move(replacement);
    ++replaced;
  }
  if (replaced) KeepNodes(graph, keep);
  return replaced;
}

}  // namespace maas
