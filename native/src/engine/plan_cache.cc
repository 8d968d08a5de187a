#include "engine/session_impl.h"

namespace maas {

template <typename Same>
std::shared_ptr<CachedPlan> PlanCache::FindIf(Same same) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    if (!same((*it)->plan.input_shapes)) continue;
    if (it != plans_.begin()) plans_.splice(plans_.begin(), plans_, it);  // most recent first
    return plans_.front();
  }
  return nullptr;
}

// A handful of plans, a handful of dims each: a scan costs less than hashing.
std::shared_ptr<CachedPlan> PlanCache::Find(const std::vector<NamedTensor>& feeds,
                                            const std::vector<size_t>& feed_of_input) {
  return FindIf([&](const std::vector<Shape>& shapes) {
    for (size_t i = 0; i < shapes.size(); ++i)
      if (feeds[feed_of_input[i]].tensor.shape != shapes[i]) return false;
    return true;
  });
}

std::shared_ptr<CachedPlan> PlanCache::Find(const std::vector<Shape>& wanted) {
  return FindIf([&](const std::vector<Shape>& shapes) { return shapes == wanted; });
}

std::shared_ptr<CachedPlan> PlanCache::Insert(std::shared_ptr<CachedPlan> plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& cached : plans_)
    if (cached->plan.input_shapes == plan->plan.input_shapes) return cached;
  plans_.push_front(std::move(plan));
  while (plans_.size() > capacity_) plans_.pop_back();
  return plans_.front();
}

std::vector<std::shared_ptr<const CachedPlan>> PlanCache::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::vector<std::shared_ptr<const CachedPlan>>(plans_.begin(), plans_.end());
}

}  // namespace maas
