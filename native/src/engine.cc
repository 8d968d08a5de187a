// Session: load = parse → graph → plan; run = check feeds → execute the plan
// through the backend → hand back outputs that own their memory.
#include "maas/engine.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <thread>
#include <unordered_set>

#include "cpu/thread_pool.h"
#include "feed_check.h"
#include "graph/graph.h"
#include "graph/plan.h"
#include "onnx/model.h"

namespace maas {

struct Session::Impl {
  // Declaration order is destruction order reversed: the backend borrows the pool.
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Backend> backend;
  Graph graph;
  ExecutionPlan plan;
  // Per node (index into graph.nodes): the backend's load-time state, or null.
  std::vector<std::shared_ptr<const void>> prepared;
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
  std::unordered_set<const HostBuffer*> constant_buffers;  // never handed out as outputs
  uint64_t max_tensor_bytes = 0;  // SessionOptions::max_tensor_bytes
};

namespace {

int ThreadCount(const SessionOptions& options) {
  if (options.intra_op_threads > 0) return options.intra_op_threads;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

TensorMetadata InputMetadata(const Graph& graph, int id) {
  const Value& value = graph.values[id];
  return TensorMetadata{value.name, value.info.dtype, value.info.shape, value.info.rank_known};
}

// Inference may know less than the model declares (or the reverse); take
// what each knows.
TensorMetadata OutputMetadata(const Graph& graph, size_t index) {
  const Value& value = graph.values[graph.output_ids[index]];
  const onnx::ValueInfoDecl& declared = graph.declared_outputs[index];
  TensorMetadata meta{value.name, value.info.dtype, value.info.shape, value.info.rank_known};
  if (meta.dtype == DType::kUndefined) meta.dtype = declared.dtype;
  if (!meta.rank_known && declared.rank_known) {
    meta.shape = declared.shape;
    meta.rank_known = true;
  } else if (meta.rank_known && declared.rank_known && declared.shape.size() == meta.shape.size()) {
    for (size_t i = 0; i < meta.shape.size(); ++i)
      if (meta.shape[i] == kUnknownDim) meta.shape[i] = declared.shape[i];
  }
  return meta;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::vector<TensorMetadata>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorMetadata>& Session::outputs() const { return impl_->outputs; }

namespace {

Status LoadInto(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options, Session::Impl* impl) {
  impl->max_tensor_bytes = options.max_tensor_bytes;
  impl->pool.reset(new ThreadPool(ThreadCount(options)));
  impl->backend = CreateCpuBackend(impl->pool.get());
  onnx::ModelDecl model;
  MAAS_RETURN_IF_ERROR(onnx::ParseModel(bytes, size_bytes, &model));
  MAAS_RETURN_IF_ERROR(BuildGraph(std::move(model), *impl->backend, &impl->graph));
  impl->plan = PlanExecution(impl->graph);
  impl->prepared.resize(impl->graph.nodes.size());
  for (size_t n = 0; n < impl->graph.nodes.size(); ++n) {
    const Node& node = impl->graph.nodes[n];
    std::vector<ValueInfo> infos;
    infos.reserve(node.inputs.size());
    for (int in : node.inputs) infos.push_back(in == kNoValue ? ValueInfo() : impl->graph.InfoFor(in));
    NodeCall call;
    call.op_type = &node.op_type;
    call.attrs = &node.attrs;
    call.opset = impl->graph.opset;
    Status status = impl->backend->Prepare(call, infos, &impl->prepared[n]);
    if (!status.ok())
      return Status(status.code(), "node '" + node.name + "' (" + node.op_type + "): " + status.message());
  }
  for (int id : impl->graph.input_ids) impl->inputs.push_back(InputMetadata(impl->graph, id));
  for (size_t i = 0; i < impl->graph.output_ids.size(); ++i) impl->outputs.push_back(OutputMetadata(impl->graph, i));
  for (const Value& value : impl->graph.values)
    if (value.is_constant && value.constant.buffer) impl->constant_buffers.insert(value.constant.buffer.get());
  return Status::Ok();
}

}  // namespace

Status Session::Load(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options,
                     std::unique_ptr<Session>* out) {
  try {
    std::unique_ptr<Impl> impl(new Impl());
    MAAS_RETURN_IF_ERROR(LoadInto(bytes, size_bytes, options, impl.get()));
    out->reset(new Session(std::move(impl)));
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory while loading the model");
  } catch (const std::exception& e) {
    return Internal(std::string("while loading the model: ") + e.what());
  }
}

namespace {

// Per-run state: nothing here is shared between concurrent runs.
class RunState {
 public:
  RunState(const Session::Impl& impl) : impl_(impl), slots_(impl.graph.values.size()) {}

  const Tensor* Get(int id) const {
    const Value& value = impl_.graph.values[id];
    return value.is_constant ? &value.constant : &slots_[id];
  }
  void Set(int id, Tensor tensor) { slots_[id] = std::move(tensor); }
  void Release(int id) { slots_[id] = Tensor(); }

 private:
  const Session::Impl& impl_;
  std::vector<Tensor> slots_;
};

Status CheckKernelOutput(const Node& node, size_t index, const Tensor& result, const ValueInfo& inferred,
                         uint64_t max_tensor_bytes) {
  // Built only on failure: this runs for every output of every node of every run.
  auto where = [&] { return "node '" + node.name + "' (" + node.op_type + ") output " + std::to_string(index) + ": "; };
  if (result.dtype == DType::kUndefined) return Internal(where() + "the kernel produced nothing");
  if (inferred.dtype != DType::kUndefined && inferred.dtype != result.dtype)
    return Internal(where() + "dtype " + DTypeName(result.dtype) + " differs from the inferred " +
                    DTypeName(inferred.dtype));
  if (NumElements(result.shape) < 0) return Internal(where() + "shape " + ShapeToString(result.shape) + " is not concrete");
  // Kernels check the limit before allocating (AllocateOutput); this catches
  // one that allocated some other way before the tensor travels further.
  if (max_tensor_bytes != 0 && TensorBytes(result.dtype, result.shape) > max_tensor_bytes) {
    std::string what = "node '" + node.name + "' (" + node.op_type + ") output " + std::to_string(index);
    return CheckTensorLimit(result.dtype, result.shape, max_tensor_bytes, what);
  }
  size_t need_bytes = result.size_bytes();
  if (need_bytes > 0 && (!result.buffer || result.buffer->size_bytes() < need_bytes))
    return Status(StatusCode::kOutOfMemory, where() + "no memory for " + std::to_string(need_bytes) + " bytes");
  return Status::Ok();
}

Status ExecuteStep(const Session::Impl& impl, const PlanStep& step, Stream* stream, RunState* state) {
  const Node& node = impl.graph.nodes[step.node];
  std::vector<const Tensor*> inputs;
  inputs.reserve(node.inputs.size());
  for (int in : node.inputs) inputs.push_back(in == kNoValue ? nullptr : state->Get(in));
  std::vector<Tensor> results(node.outputs.size());
  NodeCall call;
  call.op_type = &node.op_type;
  call.attrs = &node.attrs;
  call.opset = impl.graph.opset;
  call.prepared = impl.prepared[step.node].get();
  call.max_tensor_bytes = impl.max_tensor_bytes;
  Status status = impl.backend->Execute(call, inputs, &results, stream);
  if (!status.ok()) return Status(status.code(), "node '" + node.name + "' (" + node.op_type + "): " + status.message());
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int out = node.outputs[i];
    if (out == kNoValue) continue;
    MAAS_RETURN_IF_ERROR(CheckKernelOutput(node, i, results[i], impl.graph.values[out].info, impl.max_tensor_bytes));
    state->Set(out, std::move(results[i]));
  }
  for (int id : step.release_after) state->Release(id);
  return Status::Ok();
}

Status CopyTensor(const Tensor& source, Tensor* copy) {
  *copy = MakeTensor(source.dtype, source.shape);
  if (!copy->buffer) return Status(StatusCode::kOutOfMemory, "no memory to copy an output");
  if (source.size_bytes()) std::memcpy(copy->raw(), source.raw(), source.size_bytes());
  return Status::Ok();
}

// Outputs must own their memory: a view of a feed (caller memory), of a
// constant (the model's own weights) or of another output is copied.
Status CollectOutputs(const Session::Impl& impl, const std::vector<NamedTensor>& feeds, const RunState& state,
                      std::vector<NamedTensor>* outputs) {
  // Feeds and outputs are few: a vector scan, not a copy of the constants' set per run.
  std::vector<const HostBuffer*> taken;
  taken.reserve(feeds.size() + impl.graph.output_ids.size());
  for (const NamedTensor& feed : feeds)
    if (feed.tensor.buffer) taken.push_back(feed.tensor.buffer.get());
  auto is_taken = [&](const HostBuffer* buffer) {
    return impl.constant_buffers.count(buffer) != 0 || std::find(taken.begin(), taken.end(), buffer) != taken.end();
  };
  outputs->clear();
  outputs->reserve(impl.graph.output_ids.size());
  for (size_t i = 0; i < impl.graph.output_ids.size(); ++i) {
    const Tensor& result = *state.Get(impl.graph.output_ids[i]);
    NamedTensor named{impl.outputs[i].name, result};
    if (!result.buffer || is_taken(result.buffer.get())) {
      // A view of a feed can be as large as the caller's input: check before copying.
      if (impl.max_tensor_bytes != 0 && TensorBytes(result.dtype, result.shape) > impl.max_tensor_bytes)
        return CheckTensorLimit(result.dtype, result.shape, impl.max_tensor_bytes, "output '" + impl.outputs[i].name + "'");
      MAAS_RETURN_IF_ERROR(CopyTensor(result, &named.tensor));
    }
    taken.push_back(named.tensor.buffer.get());
    outputs->push_back(std::move(named));
  }
  return Status::Ok();
}

Status RunUnchecked(const Session::Impl& impl, const std::vector<NamedTensor>& feeds,
                    std::vector<NamedTensor>* outputs) {
  std::vector<size_t> feed_of_input;
  MAAS_RETURN_IF_ERROR(CheckFeeds(impl.inputs, feeds, &feed_of_input));
  RunState state(impl);
  for (size_t i = 0; i < impl.graph.input_ids.size(); ++i)
    state.Set(impl.graph.input_ids[i], feeds[feed_of_input[i]].tensor);
  std::unique_ptr<Stream> stream;
  MAAS_RETURN_IF_ERROR(impl.backend->CreateStream(&stream));
  for (const PlanStep& step : impl.plan.steps) MAAS_RETURN_IF_ERROR(ExecuteStep(impl, step, stream.get(), &state));
  MAAS_RETURN_IF_ERROR(stream->Synchronize());
  return CollectOutputs(impl, feeds, state, outputs);
}

}  // namespace

Status Session::Run(const std::vector<NamedTensor>& feeds, std::vector<NamedTensor>* outputs) const {
  try {
    return RunUnchecked(*impl_, feeds, outputs);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory during the run");
  } catch (const std::exception& e) {
    return Internal(std::string("during the run: ") + e.what());
  }
}

std::vector<DeviceInfo> ListDevices() {
#ifdef MAAS_WITH_CUDA
  return ListCudaDevices();
#else
  return {};
#endif
}

}  // namespace maas
