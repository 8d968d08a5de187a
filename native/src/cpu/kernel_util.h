// Small helpers shared by the CPU kernels: input checks, output allocation
// through the context (planned memory or fresh), and "parallelize only if it
// pays". Op-semantics helpers (axes, broadcasting) come from ops/op_util.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/kernel.h"
#include "cpu/thread_pool.h"
#include "ops/op_util.h"

namespace maas {

// Below this many elements per chunk, waking workers costs more than it saves.
constexpr int64_t kElementwiseGrain = 16384;

// Checks the node has at least `min_inputs` present inputs with storage
// (kInvalidArgument) and at least one output slot.
Status RequireInputs(const std::string& op, const KernelContext& ctx, size_t min_inputs);

// Output `index` with storage for dtype and shape (ExecContext::AllocateOutput),
// errors prefixed with the op.
Status AllocateOutput(const std::string& op, KernelContext& ctx, size_t index, DType dtype, const Shape& shape);

// Runs fn over [0, n) on the pool when there is one and the work is worth
// splitting, otherwise inline on the calling thread.
inline void MaybeParallelFor(ThreadPool* pool, int64_t n, int64_t grain, RangeFn fn) {
  if (n <= 0) return;
  if (!pool || pool->num_threads() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->ParallelFor(n, grain, fn);
}

// Scratch floats for one kernel call: the plan's workspace for this step
// when it holds `floats` (CpuKernel::workspace asked for it), else memory of
// its own (a kernel evaluated outside a plan, e.g. when folding).
class KernelScratch {
 public:
  KernelScratch(const KernelContext& ctx, size_t floats) {
    if (ctx.exec.workspace() && ctx.exec.workspace_bytes() >= floats * sizeof(float)) {
      data_ = static_cast<float*>(ctx.exec.workspace());
    } else {
      own_.resize(floats);
      data_ = own_.data();
    }
  }
  float* data() const { return data_; }

 private:
  std::vector<float> own_;
  float* data_ = nullptr;
};

}  // namespace maas
