// Checks a run's feeds against the model's inputs before anything executes.
#pragma once
#include <vector>

#include "maas/engine.h"

namespace maas {

// Every input present exactly once, no unknown names, dtype equal, rank equal
// (when declared), known dims equal, and data large enough. On success
// `feed_of_input[i]` is the index into `feeds` for inputs()[i].
Status CheckFeeds(const std::vector<TensorMetadata>& inputs, const std::vector<NamedTensor>& feeds,
                  std::vector<size_t>* feed_of_input);

// The same checks on shapes alone (one per input, in inputs order).
Status CheckShapes(const std::vector<TensorMetadata>& inputs, const std::vector<Shape>& shapes);

}  // namespace maas
