// Hostile and broken model files at the reader and graph-builder level:
// declared shapes too large to exist, cycles, names defined twice, and very
// many nodes. Each gets a clear load error (or, for a large but sound graph,
// loads in bounded time) — never a crash or an unbounded allocation.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "engine/session_impl.h"
#include "ops/indexing.h"
#include "test_session.h"

namespace maas {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void ExpectLoadError(const std::string& bytes, StatusCode code, const std::string& part,
                     const SessionOptions& options = {}) {
  Status status = LoadStatus(bytes, options);
  EXPECT_EQ(status.code(), code) << part << ": " << status.message();
  EXPECT_TRUE(Contains(status.message(), part)) << status.message();
}

// ---- cycles and names -------------------------------------------------------------------

TEST(HostileModel, CyclesAreRefused) {
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {2})
                      .Node("Add", {"x", "b"}, {"a"})
                      .Node("Relu", {"a"}, {"b"})
                      .Output("b", kOnnxFloat, {2})
                      .Bytes(),
                  StatusCode::kInvalidModel, "cycle");
  // A node reading its own output.
  ExpectLoadError(
      ModelBuilder().Input("x", kOnnxFloat, {2}).Node("Add", {"x", "y"}, {"y"}).Output("y", kOnnxFloat, {2}).Bytes(),
      StatusCode::kInvalidModel, "cycle");
}

TEST(HostileModel, NamesDefinedTwiceAreRefused) {
  // Two nodes writing one value.
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {2})
                      .Node("Relu", {"x"}, {"y"})
                      .Node("Neg", {"x"}, {"y"})
                      .Output("y", kOnnxFloat, {2})
                      .Bytes(),
                  StatusCode::kInvalidModel, "'y' is defined twice");
  // A node writing a graph input, or an initializer.
  ExpectLoadError(
      ModelBuilder().Input("x", kOnnxFloat, {2}).Node("Relu", {"x"}, {"x"}).Output("x", kOnnxFloat, {2}).Bytes(),
      StatusCode::kInvalidModel, "'x' is defined twice");
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {2})
                      .Floats("w", {2}, {1, 2})
                      .Node("Relu", {"x"}, {"w"})
                      .Output("w", kOnnxFloat, {2})
                      .Bytes(),
                  StatusCode::kInvalidModel, "'w' is defined twice");
  // One node naming the same output twice.
  ExpectLoadError(
      ModelBuilder().Input("x", kOnnxFloat, {4}).Node("Split", {"x"}, {"y", "y"}).Output("y", kOnnxFloat, {2}).Bytes(),
      StatusCode::kInvalidModel, "'y' is defined twice");
  // The same graph output listed twice.
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {2})
                      .Node("Relu", {"x"}, {"y"})
                      .Output("y", kOnnxFloat, {2})
                      .Output("y", kOnnxFloat, {2})
                      .Bytes(),
                  StatusCode::kInvalidModel, "'y' is listed twice");
}

// ---- sizes -----------------------------------------------------------------------------

TEST(HostileModel, DeclaredShapesBeyondInt64AreRefused) {
  const int64_t huge = int64_t{1} << 40;
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {huge, huge})
                      .Node("Relu", {"x"}, {"y"})
                      .Output("y", kOnnxFloat, {-1, -1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "input 'x' declares the impossibly large shape");
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {-1})
                      .Node("Relu", {"x"}, {"y"})
                      .Output("y", kOnnxFloat, {huge, huge})
                      .Bytes(),
                  StatusCode::kInvalidModel, "output 'y' declares the impossibly large shape");
}

TEST(HostileModel, ValuesAboveTheTensorLimitFailTheLoad) {
  SessionOptions options;
  options.max_tensor_bytes = 1 << 20;
  // A fixed input larger than any run may hold.
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {1024, 1024})
                      .Node("Relu", {"x"}, {"y"})
                      .Output("y", kOnnxFloat, {1024, 1024})
                      .Bytes(),
                  StatusCode::kInvalidModel, "value 'x'", options);
  // Constant shapes that make huge tensors, whatever the batch: ConstantOfShape,
  // Expand, Range (8 TB each under the default 2 GiB limit).
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {-1})
                      .Int64s("shape", {2}, {1 << 20, 1 << 21})
                      .Node("ConstantOfShape", {"shape"}, {"c"})
                      .Node("Add", {"x", "c"}, {"y"})
                      .Output("y", kOnnxFloat, {-1, -1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "value 'c'");
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {-1, 1})
                      .Int64s("shape", {2}, {1 << 20, 1 << 21})
                      .Node("Expand", {"x", "shape"}, {"y"})
                      .Output("y", kOnnxFloat, {-1, -1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "value 'y'");
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxInt64, {-1})
                      .Int64s("start", {}, {0})
                      .Int64s("limit", {}, {int64_t{1} << 40})
                      .Int64s("delta", {}, {1})
                      .Node("Range", {"start", "limit", "delta"}, {"r"})
                      .Node("Add", {"x", "r"}, {"y"})
                      .Output("y", kOnnxInt64, {-1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "value 'r'");
  // Repeats whose product leaves int64.
  ExpectLoadError(ModelBuilder()
                      .Input("x", kOnnxFloat, {4, 4})
                      .Int64s("repeats", {2}, {int64_t{1} << 40, int64_t{1} << 40})
                      .Node("Tile", {"x", "repeats"}, {"y"})
                      .Output("y", kOnnxFloat, {-1, -1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "value 'y' (float32 [4398046511104,4398046511104]) has more elements");
}

// Integer Range counts are exact for every int64 start, limit and delta
// (the span of two int64s needs 64 unsigned bits).
TEST(HostileModel, IntegerRangeCountsAreExactAtTheExtremes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  struct Case {
    int64_t start, limit, delta, count;
  } cases[] = {{0, 10, 3, 4},         {10, 0, -3, 4},     {0, 10, -1, 0},
               {5, 5, 1, 0},          {-7, -1, 2, 3},     {kMin, kMax, kMax, 3},
               {kMax, kMin, kMin, 2}, {0, kMax, 1, kMax}, {kMax, kMin + 1, -kMax, 2}};
  for (const Case& c : cases) {
    int64_t count = -1;
    ASSERT_TRUE(RangeCountInt(c.start, c.limit, c.delta, &count).ok()) << c.start << " " << c.limit << " " << c.delta;
    EXPECT_EQ(count, c.count) << c.start << " " << c.limit << " " << c.delta;
  }
  int64_t count = 0;
  EXPECT_EQ(RangeCountInt(kMin, kMax, 1, &count).code(), StatusCode::kInvalidModel);
  EXPECT_EQ(RangeCountInt(kMax, kMin, -1, &count).code(), StatusCode::kInvalidModel);
  EXPECT_EQ(RangeCountInt(0, 1, 0, &count).code(), StatusCode::kInvalidModel);
}

TEST(HostileModel, ARangeWithDeltaZeroIsRefused) {
  ExpectLoadError(ModelBuilder()
                      .Int64s("start", {}, {0})
                      .Int64s("limit", {}, {10})
                      .Int64s("delta", {}, {0})
                      .Input("x", kOnnxInt64, {-1})
                      .Node("Range", {"start", "limit", "delta"}, {"r"})
                      .Node("Add", {"x", "r"}, {"y"})
                      .Output("y", kOnnxInt64, {-1})
                      .Bytes(),
                  StatusCode::kInvalidModel, "delta is 0");
}

// ---- many nodes --------------------------------------------------------------------------

TEST(HostileModel, AChainOfAHundredThousandNodesLoadsAndRuns) {
  ModelBuilder builder;
  builder.Input("x", kOnnxFloat, {-1, 4});
  const int kNodes = 100000;
  std::string previous = "x";
  for (int i = 0; i < kNodes; ++i) {
    const std::string next = i + 1 == kNodes ? "y" : "v" + std::to_string(i);
    builder.Node(i == 0 ? "Relu" : "Neg", {previous}, {next});
    previous = next;
  }
  const std::string bytes = builder.Output("y", kOnnxFloat, {-1, 4}).Bytes();
  const auto start = std::chrono::steady_clock::now();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  std::vector<FloatFeed> feeds = {{"x", {2, 4}, {-1, 2, -3, 4, 5, -6, 7, -8}}};
  std::vector<NamedTensor> out;
  ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("100000 nodes: load + first run %.2f s\n", seconds);
  // Relu, then Neg 99999 times: -max(0, x).
  EXPECT_EQ(FloatsOf(out[0].tensor), (std::vector<float>{0, -2, 0, -4, -5, 0, -7, 0}));
}

TEST(HostileModel, AHundredThousandBranchesLoadAndRun) {
  // x → 100000 × Neg → one Max over all of them: every value is live at once.
  ModelBuilder builder;
  builder.Input("x", kOnnxFloat, {-1, 4});
  const int kBranches = 100000;
  std::vector<std::string> branches;
  for (int i = 0; i < kBranches; ++i) {
    branches.push_back("b" + std::to_string(i));
    builder.Node("Neg", {"x"}, {branches.back()});
  }
  builder.Node("Max", branches, {"y"});
  const std::string bytes = builder.Output("y", kOnnxFloat, {-1, 4}).Bytes();
  const auto start = std::chrono::steady_clock::now();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  std::vector<FloatFeed> feeds = {{"x", {1, 4}, {-1, 2, -3, 4}}};
  std::vector<NamedTensor> out;
  ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("100000 branches: load + first run %.2f s\n", seconds);
  EXPECT_EQ(FloatsOf(out[0].tensor), (std::vector<float>{1, -2, 3, -4}));
}

}  // namespace
}  // namespace maas
