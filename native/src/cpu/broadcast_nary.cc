#include "cpu/broadcast_nary.h"

#include "ops/op_util.h"

namespace maas {

bool MakeNaryBroadcastPlan(const Shape* const* shapes, int count, NaryBroadcastPlan* plan) {
  if (count < 1 || count > NaryBroadcastPlan::kMaxInputs) return false;
  plan->count = count;
  plan->out_shape.clear();
  for (int k = 0; k < count; ++k) {
    Shape merged;
    if (!BroadcastShapes(plan->out_shape, *shapes[k], &merged)) return false;
    plan->out_shape = std::move(merged);
  }
  const Shape& out = plan->out_shape;
  const size_t rank = out.size();
  plan->num_elements = NumElements(out);
  // Per output dim (size-1 dims skipped): which inputs have it; neighbours
  // with the same pattern merge.
  struct Dim {
    int64_t size;
    unsigned present;  // bit k: input k has this dim
  };
  std::vector<Dim> merged;
  for (size_t i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    unsigned present = 0;
    for (int k = 0; k < count; ++k) {
      const Shape& s = *shapes[k];
      const int64_t d = i + s.size() >= rank ? s[i + s.size() - rank] : 1;
      if (d != 1) present |= 1u << k;
    }
    if (!merged.empty() && merged.back().present == present)
      merged.back().size *= out[i];
    else
      merged.push_back(Dim{out[i], present});
  }
  if (merged.empty()) merged.push_back(Dim{1, (1u << count) - 1});
  const size_t n = merged.size();
  plan->dims.assign(n, 0);
  for (int k = 0; k < count; ++k) {
    plan->strides[k].assign(n, 0);
    int64_t stride = 1;
    for (size_t i = n; i-- > 0;) {
      if (!(merged[i].present & (1u << k))) continue;
      plan->strides[k][i] = stride;
      stride *= merged[i].size;
    }
  }
  for (size_t i = 0; i < n; ++i) plan->dims[i] = merged[i].size;
  return true;
}

}  // namespace maas
