#include "cpu/broadcast.h"

#include <algorithm>

namespace maas {

bool MakeBinaryBroadcastPlan(const Shape& a, const Shape& b, BinaryBroadcastPlan* plan) {
  if (!BroadcastShapes(a, b, &plan->out_shape)) return false;
  const Shape& out = plan->out_shape;
  const size_t rank = out.size();
  plan->num_elements = NumElements(out);

  // Per output dim (skipping size-1 dims): its size and whether each input
  // really has it; merge neighbours with the same (has_a, has_b).
  struct Dim {
    int64_t size;
    bool has_a, has_b;
  };
  std::vector<Dim> merged;
  for (size_t i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    Dim d{out[i], da != 1, db != 1};
    if (!merged.empty() && merged.back().has_a == d.has_a && merged.back().has_b == d.has_b) {
      merged.back().size *= d.size;
    } else {
      merged.push_back(d);
    }
  }
  if (merged.empty()) merged.push_back(Dim{1, true, true});

  const size_t n = merged.size();
  plan->dims.assign(n, 0);
  plan->a_strides.assign(n, 0);
  plan->b_strides.assign(n, 0);
  int64_t stride_a = 1, stride_b = 1;
  for (size_t i = n; i-- > 0;) {
    plan->dims[i] = merged[i].size;
    if (merged[i].has_a) {
      plan->a_strides[i] = stride_a;
      stride_a *= merged[i].size;
    }
    if (merged[i].has_b) {
      plan->b_strides[i] = stride_b;
      stride_b *= merged[i].size;
    }
  }
  return true;
}

}  // namespace maas
