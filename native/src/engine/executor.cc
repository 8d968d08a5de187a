// Runs one plan: bind the frame to an arena, place the feeds, allocate the
// outputs' own buffers, run each step's executable over slot pointers the
// frame prepared, and hand the outputs over. On the host a steady-state run
// allocates only the outputs it hands to the caller.
#include <algorithm>
#include <cstring>

#include "engine/session_impl.h"

namespace maas {

namespace {

// A non-owning Buffer over an arena: frame slots point into the arena
// through it, so a frame never keeps an arena alive that the pool replaced.
class ArenaView final : public Buffer {
 public:
  explicit ArenaView(const Buffer& arena) : Buffer(arena.data(), arena.size_bytes(), arena.device()) {}
};

const Tensor* ConstantOf(const Session::Impl& impl, const ExecutionPlan& plan, int v) {
  if (plan.constants[v].dtype != DType::kUndefined) return &plan.constants[v];
  if (impl.constants[v].dtype != DType::kUndefined) return &impl.constants[v];
  return nullptr;
}

Status MakeFrame(Session::Impl& impl, const ExecutionPlan& plan, std::unique_ptr<Frame>* out) {
  auto frame = std::make_unique<Frame>();
  frame->slots.resize(plan.values.size());
  for (size_t v = 0; v < plan.values.size(); ++v) {
    const PlanValue& pv = plan.values[v];
    Tensor& slot = frame->slots[v];
    if (pv.storage == Storage::kArena) {
      slot.dtype = pv.dtype;
      slot.shape = pv.shape;
      slot.byte_offset = plan.blocks[pv.block].offset;
      frame->arena_values.push_back(static_cast<int>(v));
    } else if (pv.storage == Storage::kOwned) {
      slot.dtype = pv.dtype;
      slot.shape = pv.shape;
      frame->owned_values.push_back(static_cast<int>(v));
      for (size_t i = 0; i < plan.owned_blocks.size(); ++i)
        if (plan.owned_blocks[i] == pv.block) frame->owned_block_of.push_back(static_cast<int>(i));
    }
  }
  size_t unused = 0;
  for (const PlanStep& step : plan.steps)
    for (int out : step.outputs) unused += out == -1;
  frame->unused_outputs.resize(unused);
  size_t next_unused = 0;
  for (const PlanStep& step : plan.steps) {
    frame->input_begin.push_back(frame->inputs.size());
    for (int in : step.inputs) {
      const Tensor* constant = in == -1 ? nullptr : ConstantOf(impl, plan, in);
      frame->inputs.push_back(in == -1 ? nullptr : constant ? constant : &frame->slots[in]);
    }
    frame->output_begin.push_back(frame->outputs.size());
    for (int out : step.outputs)
      frame->outputs.push_back(out == -1 ? &frame->unused_outputs[next_unused++] : &frame->slots[out]);
  }
  frame->owned_buffers.resize(plan.owned_blocks.size());
  MAAS_RETURN_IF_ERROR(impl.backend->CreateStream(&frame->stream));
  *out = std::move(frame);
  return Status::Ok();
}

class PlanRun {
 public:
  PlanRun(Session::Impl& impl, CachedPlan& cached) : impl_(impl), cached_(cached), plan_(cached.plan) {}
  PlanRun(const PlanRun&) = delete;
  PlanRun& operator=(const PlanRun&) = delete;

  // Gives the frame and the arena back, dropping every per-run reference
  // (the caller's feeds included) whatever happened.
  ~PlanRun() {
    if (!frame_) return;
    // A run that failed half-way may still have device work queued that
    // reads the arena: let it finish before the memory goes back to a pool.
    if (!waited_ && frame_->stream) (void)frame_->stream->Synchronize();
    for (size_t v = 0; v < plan_.values.size(); ++v) {
      const Storage storage = plan_.values[v].storage;
      if (storage == Storage::kFeed || storage == Storage::kOwned || storage == Storage::kDynamic ||
          storage == Storage::kView)
        frame_->slots[v].buffer.reset();
    }
    for (Tensor& t : frame_->unused_outputs) t.buffer.reset();
    for (auto& buffer : frame_->owned_buffers) buffer.reset();
    cached_.frames.Give(std::move(frame_));
    impl_.arenas.Release(std::move(arena_));
  }

  Status Run(const std::vector<NamedTensor>& feeds, const std::vector<size_t>& feed_of_input,
             std::vector<NamedTensor>* outputs) {
    frame_ = cached_.frames.Take();
    if (!frame_) MAAS_RETURN_IF_ERROR(MakeFrame(impl_, plan_, &frame_));
    if (plan_.arena_bytes) MAAS_RETURN_IF_ERROR(impl_.arenas.Acquire(*impl_.backend, plan_.arena_bytes, &arena_));
    BindArena();
    MAAS_RETURN_IF_ERROR(PlaceFeeds(feeds, feed_of_input));
    MAAS_RETURN_IF_ERROR(AllocateOwned());
    for (size_t s = 0; s < plan_.steps.size(); ++s) MAAS_RETURN_IF_ERROR(RunStep(s));
    // Downloads queue behind the kernels on the same stream: one wait at the end.
    MAAS_RETURN_IF_ERROR(Collect(feeds, outputs));
    waited_ = true;
    return frame_->stream->Synchronize();
  }

 private:
  void BindArena() {
    if (!arena_ || (frame_->bound_data == arena_->data() && frame_->bound_size == arena_->size_bytes())) return;
    frame_->arena_view = std::make_shared<ArenaView>(*arena_);
    for (int v : frame_->arena_values) frame_->slots[v].buffer = frame_->arena_view;
    frame_->bound_data = arena_->data();
    frame_->bound_size = arena_->size_bytes();
  }

  Status PlaceFeeds(const std::vector<NamedTensor>& feeds, const std::vector<size_t>& feed_of_input) {
    const std::vector<int>& ids = impl_.graph.input_ids;
    for (size_t i = 0; i < ids.size(); ++i) {
      const Tensor& feed = feeds[feed_of_input[i]].tensor;
      const Storage storage = plan_.values[ids[i]].storage;
      if (storage == Storage::kFeed) frame_->slots[ids[i]] = feed;
      if (storage == Storage::kArena)
        MAAS_RETURN_IF_ERROR(impl_.backend->CopyFromHost(feed, frame_->slots[ids[i]], frame_->stream.get()));
    }
    return Status::Ok();
  }

  Status AllocateOwned() {
    for (size_t i = 0; i < plan_.owned_blocks.size(); ++i)
      MAAS_RETURN_IF_ERROR(
          impl_.backend->Allocate(plan_.blocks[plan_.owned_blocks[i]].size_bytes, &frame_->owned_buffers[i]));
    for (size_t i = 0; i < frame_->owned_values.size(); ++i) {
      Tensor& slot = frame_->slots[frame_->owned_values[i]];
      slot.buffer = frame_->owned_buffers[frame_->owned_block_of[i]];
      slot.byte_offset = 0;
    }
    return Status::Ok();
  }

  // A view whose shape the plan knows: relabel the input here, on any device.
  void RunViewStep(size_t s) {
    const PlanStep& step = plan_.steps[s];
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      const int out = step.outputs[i];
      if (out == -1) continue;
      const Tensor& source = *frame_->inputs[frame_->input_begin[s] + step.view_inputs[i]];
      Tensor& slot = frame_->slots[out];
      slot.dtype = source.dtype;
      slot.shape = plan_.values[out].shape;
      slot.buffer = source.buffer;
      slot.byte_offset = source.byte_offset;
    }
  }

  Status RunStep(size_t s) {
    const PlanStep& step = plan_.steps[s];
    if (step.view_only) {
      RunViewStep(s);
      for (int v : step.release_after) frame_->slots[v].buffer.reset();
      return Status::Ok();
    }
    const Node& node = impl_.graph.nodes[step.node];
    ExecContext ctx(Span<const Tensor* const>(frame_->inputs.data() + frame_->input_begin[s], step.inputs.size()),
                    Span<Tensor* const>(frame_->outputs.data() + frame_->output_begin[s], step.outputs.size()),
                    impl_.backend.get(), frame_->stream.get());
    ctx.set_planned(step.planned.data());
    ctx.set_max_tensor_bytes(impl_.max_tensor_bytes);
    if (step.workspace_bytes)
      ctx.set_workspace(static_cast<char*>(arena_->data()) + step.workspace_offset, step.workspace_bytes);
    Status status = step.executable->Run(ctx);
    if (!status.ok())
      return Status(status.code(), "node '" + node.name + "' (" + node.op_type + "): " + status.message());
    for (size_t i = 0; i < step.outputs.size(); ++i)
      if (step.outputs[i] != -1) MAAS_RETURN_IF_ERROR(CheckOutput(step, node, i));
    for (int v : step.release_after) frame_->slots[v].buffer.reset();
    return Status::Ok();
  }

  // Built only on failure: this runs for every output of every step.
  Status CheckOutput(const PlanStep& step, const Node& node, size_t i) {
    const int v = step.outputs[i];
    const PlanValue& pv = plan_.values[v];
    const Tensor& result = frame_->slots[v];
    auto where = [&] { return "node '" + node.name + "' (" + node.op_type + ") output " + std::to_string(i) + ": "; };
    if (step.planned[i]) {
      // The kernel must have written into the storage the plan gave it.
      const auto& owned = frame_->owned_buffers;
      const bool kept = pv.storage == Storage::kArena
                            ? result.buffer == frame_->arena_view && result.byte_offset == plan_.blocks[pv.block].offset
                            : std::find(owned.begin(), owned.end(), result.buffer) != owned.end();
      if (kept && result.dtype == pv.dtype && result.shape == pv.shape) return Status::Ok();
      frame_->bound_data = nullptr;  // rebind the slots next run
      return Internal(where() + "the kernel replaced the memory the plan gave it");
    }
    if (result.dtype == DType::kUndefined) return Internal(where() + "the kernel produced nothing");
    if (pv.dtype != DType::kUndefined && pv.dtype != result.dtype)
      return Internal(where() + "dtype " + DTypeName(result.dtype) + " differs from the inferred " +
                      DTypeName(pv.dtype));
    if (NumElements(result.shape) < 0)
      return Internal(where() + "shape " + ShapeToString(result.shape) + " is not concrete");
    // Kernels check the limit before allocating (AllocateOutput); this catches
    // one that allocated some other way before the tensor travels further.
    if (impl_.max_tensor_bytes != 0 && TensorBytes(result.dtype, result.shape) > impl_.max_tensor_bytes)
      return CheckTensorLimit(result.dtype, result.shape, impl_.max_tensor_bytes,
                              "node '" + node.name + "' (" + node.op_type + ") output " + std::to_string(i));
    if (result.size_bytes() > 0 && (!result.buffer || result.available_bytes() < result.size_bytes()))
      return Status(StatusCode::kOutOfMemory,
                    where() + "no memory for " + std::to_string(result.size_bytes()) + " bytes");
    return Status::Ok();
  }

  // Whether an output's memory is its own (made for it this run) rather than
  // a feed's, a constant's or the arena's.
  bool OwnsMemory(int v) const {
    const PlanValue& pv = plan_.values[v];
    const Storage storage = pv.storage == Storage::kView ? plan_.values[pv.root].storage : pv.storage;
    return !plan_.staged_io && (storage == Storage::kOwned || storage == Storage::kDynamic);
  }

  Status Collect(const std::vector<NamedTensor>& feeds, std::vector<NamedTensor>* outputs) {
    const std::vector<int>& ids = impl_.graph.output_ids;
    outputs->clear();
    outputs->reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const int v = ids[i];
      const Tensor* constant = ConstantOf(impl_, plan_, v);
      const Tensor& result = constant ? *constant : frame_->slots[v];
      NamedTensor named{impl_.outputs[i].name, Tensor()};
      bool hand_over = !constant && OwnsMemory(v) && result.buffer;
      for (const NamedTensor& feed : feeds) hand_over &= feed.tensor.buffer != result.buffer;
      for (const NamedTensor& earlier : *outputs) hand_over &= earlier.tensor.buffer != result.buffer;
      if (hand_over) {
        named.tensor = result;
      } else {
        // A view of a feed can be as large as the caller's input: check before copying.
        if (impl_.max_tensor_bytes != 0 && TensorBytes(result.dtype, result.shape) > impl_.max_tensor_bytes)
          return CheckTensorLimit(result.dtype, result.shape, impl_.max_tensor_bytes,
                                  "output '" + impl_.outputs[i].name + "'");
        MAAS_RETURN_IF_ERROR(CopyToHost(result, &named.tensor));
      }
      outputs->push_back(std::move(named));
    }
    return Status::Ok();
  }

  Status CopyToHost(const Tensor& source, Tensor* copy) {
    *copy = MakeTensor(source.dtype, source.shape);
    if (!copy->buffer) return Status(StatusCode::kOutOfMemory, "no memory to copy an output");
    if (source.size_bytes() == 0) return Status::Ok();
    if (source.device().is_host()) {
      std::memcpy(copy->raw(), source.raw(), source.size_bytes());
      return Status::Ok();
    }
    return impl_.backend->CopyToHost(source, *copy, frame_->stream.get());
  }

  Session::Impl& impl_;
  CachedPlan& cached_;
  const ExecutionPlan& plan_;
  std::unique_ptr<Frame> frame_;
  std::shared_ptr<Buffer> arena_;
  bool waited_ = false;  // the final Synchronize ran (whatever it returned)
};

}  // namespace

Status ExecutePlan(Session::Impl& impl, CachedPlan& plan, const std::vector<NamedTensor>& feeds,
                   const std::vector<size_t>& feed_of_input, std::vector<NamedTensor>* outputs) {
  PlanRun run(impl, plan);
  return run.Run(feeds, feed_of_input, outputs);
}

}  // namespace maas
