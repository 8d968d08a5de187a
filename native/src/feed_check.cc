#include "feed_check.h"

#include <cstdint>

namespace maas {

namespace {

Status CheckOne(const TensorMetadata& input, const Tensor& feed) {
  // Built only on failure: this runs for every feed of every run.
  auto where = [&] { return "input '" + input.name + "': "; };
  if (feed.dtype != input.dtype)
    return InvalidArgument(where() + "expected dtype " + DTypeName(input.dtype) + ", got " + DTypeName(feed.dtype));
  int64_t elements = 1;
  for (int64_t d : feed.shape) {
    if (d < 0) return InvalidArgument(where() + "dims must be non-negative, got " + ShapeToString(feed.shape));
    // Guards size_bytes() below against overflow from absurd dims.
    if (d != 0 && elements > (int64_t{1} << 56) / d) return InvalidArgument(where() + "shape is too large");
    elements *= d;
  }
  if (input.rank_known) {
    bool matches = feed.shape.size() == input.shape.size();
    for (size_t i = 0; matches && i < input.shape.size(); ++i)
      matches = input.shape[i] == kUnknownDim || input.shape[i] == feed.shape[i];
    if (!matches)
      return InvalidArgument(where() + "expected shape " + ShapeToString(input.shape) + ", got " +
                             ShapeToString(feed.shape));
  }
  size_t need_bytes = feed.size_bytes();
  size_t have_bytes = feed.buffer ? feed.buffer->size_bytes() : 0;
  if (need_bytes > 0 && (!feed.buffer || !feed.buffer->data() || have_bytes < need_bytes))
    return InvalidArgument(where() + "shape " + ShapeToString(feed.shape) + " needs " + std::to_string(need_bytes) +
                           " bytes, the data has " + std::to_string(have_bytes));
  return Status::Ok();
}

}  // namespace

Status CheckFeeds(const std::vector<TensorMetadata>& inputs, const std::vector<NamedTensor>& feeds,
                  std::vector<size_t>* feed_of_input) {
  const size_t kMissing = static_cast<size_t>(-1);
  feed_of_input->assign(inputs.size(), kMissing);
  // Models have few inputs: a linear search beats building a map per run.
  for (size_t f = 0; f < feeds.size(); ++f) {
    size_t match = kMissing;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].name == feeds[f].name) match = i;
    if (match == kMissing) return InvalidArgument("unknown input '" + feeds[f].name + "'");
    if ((*feed_of_input)[match] != kMissing) return InvalidArgument("input '" + feeds[f].name + "' is fed twice");
    (*feed_of_input)[match] = f;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if ((*feed_of_input)[i] == kMissing) return InvalidArgument("missing input '" + inputs[i].name + "'");
    MAAS_RETURN_IF_ERROR(CheckOne(inputs[i], feeds[(*feed_of_input)[i]].tensor));
  }
  return Status::Ok();
}

}  // namespace maas
