// Lays a plan's intermediates into one arena by liveness: blocks whose step
// intervals overlap never share bytes; a block whose last reader has run
// gives its bytes to later blocks. Pure: the planner builds the blocks from
// the graph, this assigns offsets.
#pragma once
#include <cstdint>
#include <vector>

namespace maas {

struct MemoryBlock {
  uint64_t size_bytes = 0;
  // Live from before step `first_step` runs (it writes the block) until
  // after step `last_step` has run (its last reader); first <= last.
  // -1 as first: live before step 0 (a staged input).
  int first_step = 0;
  int last_step = 0;
  uint64_t offset = 0;  // assigned
};

constexpr uint64_t kArenaAlignment = 64;  // every block starts on a cache line (SIMD loads)

// Assigns every block an offset (a multiple of kArenaAlignment) and returns
// the arena size. Steps are walked in order: at each step the blocks it
// writes are placed (largest first, each in the smallest free gap that
// holds it, else at the top), then the blocks it read for the last time are
// freed and merged with free neighbours.
uint64_t AssignOffsets(std::vector<MemoryBlock>* blocks);

}  // namespace maas
