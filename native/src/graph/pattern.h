// Pattern matching over the graph's dataflow, for fusion passes. A pattern
// describes a value by the op that produces it and, recursively, that op's
// inputs; matching starts at a candidate root value and walks producers
// backwards. A FusionRule pairs a pattern with the node that replaces it.
//
//   // act(MatMul(a, b) + bias), the Add's operands in either order:
//   Pattern::Op({"Add"}, {Pattern::Op({"MatMul"}, {Pattern::Any("a"), Pattern::Any("b")}),
//                         Pattern::Any("bias")}).Commutative()
//
// docs/engine.md ("Writing a fusion") walks through a rule.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/passes.h"

namespace maas {

struct Pattern {
  // The value's producer must be one of these ops; empty: any value (a leaf,
  // also a graph input or a constant).
  std::vector<std::string> ops;
  // Sub-patterns of the producer's first inputs.size() inputs (the rest are
  // unconstrained). A present input never matches an absent one.
  std::vector<Pattern> inputs;
  // A two-input producer may match its inputs in either order.
  bool commutative = false;
  // Binds the matched value (and, for an op pattern, its producer node) to
  // this name; a name used twice must bind the same value both times.
  std::string capture;
  // An extra condition on the matched value.
  std::function<bool(const Graph& graph, int value)> when;

  static Pattern Any(std::string capture = "");
  static Pattern Constant(std::string capture = "");
  static Pattern Op(std::vector<std::string> ops, std::vector<Pattern> inputs = {}, std::string capture = "");
  Pattern& Commutative();
  Pattern& As(std::string capture);
  Pattern& When(std::function<bool(const Graph&, int)> condition);
};

struct Match {
  std::map<std::string, int> values;  // capture → value id
  std::map<std::string, int> nodes;   // capture → index of the value's producer (op patterns)
  std::vector<int> matched_nodes;     // every node the pattern covered, the root included
  int root_node = -1;

  int value(const std::string& name) const { return values.at(name); }
  int node(const std::string& name) const { return nodes.at(name); }
};

// Who reads each value (node indices, in order), built once per sweep.
class GraphIndex {
 public:
  explicit GraphIndex(const Graph& graph);
  const std::vector<int>& consumers(int value) const { return consumers_[static_cast<size_t>(value)]; }

 private:
  std::vector<std::vector<int>> consumers_;
};

// Matches `pattern` at `root_value` (a value with a producer). Besides the
// pattern's own conditions, every value a matched node writes other than the
// root's outputs must be neither a graph output nor read outside the match,
// so the matched nodes can be replaced as a whole.
bool MatchAt(const Graph& graph, const GraphIndex& index, int root_value, const Pattern& pattern, Match* match);

struct FusionRule {
  std::string name;
  Pattern pattern;
  // Fills the replacement node (op type, inputs, attributes; the outputs are
  // the root's) or returns false to leave this match alone.
  std::function<bool(const Graph& graph, const Match& match, Node* replacement)> build;
  // Instead of build, for rules whose replacement reads constants computed
  // on the host (Conv + BatchNormalization folding): may add them with
  // AddConstant. Constants added for a match that is then refused are
  // removed again.
  std::function<bool(Graph* graph, const Match& match, Node* replacement)> build_with_constants;
};

// Appends a constant value holding `tensor` (host memory) and returns its id.
int AddConstant(Graph* graph, std::string name, Tensor tensor);

// Replaces every match of `rule` (each node in at most one match) whose
// replacement infers cleanly and which context.target can run (HasOp,
// CheckNode). The replacement takes the root's place, which keeps the order
// topological, and writes the root's outputs; the other matched nodes go.
// Returns the number of replacements.
int ApplyFusion(Graph* graph, const FusionRule& rule, const PassContext& context);

}  // namespace maas
