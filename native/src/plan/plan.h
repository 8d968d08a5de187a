// An execution plan: the session's graph specialized to one input-shape
// signature. Shapes are concrete where inference can tell, shape subgraphs
// are folded away, every step is a bound Executable, and every value knows
// where its memory comes from during a run (docs/engine.md, "Plans and
// memory"). Immutable once built; concurrent runs share it.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "maas/backend.h"
#include "maas/tensor.h"

namespace maas {

// Where a value's memory comes from during a run.
enum class Storage : uint8_t {
  kUnused,    // nothing in this plan reads or writes it
  kConstant,  // a graph constant, or a value this plan folded (ExecutionPlan::constants)
  kFeed,      // a model input read in place from the caller's memory (host backends)
  kArena,     // bytes [offset, offset + size) of the run's arena (a block)
  kOwned,     // a buffer of its own per run (a block too), handed to the caller as an output
  kView,      // the bytes of value `root` (a view op's output)
  kDynamic,   // shape unknown until its kernel runs: the kernel allocates it
};

struct PlanValue {
  Storage storage = Storage::kUnused;
  DType dtype = DType::kUndefined;
  Shape shape;          // concrete for kArena and kOwned; {-1} when not even the rank is known
  int block = -1;       // kArena, kOwned: index into ExecutionPlan::blocks
  int root = -1;        // kView: the value whose storage it shares (never itself a view)
  int first_step = -1;  // the step that writes it (-1: before the first step)
  int last_step = -1;   // its last reader (steps.size(): read by the caller as an output)
};

// Memory of one or more values: several share a block when an elementwise
// output reuses an input that dies at that step (in place).
struct PlanBlock {
  uint64_t size_bytes = 0;
  uint64_t offset = 0;  // in the arena (kArena blocks)
  bool owned = false;   // a per-run buffer for the caller instead of arena bytes
  int first_step = 0;
  int last_step = 0;
};

struct PlanStep {
  int node = 0;  // index into the session graph's nodes
  const Executable* executable = nullptr;
  std::vector<int> inputs;         // value ids, -1 for an absent input
  std::vector<int> outputs;        // value ids, -1 for an unused output
  std::vector<uint8_t> planned;    // per output: the slot holds its storage before the step
  std::vector<int> release_after;  // kDynamic and kView values whose last reader is this step
  // Every output is a view with a shape known here (Reshape, Flatten, ...):
  // the executor relabels the input itself and never calls the backend.
  bool view_only = false;
  std::vector<int> view_inputs;   // per output: the input it views, or -1
  uint64_t workspace_offset = 0;  // in the arena
  uint64_t workspace_bytes = 0;
};

struct ExecutionPlan {
  std::vector<Shape> input_shapes;  // the signature, in the session's input order
  std::vector<PlanValue> values;    // per graph value id
  std::vector<Tensor> constants;    // per value id: the value when this plan folded it
  std::vector<PlanBlock> blocks;
  std::vector<PlanStep> steps;
  std::vector<int> owned_blocks;  // blocks allocated per run (outputs)
  uint64_t arena_bytes = 0;       // intermediates and workspaces, laid out by liveness
  uint64_t output_bytes = 0;      // the owned blocks together
  bool staged_io = false;         // device backend: feeds copied into the arena, outputs out of it
};

}  // namespace maas
