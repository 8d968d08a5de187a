// Small helpers shared by the CPU op files: axis normalization, dtype checks,
// output allocation with an OOM status, and "parallelize only if it pays".
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include "cpu/kernel.h"

namespace maas {

// Below this many elements per chunk, waking workers costs more than it saves.
constexpr int64_t kElementwiseGrain = 16384;

// Maps a possibly negative axis into [0, rank); false when out of range.
bool NormalizeAxis(int64_t axis, int64_t rank, int64_t* normalized);

bool IsOneOf(DType dtype, std::initializer_list<DType> allowed);

// "<op>: unsupported dtype <name>" as kUnsupported.
Status UnsupportedDType(const std::string& op, DType dtype);

// Checks the node has at least `min_inputs` present inputs at load time.
Status RequireInputs(const std::string& op, const InferContext& ctx, size_t min_inputs);
Status RequireInputs(const std::string& op, const KernelContext& ctx, size_t min_inputs);

// outputs[0], growing the vector if the caller left it empty.
ValueInfo& FirstOutput(std::vector<ValueInfo>& outputs);

// MakeTensor into (*ctx.outputs)[index]; kOutputTooLarge (before allocating)
// above ctx.max_tensor_bytes, kOutOfMemory when allocation fails.
Status AllocateOutput(const std::string& op, KernelContext& ctx, size_t index, DType dtype, const Shape& shape);

// Runs fn over [0, n) on the pool when there is one and the work is worth
// splitting, otherwise inline on the calling thread.
void MaybeParallelFor(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Product of shape[begin, end) (end is clamped to the rank): 0 if any of
// those dims is 0, else -1 if any is unknown or the product overflows int64.
int64_t DimProduct(const Shape& shape, size_t begin, size_t end);

}  // namespace maas
