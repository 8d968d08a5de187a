// Schema builders shared by the elementwise op families (ops/elementwise.cc,
// ops/math.cc, ops/logic.cc): one input in, same dtype and shape out; two
// inputs broadcast numpy-style.
#pragma once
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "ops/schema.h"

namespace maas {

// The broadcast of inputs [first, first + count) into outputs[0]'s shape and
// rank (dtype left to the caller). kInvalidModel when they cannot broadcast.
Status InferBroadcastShape(const std::string& op, const InferContext& ctx, size_t first, size_t count, ValueInfo* out);

// Two inputs of one dtype that `legal` accepts, broadcast; output of that
// dtype (or bool, for comparisons). The output may take A's memory.
OpSchema BinarySchema(const std::string& op, bool (*legal)(DType), bool bool_output = false);

// One input `legal` accepts; same dtype and shape out, in place allowed.
OpSchema UnarySchema(const std::string& op, bool (*legal)(DType), std::vector<AttrSpec> attributes = {});

}  // namespace maas
