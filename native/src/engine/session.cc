// Session: load = parse → graph → inference and folding → passes → support
// check → bind; plans are built per input-shape signature on first use
// (docs/engine.md gives the layers).
#include <algorithm>
#include <new>
#include <unordered_set>

#include "cpu/cpu_backend.h"
#include "engine/feed_check.h"
#include "engine/session_impl.h"
#include "graph/passes.h"
#include "onnx/model.h"

namespace maas {

namespace {

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

Status MakeBackends(const SessionOptions& options, Session::Impl* impl) {
  DeviceId device;
  if (!ParseDeviceName(options.device, &device))
    return InvalidArgument("device must be 'cpu' or 'cuda:N', got '" + options.device + "'");
  BackendOptions backend_options;
  backend_options.device = device;
  backend_options.intra_op_threads = options.intra_op_threads;
  if (options.precision != "fp32" && options.precision != "fp16" && options.precision != "bf16")
    return InvalidArgument("precision must be 'fp32', 'fp16' or 'bf16', got '" + options.precision + "'");
  backend_options.precision = options.precision;
  MAAS_RETURN_IF_ERROR(CreateBackend(backend_options, &impl->backend));
  impl->host = impl->backend.get();
  if (!device.is_host()) {
    backend_options.device = DeviceId{};
    MAAS_RETURN_IF_ERROR(CreateCpuBackend(backend_options, &impl->host_backend));
    impl->host = impl->host_backend.get();
  }
  return Status::Ok();
}

// Every node the backend cannot run as typed goes to the report. Nodes with
// an untyped input or output were reported already (or follow from one).
void CheckBackendSupport(const Graph& graph, const Backend& backend, UnsupportedReport* report) {
  const std::string device = DeviceName(backend.device());
  for (const Node& node : graph.nodes) {
    bool typed = true;
    for (int v : node.inputs) typed &= v == kNoValue || graph.values[v].info.dtype != DType::kUndefined;
    for (int v : node.outputs) typed &= v == kNoValue || graph.values[v].info.dtype != DType::kUndefined;
    if (!typed || !FindSchema(node.op_type)) continue;
    if (!backend.HasOp(node.op_type)) {
      report->AddNode(node.op_type + " (no kernel) on " + device);
      continue;
    }
    const std::string reason = backend.CheckNode(graph.DescFor(node));
    if (!reason.empty()) {
      std::string entry = node.op_type;
      entry += " (" + reason;
      entry += ") on " + device;
      report->AddNode(entry);
    }
  }
}

// Values whose shape is known at load (fixed-shape inputs, what constant
// shapes make: ConstantOfShape, Expand, Range, Tile...) must fit the tensor
// limit, or no run could ever succeed: refused now, before any plan
// allocates. Constants (weights) are bounded by the file itself.
Status CheckKnownSizes(const Graph& graph, uint64_t max_tensor_bytes) {
  if (max_tensor_bytes == 0) return Status::Ok();
  std::vector<bool> live(graph.values.size(), false);
  for (int id : graph.input_ids) live[id] = true;
  for (const Node& node : graph.nodes)
    for (int out : node.outputs)
      if (out != kNoValue) live[out] = true;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const Value& value = graph.values[v];
    const ValueInfo& info = value.info;
    if (!live[v] || value.is_constant || !info.rank_known || DTypeSizeBytes(info.dtype) == 0) continue;
    if (std::find(info.shape.begin(), info.shape.end(), kUnknownDim) != info.shape.end()) continue;
    const std::string what =
        "value '" + value.name + "' (" + DTypeName(info.dtype) + " " + ShapeToString(info.shape) + ")";
    // Every dim known, yet no element count: the product left int64.
    if (!info.concrete()) return InvalidModel(what + " has more elements than int64 can count");
    const uint64_t bytes = TensorBytes(info.dtype, info.shape);
    if (bytes > max_tensor_bytes)
      return InvalidModel(what + " would take " + std::to_string(bytes) + " bytes, more than the tensor limit of " +
                          std::to_string(max_tensor_bytes));
  }
  return Status::Ok();
}

Status Bind(Session::Impl* impl) {
  const Graph& graph = impl->graph;
  impl->executables.resize(graph.nodes.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    Status status = impl->backend->Bind(graph.DescFor(node), &impl->executables[n]);
    if (!status.ok())
      return Status(status.code(), "node '" + node.name + "' (" + node.op_type + "): " + status.message());
  }
  return Status::Ok();
}

// Constants the steps read, on the backend's device, and what they weigh
// together with what the backend derived from them.
Status PlaceConstants(Session::Impl* impl) {
  const Graph& graph = impl->graph;
  impl->constants.assign(graph.values.size(), Tensor());
  std::unique_ptr<Stream> stream;
  MAAS_RETURN_IF_ERROR(impl->backend->CreateStream(&stream));
  std::unordered_set<const Buffer*> counted;
  // What steps read, and graph outputs folded into constants (Shape of a
  // fixed-shape input, ConstantOfShape...), which runs hand out as copies.
  std::vector<int> read;
  for (const Node& node : graph.nodes) read.insert(read.end(), node.inputs.begin(), node.inputs.end());
  read.insert(read.end(), graph.output_ids.begin(), graph.output_ids.end());
  for (int v : read) {
    if (v == kNoValue || !graph.values[v].is_constant || impl->constants[v].dtype != DType::kUndefined) continue;
    const Tensor& host = graph.values[v].constant;
    if (host.buffer && counted.insert(host.buffer.get()).second) impl->weights_bytes += host.buffer->size_bytes();
    if (impl->backend->device().is_host()) {
      impl->constants[v] = host;
      continue;
    }
    Tensor device = host;
    device.byte_offset = 0;
    MAAS_RETURN_IF_ERROR(impl->backend->Allocate(host.size_bytes(), &device.buffer));
    MAAS_RETURN_IF_ERROR(impl->backend->CopyFromHost(host, device, stream.get()));
    impl->constants[v] = std::move(device);
  }
  for (const auto& executable : impl->executables) impl->weights_bytes += executable->state_bytes();
  return stream->Synchronize();
}

Status LoadInto(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options, Session::Impl* impl) {
  impl->max_tensor_bytes = options.max_tensor_bytes;
  MAAS_RETURN_IF_ERROR(MakeBackends(options, impl));
  onnx::ModelDecl model;
  MAAS_RETURN_IF_ERROR(onnx::ParseModel(bytes, size_bytes, &model));
  UnsupportedReport report;
  MAAS_RETURN_IF_ERROR(BuildGraph(std::move(model), &impl->graph, &report));
  MAAS_RETURN_IF_ERROR(InferAndFold(&impl->graph, *impl->host, &report));
  RemoveDeadNodes(&impl->graph);
  MAAS_RETURN_IF_ERROR(CheckKnownSizes(impl->graph, options.max_tensor_bytes));
  CheckBackendSupport(impl->graph, *impl->backend, &report);
  MAAS_RETURN_IF_ERROR(report.ToStatus());
  PassContext passes;
  passes.host = impl->host;
  passes.target = impl->backend.get();
  passes.fuse = options.enable_fusions;
  MAAS_RETURN_IF_ERROR(OptimizeGraph(&impl->graph, passes));
  MAAS_RETURN_IF_ERROR(Bind(impl));
  MAAS_RETURN_IF_ERROR(PlaceConstants(impl));
  for (int id : impl->graph.input_ids) impl->inputs.push_back(InputMetadata(impl->graph, id));
  for (size_t i = 0; i < impl->graph.output_ids.size(); ++i) impl->outputs.push_back(OutputMetadata(impl->graph, i));
  // Fixed input shapes: the one plan there will ever be, built now so the
  // first run does not pay for it and memory() reports it from the start.
  std::vector<Shape> shapes;
  for (const TensorMetadata& input : impl->inputs) {
    if (!input.rank_known || NumElements(input.shape) < 0) return Status::Ok();
    shapes.push_back(input.shape);
  }
  std::shared_ptr<CachedPlan> plan;
  return impl->PlanFor(shapes, &plan);
}

template <typename Fn>
Status Guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, std::string("out of memory ") + what);
  } catch (const std::exception& e) {
    return Internal(std::string(what) + ": " + e.what());
  }
}

PlanMemory MemoryOf(const ExecutionPlan& plan) {
  PlanMemory memory;
  memory.input_shapes = plan.input_shapes;
  memory.arena_bytes = plan.arena_bytes;
  memory.output_bytes = plan.output_bytes;
  return memory;
}

}  // namespace

Status Session::Impl::PlanFor(const std::vector<Shape>& shapes, std::shared_ptr<CachedPlan>* plan) {
  *plan = plans.Find(shapes);
  if (*plan) return Status::Ok();
  auto built = std::make_shared<CachedPlan>();
  MAAS_RETURN_IF_ERROR(BuildPlan(Source(), shapes, &built->plan));
  *plan = plans.Insert(std::move(built));
  return Status::Ok();
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::vector<TensorMetadata>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorMetadata>& Session::outputs() const { return impl_->outputs; }
DeviceId Session::device() const { return impl_->backend->device(); }

Status Session::Load(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options,
                     std::unique_ptr<Session>* out) {
  return Guarded("while loading the model", [&] {
    std::unique_ptr<Impl> impl(new Impl(static_cast<size_t>(std::max(1, options.max_cached_plans))));
    MAAS_RETURN_IF_ERROR(LoadInto(bytes, size_bytes, options, impl.get()));
    out->reset(new Session(std::move(impl)));
    return Status::Ok();
  });
}

Status Session::Run(const std::vector<NamedTensor>& feeds, std::vector<NamedTensor>* outputs) const {
  return Guarded("during the run", [&] {
    std::vector<size_t> feed_of_input;
    MAAS_RETURN_IF_ERROR(CheckFeeds(impl_->inputs, feeds, &feed_of_input));
    std::shared_ptr<CachedPlan> plan = impl_->plans.Find(feeds, feed_of_input);
    if (!plan) {
      std::vector<Shape> shapes;
      shapes.reserve(feed_of_input.size());
      for (size_t index : feed_of_input) shapes.push_back(feeds[index].tensor.shape);
      MAAS_RETURN_IF_ERROR(impl_->PlanFor(shapes, &plan));
    }
    return ExecutePlan(*impl_, *plan, feeds, feed_of_input, outputs);
  });
}

Status Session::Plan(const std::vector<Shape>& input_shapes, PlanMemory* out) const {
  return Guarded("while planning", [&] {
    MAAS_RETURN_IF_ERROR(CheckShapes(impl_->inputs, input_shapes));
    std::shared_ptr<CachedPlan> plan;
    MAAS_RETURN_IF_ERROR(impl_->PlanFor(input_shapes, &plan));
    *out = MemoryOf(plan->plan);
    return Status::Ok();
  });
}

SessionMemory Session::memory() const {
  SessionMemory memory;
  memory.weights_bytes = impl_->weights_bytes;
  memory.arena_reserved_bytes = impl_->arenas.reserved_bytes();
  for (const auto& cached : impl_->plans.Snapshot()) memory.plans.push_back(MemoryOf(cached->plan));
  return memory;
}

std::vector<DeviceInfo> ListDevices() {
#ifdef MAAS_WITH_CUDA
  return ListCudaDevices();
#else
  return {};
#endif
}

std::vector<DeviceMemoryStats> DeviceMemory() {
#ifdef MAAS_WITH_CUDA
  return CudaMemoryStatistics();
#else
  return {};
#endif
}

}  // namespace maas
