// ModelDecl → Graph: name resolution, topological sort, dead nodes dropped,
// each node checked against its schema; what the engine lacks goes to the
// load's UnsupportedReport. Inference and the optimization passes follow
// (graph/passes.h).
#include <algorithm>
#include <deque>
#include <new>
#include <set>
#include <unordered_map>

#include "graph/graph.h"
#include "graph/passes.h"
#include "ops/schema.h"

namespace maas {

namespace {

using NameMap = std::unordered_map<std::string, int>;

int AddValue(Graph* graph, NameMap* ids, const std::string& name) {
  int id = static_cast<int>(graph->values.size());
  graph->values.emplace_back();
  graph->values.back().name = name;
  (*ids)[name] = id;
  return id;
}

Status AddInitializers(onnx::ModelDecl& model, Graph* graph, NameMap* ids) {
  for (onnx::InitializerDecl& init : model.initializers) {
    if (ids->count(init.name)) return InvalidModel("initializer '" + init.name + "' is defined twice");
    int id = AddValue(graph, ids, init.name);
    Value& value = graph->values[id];
    value.is_constant = true;
    value.info.dtype = init.tensor.dtype;
    value.info.shape = init.tensor.shape;
    value.constant = std::move(init.tensor);
  }
  return Status::Ok();
}

// A declared shape whose element count does not even fit int64 can never
// be fed or produced (an ONNX dim_value is any int64).
Status CheckDeclaredShape(const char* what, const onnx::ValueInfoDecl& decl) {
  if (!decl.rank_known || NumElements(decl.shape) >= 0) return Status::Ok();
  for (int64_t d : decl.shape)
    if (d == kUnknownDim) return Status::Ok();
  return InvalidModel(std::string(what) + " '" + decl.name + "' declares the impossibly large shape " +
                      ShapeToString(decl.shape));
}

// Graph inputs that are also initializers are defaults, not model inputs.
Status AddInputs(const onnx::ModelDecl& model, Graph* graph, NameMap* ids, UnsupportedReport* report) {
  std::set<std::string> seen;
  for (const onnx::ValueInfoDecl& decl : model.inputs) {
    if (!seen.insert(decl.name).second) return InvalidModel("input '" + decl.name + "' is declared twice");
    if (ids->count(decl.name)) continue;  // an initializer
    if (decl.name.empty()) return InvalidModel("an input has no name");
    if (!decl.is_tensor)
      report->AddDType("non-tensor (input " + decl.name + ")");
    else if (decl.dtype == DType::kUndefined)
      return InvalidModel("input '" + decl.name + "' has no element type");
    else if (!onnx::IsSupportedDType(decl.dtype))
      report->AddDType(onnx::OnnxDTypeName(decl.dtype) + " (input " + decl.name + ")");
    MAAS_RETURN_IF_ERROR(CheckDeclaredShape("input", decl));
    int id = AddValue(graph, ids, decl.name);
    Value& value = graph->values[id];
    value.info.dtype = decl.dtype;
    value.info.rank_known = decl.rank_known;
    value.info.shape = decl.shape;
    graph->input_ids.push_back(id);
  }
  return Status::Ok();
}

// Node outputs first (nodes may be listed in any order), then node inputs.
Status AddNodes(onnx::ModelDecl& model, Graph* graph, NameMap* ids) {
  graph->nodes.reserve(model.nodes.size());
  for (size_t n = 0; n < model.nodes.size(); ++n) {
    onnx::NodeDecl& decl = model.nodes[n];
    Node node;
    node.name = decl.name;
    node.op_type = decl.domain.empty() ? decl.op_type : decl.domain + "." + decl.op_type;
    node.attrs = std::move(decl.attrs);
    for (const std::string& out : decl.outputs) {
      if (out.empty()) {
        node.outputs.push_back(kNoValue);
        continue;
      }
      if (ids->count(out)) return InvalidModel("value '" + out + "' is defined twice (by node '" + decl.name + "')");
      int id = AddValue(graph, ids, out);
      graph->values[id].producer = static_cast<int>(n);
      node.outputs.push_back(id);
    }
    graph->nodes.push_back(std::move(node));
  }
  for (size_t n = 0; n < model.nodes.size(); ++n) {
    for (const std::string& in : model.nodes[n].inputs) {
      if (in.empty()) {
        graph->nodes[n].inputs.push_back(kNoValue);
        continue;
      }
      auto it = ids->find(in);
      if (it == ids->end())
        return InvalidModel("node '" + graph->nodes[n].name + "' reads undefined value '" + in + "'");
      graph->nodes[n].inputs.push_back(it->second);
    }
  }
  return Status::Ok();
}

Status AddOutputs(const onnx::ModelDecl& model, Graph* graph, const NameMap& ids, UnsupportedReport* report) {
  if (model.outputs.empty()) return InvalidModel("the graph has no outputs");
  std::set<std::string> seen;
  for (const onnx::ValueInfoDecl& decl : model.outputs) {
    if (!seen.insert(decl.name).second) return InvalidModel("output '" + decl.name + "' is listed twice");
    MAAS_RETURN_IF_ERROR(CheckDeclaredShape("output", decl));
    auto it = ids.find(decl.name);
    if (it == ids.end()) return InvalidModel("output '" + decl.name + "' is never produced");
    if (decl.is_tensor && decl.dtype != DType::kUndefined && !onnx::IsSupportedDType(decl.dtype))
      report->AddDType(onnx::OnnxDTypeName(decl.dtype) + " (output " + decl.name + ")");
    graph->output_ids.push_back(it->second);
    graph->declared_outputs.push_back(decl);
  }
  return Status::Ok();
}

// Kahn's algorithm, taking ready nodes in model order so the result is stable.
Status SortTopologically(Graph* graph) {
  size_t count = graph->nodes.size();
  std::vector<int> pending_inputs(count, 0);
  std::vector<std::vector<int>> consumers(count);
  for (size_t n = 0; n < count; ++n) {
    for (int in : graph->nodes[n].inputs) {
      if (in == kNoValue) continue;
      int producer = graph->values[in].producer;
      if (producer < 0) continue;
      ++pending_inputs[n];
      consumers[producer].push_back(static_cast<int>(n));
    }
  }
  std::set<int> ready;
  for (size_t n = 0; n < count; ++n)
    if (pending_inputs[n] == 0) ready.insert(static_cast<int>(n));
  std::vector<int> order;
  order.reserve(count);
  while (!ready.empty()) {
    int n = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(n);
    for (int consumer : consumers[n])
      if (--pending_inputs[consumer] == 0) ready.insert(consumer);
  }
  if (order.size() != count) {
    for (size_t n = 0; n < count; ++n)
      if (pending_inputs[n] > 0)
        return InvalidModel("the graph has a cycle through node '" + graph->nodes[n].name + "'");
  }
  std::vector<Node> sorted;
  sorted.reserve(count);
  std::vector<int> new_index(count);
  for (size_t i = 0; i < order.size(); ++i) {
    new_index[order[i]] = static_cast<int>(i);
    sorted.push_back(std::move(graph->nodes[order[i]]));
  }
  graph->nodes = std::move(sorted);
  for (Value& value : graph->values)
    if (value.producer >= 0) value.producer = new_index[value.producer];
  return Status::Ok();
}

// The engine's own ops (fusions) are made by its passes, never read from a file.
constexpr const char* kInternalDomainPrefix = "maas.";

// Every op known (else reported), and arity and attribute kinds as its
// schema says.
Status CheckSchemas(const Graph& graph, UnsupportedReport* report) {
  for (const Node& node : graph.nodes) {
    const OpSchema* schema =
        node.op_type.compare(0, 5, kInternalDomainPrefix) == 0 ? nullptr : FindSchema(node.op_type);
    if (!schema) {
      report->AddOp(node.op_type);
      continue;
    }
    Status status = CheckNodeAgainstSchema(*schema, node.inputs.size(), node.outputs.size(), node.attrs);
    if (!status.ok()) return Status(status.code(), "node '" + node.name + "': " + status.message());
  }
  return Status::Ok();
}

Status BuildGraphUnchecked(onnx::ModelDecl& model, Graph* graph, UnsupportedReport* report) {
  *graph = Graph();
  graph->opset = model.opset;
  NameMap ids;
  for (const std::string& dtype : model.unsupported_dtypes) report->AddDType(dtype);
  MAAS_RETURN_IF_ERROR(AddInitializers(model, graph, &ids));
  MAAS_RETURN_IF_ERROR(AddInputs(model, graph, &ids, report));
  MAAS_RETURN_IF_ERROR(AddNodes(model, graph, &ids));
  MAAS_RETURN_IF_ERROR(AddOutputs(model, graph, ids, report));
  MAAS_RETURN_IF_ERROR(SortTopologically(graph));
  RemoveDeadNodes(graph);
  return CheckSchemas(*graph, report);
}

}  // namespace

Status BuildGraph(onnx::ModelDecl&& model, Graph* graph, UnsupportedReport* report) {
  try {
    return BuildGraphUnchecked(model, graph, report);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory while building the graph");
  } catch (const std::exception& e) {
    return Internal(std::string("while building the graph: ") + e.what());
  }
}

}  // namespace maas
