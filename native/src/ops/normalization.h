// LayerNormalization's layout, shared by its schema and kernels: the input
// viewed as `rows` groups of `size` values (dims from `axis` on are
// normalized together); Scale and B hold `size` values (or one).
#pragma once
#include <cstdint>

#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

struct LayerNormLayout {
  int64_t axis = 0;  // normalized, in [0, rank)
  int64_t rows = 1;
  int64_t size = 1;
};

// kInvalidModel when axis is out of range. Dims may be unknown (rows/size -1).
Status ResolveLayerNorm(const Shape& x, const Attributes* attrs, LayerNormLayout* layout);

// Scale or B fits when it holds `size` values or a single one (broadcast).
bool LayerNormParamFits(const Shape& param, int64_t size);

}  // namespace maas
