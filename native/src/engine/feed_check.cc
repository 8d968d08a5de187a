#include "engine/feed_check.h"

#include <cstdint>

namespace maas {

namespace {

std::string Where(const TensorMetadata& input) { return "input '" + input.name + "': "; }

// Built only on failure: this runs for every feed of every run.
Status CheckShape(const TensorMetadata& input, const Shape& shape) {
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument(Where(input) + "dims must be non-negative, got " + ShapeToString(shape));
    // Guards byte counts against overflow from absurd dims.
    if (d != 0 && elements > (int64_t{1} << 56) / d) return InvalidArgument(Where(input) + "shape is too large");
    elements *= d;
  }
  if (input.rank_known) {
    bool matches = shape.size() == input.shape.size();
    for (size_t i = 0; matches && i < input.shape.size(); ++i)
      matches = input.shape[i] == kUnknownDim || input.shape[i] == shape[i];
    if (!matches)
      return InvalidArgument(Where(input) + "expected shape " + ShapeToString(input.shape) + ", got " +
                             ShapeToString(shape));
  }
  return Status::Ok();
}

Status CheckOne(const TensorMetadata& input, const Tensor& feed) {
  auto where = [&] { return Where(input); };
  if (feed.dtype != input.dtype)
    return InvalidArgument(where() + "expected dtype " + DTypeName(input.dtype) + ", got " + DTypeName(feed.dtype));
  MAAS_RETURN_IF_ERROR(CheckShape(input, feed.shape));
  if (!feed.device().is_host()) return InvalidArgument(where() + "feeds must be in host memory");
  size_t need_bytes = feed.size_bytes();
  size_t have_bytes = feed.available_bytes();
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

Status CheckShapes(const std::vector<TensorMetadata>& inputs, const std::vector<Shape>& shapes) {
  if (shapes.size() != inputs.size())
    return InvalidArgument("expected " + std::to_string(inputs.size()) + " input shapes, got " +
                           std::to_string(shapes.size()));
  for (size_t i = 0; i < inputs.size(); ++i) MAAS_RETURN_IF_ERROR(CheckShape(inputs[i], shapes[i]));
  return Status::Ok();
}

}  // namespace maas
