// DimProduct on dims a hostile model can declare: it must not overflow
// (found by the load_run fuzzer: Flatten after a Reshape to huge dims).
#include <gtest/gtest.h>

#include <cstdint>

#include "ops/op_util.h"

namespace maas {
namespace {

constexpr int64_t kBig = int64_t{1} << 40;

TEST(DimProduct, MultipliesTheRange) {
  EXPECT_EQ(DimProduct({2, 3, 4}, 0, 3), 24);
  EXPECT_EQ(DimProduct({2, 3, 4}, 1, 2), 3);
  EXPECT_EQ(DimProduct({2, 3, 4}, 1, 99), 12);  // end clamped to the rank
  EXPECT_EQ(DimProduct({2, 3, 4}, 3, 3), 1);    // empty range
}

TEST(DimProduct, OverflowIsUnknownNotAWrappedCount) {
  EXPECT_EQ(DimProduct({kBig, kBig}, 0, 2), -1);
  EXPECT_EQ(DimProduct({kBig, kBig, 3}, 1, 3), 3 * kBig);
}

TEST(DimProduct, ZeroWinsOverOverflowAndUnknownWinsOverZero) {
  EXPECT_EQ(DimProduct({kBig, kBig, 0}, 0, 3), 0);
  EXPECT_EQ(DimProduct({kBig, -1, 0}, 0, 3), -1);
}

}  // namespace
}  // namespace maas
