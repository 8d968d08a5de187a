#include "graph/graph.h"

#include <algorithm>

namespace maas {

ValueInfo Graph::InfoFor(int value_id) const {
  const Value& value = values[static_cast<size_t>(value_id)];
  ValueInfo info;
  info.dtype = value.info.dtype;
  info.shape = value.info.shape;
  info.rank_known = value.info.rank_known;
  info.constant = value.is_constant ? &value.constant : nullptr;
  return info;
}

NodeDesc Graph::DescFor(const Node& node) const {
  NodeDesc desc;
  desc.name = &node.name;
  desc.op_type = &node.op_type;
  desc.attrs = &node.attrs;
  desc.opset = opset;
  for (int in : node.inputs) desc.inputs.push_back(in == kNoValue ? ValueInfo() : InfoFor(in));
  for (int out : node.outputs) desc.outputs.push_back(out == kNoValue ? ValueInfo() : InfoFor(out));
  return desc;
}

bool Graph::IsGraphOutput(int value_id) const {
  return std::find(output_ids.begin(), output_ids.end(), value_id) != output_ids.end();
}

namespace {

void AddUnique(std::vector<std::string>* list, const std::string& item) {
  if (std::find(list->begin(), list->end(), item) == list->end()) list->push_back(item);
}

std::string Join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

void UnsupportedReport::AddOp(const std::string& op_type) { AddUnique(&ops_, op_type); }
void UnsupportedReport::AddDType(const std::string& what) { AddUnique(&dtypes_, what); }
void UnsupportedReport::AddNode(const std::string& what) { AddUnique(&nodes_, what); }

Status UnsupportedReport::ToStatus() const {
  if (empty()) return Status::Ok();
  std::string message;
  auto part = [&](const std::string& text) { message += (message.empty() ? "" : "; ") + text; };
  if (!ops_.empty()) part("unsupported ops: " + Join(ops_));
  if (!dtypes_.empty()) part("unsupported dtypes: " + Join(dtypes_));
  if (!nodes_.empty()) part("unsupported nodes: " + Join(nodes_));
  return Unsupported(message);
}

}  // namespace maas
