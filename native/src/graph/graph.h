// The engine's graph IR: typed values and nodes in topological order, built
// from a decoded ONNX model, then inferred, folded and optimized by the
// passes (graph/passes.h). Backend-neutral: nodes name op types whose
// schemas live in native/src/ops/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/status.h"
#include "maas/tensor.h"
#include "onnx/model.h"

namespace maas {

constexpr int kNoValue = -1;  // an absent optional input or unused output

struct Value {
  std::string name;
  ValueInfo info;            // dtype and shape; info.constant stays null here (see Graph::InfoFor)
  bool is_constant = false;  // an initializer or a folded node output
  Tensor constant;           // the data when is_constant (host memory)
  int producer = -1;         // index into Graph::nodes; -1 for inputs, constants and orphans
};

struct Node {
  std::string name;
  std::string op_type;
  std::vector<int> inputs;   // value ids, kNoValue for absent optional inputs
  std::vector<int> outputs;  // value ids, kNoValue for unused optional outputs
  Attributes attrs;
};

struct Graph {
  int opset = 0;
  std::vector<Value> values;
  std::vector<Node> nodes;     // topological order
  std::vector<int> input_ids;  // model inputs (initializers excluded)
  std::vector<int> output_ids;
  // Declared types of the outputs, for metadata where inference knew less.
  std::vector<onnx::ValueInfoDecl> declared_outputs;

  // The ValueInfo a schema's infer sees: with `constant` pointing at the data.
  ValueInfo InfoFor(int value_id) const;
  // The node as a backend sees it (infos of its inputs and outputs).
  NodeDesc DescFor(const Node& node) const;
  bool IsGraphOutput(int value_id) const;
};

// Collects everything a load cannot support, so one error names it all.
class UnsupportedReport {
 public:
  void AddOp(const std::string& op_type);  // no schema: the engine does not know the op
  void AddDType(const std::string& what);  // a graph value: "bfloat16 (input x)"
  // A node the engine or the backend cannot run as typed:
  // "Gemm (float64) on cpu", "node 'c' (Constant): attribute 'sparse_value' ...".
  void AddNode(const std::string& what);
  bool empty() const { return ops_.empty() && dtypes_.empty() && nodes_.empty(); }
  // kUnsupported listing every entry ("unsupported ops: ...; ..."), or Ok.
  Status ToStatus() const;

 private:
  std::vector<std::string> ops_, dtypes_, nodes_;
};

// Builds the graph: resolves names, sorts nodes topologically, drops nodes no
// output depends on, and checks each node against its op's schema (arity and
// attribute kinds: kInvalidModel). Ops without a schema and dtypes the
// engine cannot hold are added to `report`, not failed on, so the load can
// name them together with what later checks find.
Status BuildGraph(onnx::ModelDecl&& model, Graph* graph, UnsupportedReport* report);

}  // namespace maas
