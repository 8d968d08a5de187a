#include "graph/graph.h"

namespace maas {

ValueInfo Graph::InfoFor(int value_id) const {
  const Value& value = values[static_cast<size_t>(value_id)];
  ValueInfo info = value.info;
  info.constant = value.is_constant ? &value.constant : nullptr;
  return info;
}

}  // namespace maas
