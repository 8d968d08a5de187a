// Constant's value from its attributes, for its schema (which folds every
// Constant at load) and for kernels that are asked to run one anyway.
#pragma once
#include "maas/op_types.h"
#include "maas/status.h"

namespace maas {

// `value` (a tensor) is shared without a copy; value_float(s)/value_int(s)
// become a scalar or 1-D host tensor. kUnsupported for string and sparse values.
Status ConstantValue(const Attributes* attrs, Tensor* value);

}  // namespace maas
