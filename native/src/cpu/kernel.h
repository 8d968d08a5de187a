// The contract between the CPU backend and one CPU kernel. Each op family
// lives in native/src/cpu/kernels/<family>.cc and registers a CpuKernel: the
// dtypes it implements, an optional load-time prepare, and the run-time
// compute. Shapes and dtypes come from the op's schema (native/src/ops/);
// a kernel only computes, and gets its output memory from the context
// (a slice of the plan's arena when the plan laid the output out).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "maas/backend.h"
#include "maas/op_types.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

class ThreadPool;  // native/src/cpu/thread_pool.h

struct KernelContext {
  KernelContext(ExecContext& exec_context, const Attributes* attributes, int op_set, ThreadPool* thread_pool,
                const void* prepared_state)
      : exec(exec_context),
        inputs(exec_context.inputs()),
        attrs(attributes),
        opset(op_set),
        pool(thread_pool),
        prepared(prepared_state) {}

  ExecContext& exec;
  // Inputs with concrete shapes; nullptr for an absent optional input.
  Span<const Tensor* const> inputs;
  const Attributes* attrs;
  int opset;
  ThreadPool* pool;  // may be null: run single-threaded
  // What the kernel's `prepare` made for this node at load, or null (no
  // prepare, nothing to prepare, or a call outside a session such as
  // constant folding). Read-only: concurrent runs share it.
  const void* prepared;

  size_t num_outputs() const { return exec.num_outputs(); }
  Tensor& output(size_t i) const { return exec.output(i); }
};

struct CpuKernel {
  using ComputeFn = std::function<Status(KernelContext& ctx)>;
  // Optional, run once per node at load after inference, folding and fusion:
  // derives state from the node's constant inputs (node.inputs[i].constant),
  // e.g. a weight packed for the SGEMM, that compute then finds in
  // ctx.prepared. Leaving *prepared null means nothing to reuse; compute must
  // give the same results with and without it. *state_bytes: memory it holds.
  using PrepareFn =
      std::function<Status(const NodeDesc& node, std::shared_ptr<const void>* prepared, size_t* state_bytes)>;
  // Optional finer support check than `dtypes` (e.g. Cast's target type):
  // empty when the node can run, else what is missing ("float16").
  using CheckFn = std::function<std::string(const NodeDesc& node)>;
  // Optional: scratch bytes a run needs for the node's concrete shapes,
  // planned into the arena for that step (ctx.exec.workspace()); `threads`
  // is the session's intra-op cap. compute must also run without it
  // (evaluated outside a plan, e.g. when folding), allocating its own.
  using WorkspaceFn = std::function<size_t(const NodeDesc& node, const void* prepared, int threads)>;

  std::string op_type;
  // Implemented values of NodeDesc::key_dtype() (input 0's dtype); empty: any.
  std::vector<DType> dtypes;
  ComputeFn compute;
  PrepareFn prepare;
  CheckFn check;
  WorkspaceFn workspace = nullptr;  // after the others: kernels may leave it out of their initializer
};

// The CPU kernel for `op_type` that implements `dtype` (kUndefined: the
// first registered); nullptr when there is none.
const CpuKernel* FindCpuKernel(const std::string& op_type, DType dtype = DType::kUndefined);
// Every op type with a CPU kernel.
std::vector<std::string> CpuKernelOpTypes();
// Empty when a CPU kernel can run `node`; else the reason ("no kernel",
// "float64").
std::string CheckCpuNode(const NodeDesc& node);

// Used by each kernel file: `CpuKernelRegistrar reg(CpuKernel{...});`.
// Several kernels may register for one op (e.g. per dtype family).
struct CpuKernelRegistrar {
  explicit CpuKernelRegistrar(CpuKernel kernel);
};

}  // namespace maas
