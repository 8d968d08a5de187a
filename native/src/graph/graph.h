// The engine's graph IR: typed values and nodes in topological order, built
// from a decoded ONNX model, with shapes inferred and constants folded.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/kernel.h"
#include "maas/status.h"
#include "maas/tensor.h"
#include "onnx/model.h"

namespace maas {

class Backend;

constexpr int kNoValue = -1;  // an absent optional input or unused output

struct Value {
  std::string name;
  ValueInfo info;              // info.constant stays null here; see ConstantInfo
  bool is_constant = false;    // an initializer or a folded node output
  Tensor constant;             // the data when is_constant
  int producer = -1;           // index into Graph::nodes; -1 for inputs and constants
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
  std::vector<Node> nodes;        // topological order
  std::vector<int> input_ids;     // model inputs (initializers excluded)
  std::vector<int> output_ids;
  // Declared types of the outputs, for metadata where inference knew less.
  std::vector<onnx::ValueInfoDecl> declared_outputs;

  // The ValueInfo a kernel's infer sees: with `constant` pointing at the data.
  ValueInfo InfoFor(int value_id) const;
};

// Builds the graph: resolves names, sorts nodes topologically, reports every
// op the backend lacks and every dtype the engine lacks in one kUnsupported
// Status, infers dtypes and shapes, folds nodes whose inputs are all
// constant, and drops nodes no output depends on.
Status BuildGraph(onnx::ModelDecl&& model, const Backend& backend, Graph* graph);

}  // namespace maas
