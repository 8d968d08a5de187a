// The contract between the graph executor and one CPU operator.
// Each op lives in its own file under native/src/cpu/ops/ and registers an
// OpKernel: a load-time shape/type inference and a run-time compute.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

class ThreadPool;  // native/src/cpu/thread_pool.h

// An ONNX attribute value after decoding (only the kinds our ops use).
struct Attribute {
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kTensor } kind = Kind::kInt;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  Tensor t;  // kTensor (e.g. Constant's value), already decoded to host memory
};

class Attributes {
 public:
  std::map<std::string, Attribute> values;
  bool Has(const std::string& name) const { return values.count(name) != 0; }
  int64_t GetInt(const std::string& name, int64_t fallback) const;
  float GetFloat(const std::string& name, float fallback) const;
  std::string GetString(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> GetInts(const std::string& name, const std::vector<int64_t>& fallback) const;
  const Attribute* Find(const std::string& name) const;
};

// What is known of a value before running: its dtype, its shape (dims may be
// kUnknownDim; `rank_known=false` when even the rank is unknown), and its
// contents when it is a constant (initializer or Constant output).
struct ValueInfo {
  DType dtype = DType::kUndefined;
  Shape shape;
  bool rank_known = true;
  const Tensor* constant = nullptr;  // non-null only for constants
};

struct InferContext {
  // One entry per node input; an absent optional input has dtype kUndefined.
  std::vector<ValueInfo> inputs;
  const Attributes* attrs = nullptr;
  int opset = 13;  // the default-domain opset the model imports
};

struct KernelContext {
  // Inputs with concrete shapes; nullptr for an absent optional input.
  std::vector<const Tensor*> inputs;
  // Outputs to fill: the kernel sets dtype, shape and buffer (use MakeTensor,
  // or share an input's buffer for pure view ops such as Reshape/Identity).
  std::vector<Tensor>* outputs = nullptr;
  const Attributes* attrs = nullptr;
  int opset = 13;
  ThreadPool* pool = nullptr;  // may be null: run single-threaded
  // What the kernel's `prepare` returned for this node at load, or null (no
  // prepare, nothing to prepare, or a call outside a session such as constant
  // folding). Read-only: concurrent runs share it.
  const void* prepared = nullptr;
  // Largest output the kernel may allocate; 0: no limit. AllocateOutput
  // checks it before allocating.
  uint64_t max_tensor_bytes = 0;
};

struct OpKernel {
  using InferFn = std::function<Status(const InferContext& ctx, std::vector<ValueInfo>& outputs)>;
  using ComputeFn = std::function<Status(KernelContext& ctx)>;
  using PrepareFn = std::function<Status(const InferContext& ctx, std::shared_ptr<const void>* prepared)>;
  OpKernel() = default;
  OpKernel(std::string op, InferFn infer_fn, ComputeFn compute_fn, PrepareFn prepare_fn = nullptr)
      : op_type(std::move(op)),
        infer(std::move(infer_fn)),
        compute(std::move(compute_fn)),
        prepare(std::move(prepare_fn)) {}

  std::string op_type;
  // Fills `outputs` (resized to the node's output count by the caller) with
  // dtypes and shapes as far as they are known. Returns kUnsupported for an
  // input dtype or attribute value the kernel cannot handle, and
  // kInvalidModel for shapes that can never work.
  InferFn infer;
  // Runs the op. Returns kInvalidArgument for run-time shape mismatches.
  ComputeFn compute;
  // Optional, run once per node at load after inference and folding: derives
  // state from the node's constant inputs (ctx.inputs[i].constant non-null),
  // e.g. a weight packed for the SGEMM, that compute then finds in
  // ctx.prepared. Leaving *prepared null means nothing to reuse. compute must
  // give the same results with and without it.
  PrepareFn prepare;
};

// The CPU backend's kernel table. Returns nullptr for an op we lack.
const OpKernel* FindCpuKernel(const std::string& op_type);
// Every op type we implement (for error messages and docs).
std::vector<std::string> CpuKernelOpTypes();

// Used by each op file: `static KernelRegistrar reg(OpKernel{...});`
struct KernelRegistrar {
  explicit KernelRegistrar(OpKernel kernel);
};

}  // namespace maas
