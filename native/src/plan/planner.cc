// Plan building in four stages: specialize (inference and folding with the
// input shapes), prune (steps nothing reads), assign storage (views, in
// place, owned outputs, dynamic values), lay out (memory_planner).
#include "plan/planner.h"

#include <algorithm>

#include "graph/passes.h"
#include "ops/schema.h"
#include "plan/memory_planner.h"

namespace maas {

namespace {

std::string SignatureText(const std::vector<Shape>& shapes) {
  std::string text;
  for (const Shape& s : shapes) text += (text.empty() ? "" : ", ") + ShapeToString(s);
  return text;
}

uint64_t ByteSize(const PlanValue& v) { return static_cast<uint64_t>(NumElements(v.shape)) * DTypeSizeBytes(v.dtype); }

class PlanBuilder {
 public:
  PlanBuilder(const PlanSource& source, ExecutionPlan* plan) : src_(source), g_(*source.graph), plan_(plan) {}

  Status Build(const std::vector<Shape>& input_shapes) {
    plan_->input_shapes = input_shapes;
    plan_->values.assign(g_.values.size(), PlanValue());
    plan_->constants.assign(g_.values.size(), Tensor());
    plan_->staged_io = !src_.backend->device().is_host();
    MAAS_RETURN_IF_ERROR(Specialize(input_shapes));
    Prune();
    MAAS_RETURN_IF_ERROR(MakeSteps());
    AssignStorage();
    MAAS_RETURN_IF_ERROR(PlanWorkspaces());
    LayOut();
    return UploadConstants();
  }

 private:
  // The host tensor of a constant known here (graph or folded), or null.
  const Tensor* HostConstant(int v) const {
    if (g_.values[v].is_constant) return &g_.values[v].constant;
    return plan_->constants[v].dtype != DType::kUndefined ? &plan_->constants[v] : nullptr;
  }

  ValueInfo InfoOf(int v) const {
    if (v == kNoValue) return ValueInfo();
    ValueInfo info = infos_[v];
    info.constant = HostConstant(v);
    return info;
  }

  // ---- specialize -----------------------------------------------------------

  Status Specialize(const std::vector<Shape>& input_shapes) {
    infos_.resize(g_.values.size());
    for (size_t v = 0; v < g_.values.size(); ++v) {
      infos_[v].dtype = g_.values[v].info.dtype;
      infos_[v].shape = g_.values[v].info.shape;
      infos_[v].rank_known = g_.values[v].info.rank_known;
    }
    for (size_t i = 0; i < g_.input_ids.size(); ++i) {
      infos_[g_.input_ids[i]].shape = input_shapes[i];
      infos_[g_.input_ids[i]].rank_known = true;
    }
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      Status status = SpecializeNode(static_cast<int>(n));
      if (status.code() == StatusCode::kInvalidModel)
        return InvalidArgument("input shapes " + SignatureText(input_shapes) + ": " + status.message());
      MAAS_RETURN_IF_ERROR(status);
    }
    return Status::Ok();
  }

  Status SpecializeNode(int n) {
    const Node& node = g_.nodes[n];
    const OpSchema* schema = FindSchema(node.op_type);
    if (!schema) return Internal("no schema for " + node.op_type);
    std::vector<ValueInfo> inputs;
    bool inputs_constant = true;
    for (int in : node.inputs) {
      inputs.push_back(InfoOf(in));
      inputs_constant &= in == kNoValue || inputs.back().constant != nullptr;
    }
    std::vector<ValueInfo> outputs;
    MAAS_RETURN_IF_ERROR(InferNode(node, *schema, g_.opset, inputs, &outputs));
    bool all_known = true;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const int out = node.outputs[i];
      if (out == kNoValue) continue;
      if (outputs[i].dtype != g_.values[out].info.dtype)
        return Internal("node '" + node.name + "': inference gave another dtype for these shapes");
      all_known &= outputs[i].has_value();
    }
    if (all_known) {
      for (size_t i = 0; i < node.outputs.size(); ++i)
        if (node.outputs[i] != kNoValue) SetConstant(node.outputs[i], outputs[i].value);
      return Status::Ok();
    }
    if (inputs_constant && IsFoldable(*schema, outputs)) {
      std::vector<const Tensor*> tensors;
      tensors.reserve(inputs.size());
      for (const ValueInfo& in : inputs) tensors.push_back(in.constant);
      NodeDesc desc = g_.DescFor(node);
      desc.inputs = inputs;
      desc.outputs = outputs;
      std::vector<Tensor> results;
      Status status = EvaluateOnHost(*src_.host, desc, tensors, &results);
      if (status.ok()) {
        for (size_t i = 0; i < node.outputs.size(); ++i)
          if (node.outputs[i] != kNoValue) SetConstant(node.outputs[i], std::move(results[i]));
        return Status::Ok();
      }
      if (status.code() != StatusCode::kUnsupported)
        return Status(status.code(), "node '" + node.name + "': " + status.message());
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] == kNoValue) continue;
      // A tensor above the limit fails the plan before any run allocates it.
      if (src_.max_tensor_bytes != 0 && outputs[i].concrete() &&
          TensorBytes(outputs[i].dtype, outputs[i].shape) > src_.max_tensor_bytes)
        return CheckTensorLimit(outputs[i].dtype, outputs[i].shape, src_.max_tensor_bytes,
                                "node '" + node.name + "' (" + node.op_type + ") output " + std::to_string(i));
      infos_[node.outputs[i]] = outputs[i];
    }
    step_nodes_.push_back(n);
    return Status::Ok();
  }

  void SetConstant(int v, Tensor tensor) {
    infos_[v].dtype = tensor.dtype;
    infos_[v].shape = tensor.shape;
    infos_[v].rank_known = true;
    plan_->constants[v] = std::move(tensor);
  }

  // ---- prune ------------------------------------------------------------------

  // Steps whose outputs nothing reads go (e.g. a Shape whose reader folded).
  void Prune() {
    std::vector<bool> needed(g_.values.size(), false);
    for (int id : g_.output_ids) needed[id] = true;
    std::vector<int> kept;
    for (size_t i = step_nodes_.size(); i-- > 0;) {
      const Node& node = g_.nodes[step_nodes_[i]];
      bool live = false;
      for (int out : node.outputs) live |= out != kNoValue && needed[out];
      if (!live) continue;
      kept.push_back(step_nodes_[i]);
      for (int in : node.inputs)
        if (in != kNoValue) needed[in] = true;
    }
    std::reverse(kept.begin(), kept.end());
    step_nodes_ = std::move(kept);
  }

  Status MakeSteps() {
    const int end = static_cast<int>(step_nodes_.size());
    plan_->steps.resize(step_nodes_.size());
    for (int s = 0; s < end; ++s) {
      const Node& node = g_.nodes[step_nodes_[s]];
      PlanStep& step = plan_->steps[s];
      step.node = step_nodes_[s];
      step.executable = (*src_.executables)[step.node].get();
      if (!step.executable) return Internal("node '" + node.name + "' was not bound to the backend");
      step.inputs = node.inputs;
      step.outputs = node.outputs;
      step.planned.assign(node.outputs.size(), 0);
      for (int in : node.inputs)
        if (in != kNoValue) Touch(in, s);
      for (int out : node.outputs) {
        if (out == kNoValue) continue;
        PlanValue& pv = plan_->values[out];
        pv.first_step = s;
        pv.last_step = std::max(pv.last_step, s);  // an unread output dies where it is born
        pv.dtype = infos_[out].dtype;
        // An unknown rank must not pass for a scalar: {?} marks "not concrete".
        pv.shape = infos_[out].rank_known ? infos_[out].shape : Shape{kUnknownDim};
      }
    }
    for (int id : g_.output_ids) Touch(id, end);
    for (int id : g_.input_ids) {
      PlanValue& pv = plan_->values[id];
      pv.dtype = infos_[id].dtype;
      pv.shape = infos_[id].shape;
    }
    return Status::Ok();
  }

  void Touch(int v, int step) {
    PlanValue& pv = plan_->values[v];
    pv.last_step = std::max(pv.last_step, step);
    if (HostConstant(v)) pv.storage = Storage::kConstant;
  }

  // ---- storage ----------------------------------------------------------------

  int NewBlock(uint64_t size, int first, int last) {
    plan_->blocks.push_back(PlanBlock{size, 0, false, first, last});
    return static_cast<int>(plan_->blocks.size()) - 1;
  }

  int RootOf(int v) const { return plan_->values[v].storage == Storage::kView ? plan_->values[v].root : v; }

  void AssignStorage() {
    const int end = static_cast<int>(plan_->steps.size());
    for (int id : g_.input_ids) {
      PlanValue& pv = plan_->values[id];
      if (pv.last_step < 0) continue;  // not read by this plan
      if (plan_->staged_io) {
        pv.storage = Storage::kArena;
        pv.block = NewBlock(ByteSize(pv), -1, pv.last_step);
      } else {
        pv.storage = Storage::kFeed;
      }
    }
    for (int s = 0; s < end; ++s) {
      PlanStep& step = plan_->steps[s];
      const OpSchema* schema = FindSchema(g_.nodes[step.node].op_type);
      std::vector<int> taken;  // blocks this step's outputs already reuse
      step.view_inputs.assign(step.outputs.size(), -1);
      step.view_only = true;
      for (size_t i = 0; i < step.outputs.size(); ++i) {
        const int out = step.outputs[i];
        if (out == kNoValue) continue;
        PlanValue& pv = plan_->values[out];
        const int view_of = schema->ViewOf(i);
        if (view_of >= 0 && static_cast<size_t>(view_of) < step.inputs.size() && step.inputs[view_of] != kNoValue) {
          pv.storage = Storage::kView;
          pv.root = RootOf(step.inputs[view_of]);
          step.view_inputs[i] = view_of;
          step.view_only &= NumElements(pv.shape) >= 0;
          const PlanValue& root = plan_->values[pv.root];
          if (root.block >= 0) Extend(root.block, pv.last_step);
          continue;
        }
        step.view_only = false;
        const bool concrete = NumElements(pv.shape) >= 0;
        const bool graph_output = g_.IsGraphOutput(out);
        if (!concrete) {
          pv.storage = Storage::kDynamic;
          continue;
        }
        if (graph_output && !plan_->staged_io) {
          // The caller's buffer; an elementwise op's dying input can be
          // computed there from the start instead of in the arena.
          pv.storage = Storage::kOwned;
          pv.block = InPlaceBlock(step, s, *schema, i, taken);
          if (pv.block >= 0) {
            taken.push_back(pv.block);
            Extend(pv.block, pv.last_step);
          } else {
            pv.block = NewBlock(ByteSize(pv), s, pv.last_step);
          }
          plan_->blocks[pv.block].owned = true;
          step.planned[i] = 1;
          continue;
        }
        pv.storage = Storage::kArena;
        step.planned[i] = 1;
        const int reuse = InPlaceBlock(step, s, *schema, i, taken);
        if (reuse >= 0) {
          pv.block = reuse;
          taken.push_back(reuse);
          Extend(reuse, pv.last_step);
        } else {
          pv.block = NewBlock(ByteSize(pv), s, pv.last_step);
        }
      }
    }
    PromoteOutputViews();
    // Values whose memory is not an arena slice are dropped after their last reader.
    for (size_t v = 0; v < plan_->values.size(); ++v) {
      const PlanValue& pv = plan_->values[v];
      if ((pv.storage == Storage::kDynamic || pv.storage == Storage::kView) && pv.last_step < end && pv.last_step >= 0)
        plan_->steps[pv.last_step].release_after.push_back(static_cast<int>(v));
    }
  }

  void Extend(int block, int last_step) {
    PlanBlock& b = plan_->blocks[block];
    b.last_step = std::max(b.last_step, last_step);
  }

  // The block of the input an elementwise output may take over, or -1: the
  // input's block is an arena block of the same size that nothing reads
  // after this step (and that no other output of the step took).
  int InPlaceBlock(const PlanStep& step, int s, const OpSchema& schema, size_t output, const std::vector<int>& taken) {
    const int j = schema.InPlaceWith(output);
    if (j < 0 || static_cast<size_t>(j) >= step.inputs.size() || step.inputs[j] == kNoValue) return -1;
    const PlanValue& in = plan_->values[step.inputs[j]];
    if (in.storage != Storage::kArena || in.first_step < 0) return -1;  // staged inputs stay intact
    const PlanBlock& block = plan_->blocks[in.block];
    if (block.owned || block.last_step != s || in.last_step != s) return -1;
    if (block.size_bytes != ByteSize(plan_->values[step.outputs[output]])) return -1;
    if (std::find(taken.begin(), taken.end(), in.block) != taken.end()) return -1;
    return in.block;
  }

  // A graph output that is a view of an arena value (Reshape at the end of a
  // model): its block becomes a buffer of its own, handed over without a
  // copy, when it holds exactly that output's bytes and no other output.
  void PromoteOutputViews() {
    if (plan_->staged_io) return;
    std::vector<int> claims(plan_->blocks.size(), 0);
    for (int id : g_.output_ids) {
      const PlanValue& pv = plan_->values[id];
      const int root = pv.storage == Storage::kView ? pv.root : id;
      if (plan_->values[root].block >= 0) ++claims[plan_->values[root].block];
    }
    for (int id : g_.output_ids) {
      const PlanValue& pv = plan_->values[id];
      if (pv.storage != Storage::kView) continue;
      const PlanValue& root = plan_->values[pv.root];
      if (root.storage != Storage::kArena || root.first_step < 0 || claims[root.block] != 1) continue;
      PlanBlock& block = plan_->blocks[root.block];
      if (block.size_bytes != ByteSize(root)) continue;
      block.owned = true;
      block.last_step = static_cast<int>(plan_->steps.size());
    }
    for (size_t v = 0; v < plan_->values.size(); ++v) {
      PlanValue& pv = plan_->values[v];
      if (pv.storage == Storage::kArena && plan_->blocks[pv.block].owned) pv.storage = Storage::kOwned;
    }
  }

  // ---- workspaces and layout -----------------------------------------------

  Status PlanWorkspaces() {
    workspace_blocks_.assign(plan_->steps.size(), -1);
    for (size_t s = 0; s < plan_->steps.size(); ++s) {
      PlanStep& step = plan_->steps[s];
      const Node& node = g_.nodes[step.node];
      NodeDesc desc = g_.DescFor(node);
      for (size_t i = 0; i < node.inputs.size(); ++i) desc.inputs[i] = InfoOf(node.inputs[i]);
      for (size_t i = 0; i < node.outputs.size(); ++i) desc.outputs[i] = InfoOf(node.outputs[i]);
      step.workspace_bytes = step.executable->WorkspaceBytes(desc);
      if (step.workspace_bytes)
        workspace_blocks_[s] = NewBlock(step.workspace_bytes, static_cast<int>(s), static_cast<int>(s));
    }
    return Status::Ok();
  }

  void LayOut() {
    std::vector<MemoryBlock> arena;
    std::vector<int> arena_block_ids;
    for (size_t b = 0; b < plan_->blocks.size(); ++b) {
      const PlanBlock& block = plan_->blocks[b];
      if (block.owned) {
        plan_->owned_blocks.push_back(static_cast<int>(b));
        plan_->output_bytes += block.size_bytes;
        continue;
      }
      arena.push_back(MemoryBlock{block.size_bytes, block.first_step, block.last_step, 0});
      arena_block_ids.push_back(static_cast<int>(b));
    }
    plan_->arena_bytes = AssignOffsets(&arena);
    for (size_t i = 0; i < arena.size(); ++i) plan_->blocks[arena_block_ids[i]].offset = arena[i].offset;
    for (size_t s = 0; s < plan_->steps.size(); ++s)
      if (workspace_blocks_[s] >= 0) plan_->steps[s].workspace_offset = plan_->blocks[workspace_blocks_[s]].offset;
  }

  // Device backends read folded values from their own memory.
  Status UploadConstants() {
    if (!plan_->staged_io) return Status::Ok();
    std::unique_ptr<Stream> stream;
    MAAS_RETURN_IF_ERROR(src_.backend->CreateStream(&stream));
    for (Tensor& host : plan_->constants) {
      if (host.dtype == DType::kUndefined) continue;
      Tensor device = host;
      device.byte_offset = 0;
      MAAS_RETURN_IF_ERROR(src_.backend->Allocate(host.size_bytes(), &device.buffer));
      MAAS_RETURN_IF_ERROR(src_.backend->CopyFromHost(host, device, stream.get()));
      host = std::move(device);
    }
    return stream->Synchronize();
  }

  const PlanSource& src_;
  const Graph& g_;
  ExecutionPlan* plan_;
  std::vector<ValueInfo> infos_;
  std::vector<int> step_nodes_;
  std::vector<int> workspace_blocks_;
};

}  // namespace

Status BuildPlan(const PlanSource& source, const std::vector<Shape>& input_shapes, ExecutionPlan* plan) {
  *plan = ExecutionPlan();
  if (input_shapes.size() != source.graph->input_ids.size()) return Internal("one shape per model input expected");
  return PlanBuilder(source, plan).Build(input_shapes);
}

}  // namespace maas
