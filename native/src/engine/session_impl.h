// Session::Impl: what a loaded model holds. Built by engine/session_load.cc,
// read by engine/session_run.cc. Ownership: the session owns its backend
// (and the host backend used for folding), the optimized graph, one
// Executable per node, the constants as the backend reads them, the plan
// cache and the arena pool.
#pragma once
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/run_memory.h"
#include "graph/graph.h"
#include "maas/engine.h"
#include "plan/plan.h"
#include "plan/planner.h"

namespace maas {

// A plan with the frames its runs reuse.
struct CachedPlan {
  ExecutionPlan plan;
  FramePool frames;
};

// Plans by input-shape signature, least recently used evicted beyond
// `capacity`. A run holds its plan by shared_ptr, so eviction never pulls a
// plan from under a run.
class PlanCache {
 public:
  explicit PlanCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  // The plan whose signature equals the feeds' shapes in input order.
  std::shared_ptr<CachedPlan> Find(const std::vector<NamedTensor>& feeds, const std::vector<size_t>& feed_of_input);
  std::shared_ptr<CachedPlan> Find(const std::vector<Shape>& shapes);
  // Adds `plan` unless a run raced it in first; returns the cached one.
  std::shared_ptr<CachedPlan> Insert(std::shared_ptr<CachedPlan> plan);
  std::vector<std::shared_ptr<const CachedPlan>> Snapshot() const;  // most recent first

 private:
  template <typename Same>
  std::shared_ptr<CachedPlan> FindIf(Same same);
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::shared_ptr<CachedPlan>> plans_;  // most recent first
};

struct Session::Impl {
  explicit Impl(size_t max_plans) : plans(max_plans) {}

  // Declaration order is destruction order reversed: executables and plans
  // point into the backends and the graph.
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Backend> host_backend;  // only when `backend` is not the host
  Backend* host = nullptr;                // evaluates folds: backend or host_backend
  Graph graph;
  std::vector<std::unique_ptr<Executable>> executables;  // per node
  std::vector<Tensor> constants;                         // per value id: constants as the backend reads them
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
  uint64_t weights_bytes = 0;
  uint64_t max_tensor_bytes = 0;  // SessionOptions::max_tensor_bytes
  ArenaPool arenas;
  PlanCache plans;

  PlanSource Source() {
    PlanSource source;
    source.graph = &graph;
    source.backend = backend.get();
    source.host = host;
    source.executables = &executables;
    source.max_tensor_bytes = max_tensor_bytes;
    return source;
  }
  // The cached plan for these shapes, built (and cached) when missing.
  Status PlanFor(const std::vector<Shape>& shapes, std::shared_ptr<CachedPlan>* plan);
};

// Runs `plan` over checked feeds (engine/executor.cc).
Status ExecutePlan(Session::Impl& impl, CachedPlan& plan, const std::vector<NamedTensor>& feeds,
                   const std::vector<size_t>& feed_of_input, std::vector<NamedTensor>* outputs);

}  // namespace maas
