#include "cpu/broadcast.h"

#include <algorithm>

namespace maas {

bool BroadcastShapes(const Shape& a, const Shape& b, Shape* out) {
  const size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; missing leading dims act as 1.
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da == db) {
      result[i] = da;
    } else if (da == 1) {
      result[i] = db;
    } else if (db == 1) {
      result[i] = da;
    } else if (da == kUnknownDim) {
      result[i] = db;  // a must be 1 or db for the model to be valid
    } else if (db == kUnknownDim) {
      result[i] = da;
    } else {
      return false;
    }
  }
  *out = std::move(result);
  return true;
}

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

void ForEachBroadcastRow(const BinaryBroadcastPlan& plan, int64_t row_begin, int64_t row_end,
                         const std::function<void(int64_t, int64_t, int64_t)>& fn) {
  const size_t outer_rank = plan.dims.size() - 1;
  const int64_t inner = plan.inner();
  // Multi-index of row_begin over the outer dims, and the matching offsets.
  std::vector<int64_t> index(outer_rank, 0);
  int64_t a_off = 0, b_off = 0;
  int64_t rest = row_begin;
  for (size_t i = outer_rank; i-- > 0;) {
    index[i] = rest % plan.dims[i];
    rest /= plan.dims[i];
    a_off += index[i] * plan.a_strides[i];
    b_off += index[i] * plan.b_strides[i];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    fn(row * inner, a_off, b_off);
    // Odometer increment, carrying into outer dims.
    for (size_t i = outer_rank; i-- > 0;) {
      a_off += plan.a_strides[i];
      b_off += plan.b_strides[i];
      if (++index[i] < plan.dims[i]) break;
      a_off -= plan.a_strides[i] * plan.dims[i];
      b_off -= plan.b_strides[i] * plan.dims[i];
      index[i] = 0;
    }
  }
}

}  // namespace maas
