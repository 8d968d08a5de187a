// Execution plans: the arena layout by liveness (the pure memory planner and
// whole plans), in-place reuse, the plan cache by input-shape signature,
// plan-time folding, and a steady-state run allocating only its outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "cpu/kernel.h"
#include "engine/session_impl.h"
#include "ops/op_util.h"
#include "ops/schema.h"
#include "plan/memory_planner.h"
#include "test_session.h"

namespace maas {
namespace {

// ---- the memory planner -------------------------------------------------------

bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) { return a < b + b_size && b < a + a_size; }

TEST(MemoryPlanner, LiveBlocksNeverShareBytes) {
  std::mt19937 rng(7);
  std::vector<MemoryBlock> blocks;
  for (int i = 0; i < 300; ++i) {
    MemoryBlock b;
    b.first_step = static_cast<int>(rng() % 100) - 1;
    b.last_step = b.first_step + 1 + static_cast<int>(rng() % 12);
    b.size_bytes = 1 + rng() % 5000;
    blocks.push_back(b);
  }
  const uint64_t arena = AssignOffsets(&blocks);
  uint64_t top = 0, widest_step = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const MemoryBlock& a = blocks[i];
    EXPECT_EQ(a.offset % kArenaAlignment, 0u);
    top = std::max(top, a.offset + a.size_bytes);
    for (size_t j = i + 1; j < blocks.size(); ++j) {
      const MemoryBlock& b = blocks[j];
      const bool both_live = a.first_step <= b.last_step && b.first_step <= a.last_step;
      if (both_live) EXPECT_FALSE(Overlaps(a.offset, a.size_bytes, b.offset, b.size_bytes)) << i << " " << j;
    }
  }
  for (int step = -1; step < 115; ++step) {
    uint64_t live = 0;
    for (const MemoryBlock& b : blocks)
      if (b.first_step <= step && step <= b.last_step) live += b.size_bytes;
    widest_step = std::max(widest_step, live);
  }
  EXPECT_GE(arena, top);          // every block fits
  EXPECT_GE(arena, widest_step);  // no layout beats the widest step
}

TEST(MemoryPlanner, AChainNeedsTwoBlocks) {
  // Each block is written by one step and read by the next: at most two live.
  std::vector<MemoryBlock> blocks;
  for (int s = 0; s < 6; ++s) blocks.push_back(MemoryBlock{1000, s, s + 1, 0});
  EXPECT_EQ(AssignOffsets(&blocks), 2048u);  // 1000 rounds up to 1024
  EXPECT_EQ(blocks[0].offset, blocks[2].offset);
  EXPECT_NE(blocks[0].offset, blocks[1].offset);
  std::vector<MemoryBlock> none;
  EXPECT_EQ(AssignOffsets(&none), 0u);
}

// ---- whole plans ------------------------------------------------------------------

// x [32,32] → Transpose ×4 → y: 4 KiB per intermediate.
std::string TransposeChain() {
  return ModelBuilder()
      .Input("x", kOnnxFloat, {32, 32})
      .Node("Transpose", {"x"}, {"t1"})
      .Node("Transpose", {"t1"}, {"t2"})
      .Node("Transpose", {"t2"}, {"t3"})
      .Node("Transpose", {"t3"}, {"y"})
      .Output("y", kOnnxFloat, {32, 32})
      .Bytes();
}

const ExecutionPlan& OnlyPlan(const Session& session) {
  auto plans = session.internals().plans.Snapshot();
  EXPECT_EQ(plans.size(), 1u);
  return plans.front()->plan;
}

TEST(Plan, ArenaHoldsOnlyWhatIsLive) {
  auto session = LoadSession(TransposeChain());
  ASSERT_NE(session, nullptr);
  // Fixed shapes: planned at load. t1 and t2 overlap; t3 reuses t1's bytes;
  // y is the caller's own buffer.
  SessionMemory memory = session->memory();
  ASSERT_EQ(memory.plans.size(), 1u);
  EXPECT_EQ(memory.plans[0].arena_bytes, 2u * 4096);
  EXPECT_EQ(memory.plans[0].output_bytes, 4096u);
  std::vector<FloatFeed> feeds = {{"x", {32, 32}, RandomFloats(1024, 1)}};
  std::vector<NamedTensor> out;
  ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  EXPECT_EQ(FloatsOf(out[0].tensor), feeds[0].values);  // four transposes: the identity
}

TEST(Plan, ElementwiseOpsReuseTheirInputInPlace) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {32, 32})
                                .Node("Transpose", {"x"}, {"t"})
                                .Node("Relu", {"t"}, {"r"})
                                .Node("Sigmoid", {"r"}, {"s"})
                                .Node("Tanh", {"s"}, {"h"})
                                .Node("Transpose", {"h"}, {"y"})
                                .Output("y", kOnnxFloat, {32, 32})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  const ExecutionPlan& plan = OnlyPlan(*session);
  EXPECT_EQ(plan.arena_bytes, 4096u);  // t, r, s, h: one block
  std::vector<FloatFeed> feeds = {{"x", {32, 32}, RandomFloats(1024, 2, -4, 4)}};
  std::vector<NamedTensor> out;
  ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  std::vector<float> y = FloatsOf(out[0].tensor);
  for (size_t i = 0; i < y.size(); ++i) {
    const double r = std::max(0.0f, feeds[0].values[i]);
    EXPECT_NEAR(y[i], std::tanh(1.0 / (1.0 + std::exp(-r))), 1e-6) << i;
  }
}

// A DAG with branches: no two values that are live at once share bytes.
TEST(Plan, NoTwoLiveIntermediatesOverlap) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {16, 16})
                                .Node("Relu", {"x"}, {"a"})
                                .Node("Sigmoid", {"x"}, {"b"})
                                .Node("Add", {"a", "b"}, {"c"})
                                .Node("Transpose", {"c"}, {"d"})
                                .Node("Mul", {"d", "a"}, {"e"})
                                .Node("Tanh", {"b"}, {"f"})
                                .Node("Concat", {"e", "f", "a"}, {"y"}, {IntAttribute("axis", 0)})
                                .Output("y", kOnnxFloat, {48, 16})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  const ExecutionPlan& plan = OnlyPlan(*session);
  int arena_values = 0;
  for (size_t u = 0; u < plan.values.size(); ++u) {
    const PlanValue& a = plan.values[u];
    if (a.storage != Storage::kArena) continue;
    ++arena_values;
    const PlanBlock& ab = plan.blocks[a.block];
    EXPECT_LE(ab.offset + ab.size_bytes, plan.arena_bytes);
    for (size_t v = u + 1; v < plan.values.size(); ++v) {
      const PlanValue& b = plan.values[v];
      if (b.storage != Storage::kArena || b.block == a.block) continue;
      const PlanBlock& bb = plan.blocks[b.block];
      const bool both_live = a.first_step <= b.last_step && b.first_step <= a.last_step;
      if (both_live) EXPECT_FALSE(Overlaps(ab.offset, ab.size_bytes, bb.offset, bb.size_bytes)) << u << " " << v;
    }
  }
  EXPECT_GE(arena_values, 5);
  std::vector<FloatFeed> feeds = {{"x", {16, 16}, RandomFloats(256, 3, -3, 3)}};
  std::vector<NamedTensor> out;
  ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  std::vector<float> y = FloatsOf(out[0].tensor);
  const std::vector<float>& x = feeds[0].values;
  auto at = [&](int r, int c) { return x[r * 16 + c]; };
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) {
      const double d = std::max(0.0f, at(c, r)) + sig(at(c, r));  // transpose of a + b
      EXPECT_NEAR(y[r * 16 + c], d * std::max(0.0f, at(r, c)), 1e-5) << r << "," << c;
      EXPECT_NEAR(y[256 + r * 16 + c], std::tanh(sig(at(r, c))), 1e-6);
      EXPECT_EQ(y[512 + r * 16 + c], std::max(0.0f, at(r, c)));
    }
}

// ---- the plan cache ---------------------------------------------------------------

// y = Relu(x + [1, -2, 0.5]), x: [batch, 3].
std::string AddRelu() {
  return ModelBuilder()
      .Input("x", kOnnxFloat, {-1, 3})
      .Floats("bias", {3}, {1, -2, 0.5f})
      .Node("Add", {"x", "bias"}, {"sum"})
      .Node("Relu", {"sum"}, {"y"})
      .Output("y", kOnnxFloat, {-1, 3})
      .Bytes();
}

std::vector<float> RunBatch(const Session& session, int64_t batch) {
  std::vector<FloatFeed> feeds = {{"x", {batch, 3}, RandomFloats(batch * 3, static_cast<uint32_t>(batch), -3, 3)}};
  std::vector<NamedTensor> out;
  Status status = RunFloats(session, feeds, &out);
  EXPECT_TRUE(status.ok()) << status.message();
  if (!status.ok()) return {};
  const float bias[3] = {1, -2, 0.5f};
  std::vector<float> y = FloatsOf(out[0].tensor);
  EXPECT_EQ(out[0].tensor.shape, (Shape{batch, 3}));
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], std::max(0.0f, feeds[0].values[i] + bias[i % 3])) << i;
  return y;
}

std::vector<Shape> FirstShapes(const SessionMemory& memory) {
  std::vector<Shape> shapes;
  for (const PlanMemory& plan : memory.plans) shapes.push_back(plan.input_shapes.at(0));
  return shapes;
}

TEST(PlanCache, OnePlanPerShapeSignatureReusedAndBounded) {
  SessionOptions options;
  options.max_cached_plans = 2;
  auto session = LoadSession(AddRelu(), options);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->memory().plans.empty());  // a dynamic batch: nothing to plan before a run
  RunBatch(*session, 2);
  const CachedPlan* first = session->internals().plans.Snapshot().at(0).get();
  RunBatch(*session, 2);
  EXPECT_EQ(session->internals().plans.Snapshot().at(0).get(), first);  // the same plan again
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{2, 3}}));
  RunBatch(*session, 3);
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{3, 3}, {2, 3}}));
  RunBatch(*session, 4);  // evicts the least recently used: batch 2
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{4, 3}, {3, 3}}));
  RunBatch(*session, 3);
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{3, 3}, {4, 3}}));
  RunBatch(*session, 2);  // planned again
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{2, 3}, {3, 3}}));
}

// Plans share the session's arenas: a larger plan grows the one arena, and
// a smaller plan's frame must follow it to the new memory (a frame that
// kept pointing at the freed arena would write into freed memory; the
// sanitizer build catches that, this build checks the numbers).
TEST(PlanCache, PlansOfDifferentSizesShareOneGrowingArena) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {-1, 16})
                                .Node("Transpose", {"x"}, {"t1"})
                                .Node("Transpose", {"t1"}, {"t2"})
                                .Node("Relu", {"t2"}, {"y"})
                                .Output("y", kOnnxFloat, {-1, 16})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  for (int64_t batch : {1, 64, 1, 256, 2, 1, 64}) {
    std::vector<FloatFeed> feeds = {{"x", {batch, 16}, RandomFloats(batch * 16, static_cast<uint32_t>(batch), -1, 1)}};
    std::vector<NamedTensor> out;
    ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
    std::vector<float> y = FloatsOf(out[0].tensor);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], std::max(0.0f, feeds[0].values[i])) << batch;
  }
  // One arena, sized for the largest plan: t1 at [256,16] (t2 is computed
  // in y's own buffer, Relu then working in place there).
  EXPECT_EQ(session->memory().arena_reserved_bytes, 256u * 16 * 4);
}

TEST(PlanCache, PlansWithoutRunning) {
  auto session = LoadSession(AddRelu());
  ASSERT_NE(session, nullptr);
  PlanMemory plan;
  ASSERT_TRUE(session->Plan({{8, 3}}, &plan).ok());
  EXPECT_EQ(plan.input_shapes, (std::vector<Shape>{{8, 3}}));
  EXPECT_EQ(plan.output_bytes, 8u * 3 * 4);
  EXPECT_EQ(plan.arena_bytes, 0u);  // Add then Relu in place: both write the output's own buffer
  EXPECT_EQ(FirstShapes(session->memory()), (std::vector<Shape>{{8, 3}}));
  EXPECT_EQ(session->Plan({{8, 4}}, &plan).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(session->Plan({{8}}, &plan).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(session->Plan({}, &plan).code(), StatusCode::kInvalidArgument);
}

TEST(PlanCache, FedShapesThatCannotRunAreTheCallersError) {
  // x [b, k] @ w [4, 3]: only k = 4 works, which the model does not declare.
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {-1, -1})
                                .Floats("w", {4, 3}, RandomFloats(12, 9))
                                .Node("MatMul", {"x", "w"}, {"y"})
                                .Output("y", kOnnxFloat, {-1, 3})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  std::vector<FloatFeed> bad = {{"x", {2, 5}, RandomFloats(10, 1)}};
  std::vector<NamedTensor> out;
  Status status = RunFloats(*session, bad, &out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("[2,5]"), std::string::npos) << status.message();
  EXPECT_TRUE(session->memory().plans.empty());  // a failed plan is not cached
  std::vector<FloatFeed> good = {{"x", {2, 4}, RandomFloats(8, 1)}};
  EXPECT_TRUE(RunFloats(*session, good, &out).ok());
}

TEST(PlanCache, ConcurrentRunsOfManyShapesStayCorrect) {
  SessionOptions options;
  options.max_cached_plans = 3;
  auto session = LoadSession(AddRelu(), options);
  ASSERT_NE(session, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) RunBatch(*session, 1 + (i * 7 + t) % 6);
    });
  for (auto& thread : threads) thread.join();
  EXPECT_LE(session->memory().plans.size(), 3u);
}

// ---- plan-time folding ---------------------------------------------------------------

// test.ShapeOf: Shape's semantics for a test (part of no real op set). Its
// kernel fails if it ever runs: with the input shapes known, every plan
// must fold it away.
OpSchema ShapeOfSchema() {
  OpSchema s;
  s.op_type = "test.ShapeOf";
  s.min_inputs = s.max_inputs = 1;
  s.infer = [](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    const ValueInfo& in = ctx.inputs[0];
    ValueInfo& out = FirstOutput(outputs);
    out.dtype = DType::kInt64;
    out.rank_known = true;
    out.shape = {in.rank_known ? static_cast<int64_t>(in.shape.size()) : kUnknownDim};
    if (in.concrete()) {
      out.value = MakeTensor(DType::kInt64, out.shape);
      std::copy(in.shape.begin(), in.shape.end(), out.value.data<int64_t>());
    }
    return Status::Ok();
  };
  return s;
}
SchemaRegistrar shape_of_schema(ShapeOfSchema());
CpuKernelRegistrar shape_of_kernel(CpuKernel{
    "test.ShapeOf", {}, [](KernelContext&) { return Internal("test.ShapeOf ran at run time"); }, nullptr, nullptr});

TEST(PlanFolding, ShapeSubgraphsVanishOnceShapesAreKnown) {
  // y = Relu(Reshape(z, ShapeOf(x))), x: [batch, 4], z: [n].
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {-1, 4})
                                .Input("z", kOnnxFloat, {-1})
                                .Node("ShapeOf", {"x"}, {"s"}, {}, "test")
                                .Node("Reshape", {"z", "s"}, {"r"})
                                .Node("Relu", {"r"}, {"y"})
                                .Output("y", kOnnxFloat, {-1, 4})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->internals().graph.nodes.size(), 3u);  // the batch is unknown at load
  std::vector<FloatFeed> feeds = {{"x", {2, 4}, std::vector<float>(8, 0)}, {"z", {8}, RandomFloats(8, 4)}};
  std::vector<NamedTensor> out;
  Status status = RunFloats(*session, feeds, &out);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out[0].tensor.shape, (Shape{2, 4}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(FloatsOf(out[0].tensor)[i], std::max(0.0f, feeds[1].values[i]));
  const ExecutionPlan& plan = OnlyPlan(*session);
  ASSERT_EQ(plan.steps.size(), 2u);  // Reshape (a view) and Relu
  for (const PlanStep& step : plan.steps)
    EXPECT_NE(session->internals().graph.nodes[step.node].op_type, "test.ShapeOf");
}

// test.Rogue: an elementwise schema whose kernel ignores the memory the plan
// gave its output and brings its own; the executor must refuse the result.
OpSchema RogueSchema() {
  OpSchema s;
  s.op_type = "test.Rogue";
  s.min_inputs = s.max_inputs = 1;
  s.infer = [](const InferContext& ctx, std::vector<ValueInfo>& outputs) -> Status {
    FirstOutput(outputs) = ctx.inputs[0];
    outputs[0].constant = nullptr;
    return Status::Ok();
  };
  return s;
}
SchemaRegistrar rogue_schema(RogueSchema());
CpuKernelRegistrar rogue_kernel(CpuKernel{"test.Rogue",
                                          {},
                                          [](KernelContext& ctx) {
                                            ctx.output(0) = MakeTensor(ctx.inputs[0]->dtype, ctx.inputs[0]->shape);
                                            return Status::Ok();
                                          },
                                          nullptr,
                                          nullptr});

TEST(Executor, AKernelThatReplacesItsPlannedMemoryIsRefused) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {2, 2})
                                .Node("Rogue", {"x"}, {"r"}, {}, "test")
                                .Node("Relu", {"r"}, {"y"})
                                .Output("y", kOnnxFloat, {2, 2})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  std::vector<FloatFeed> feeds = {{"x", {2, 2}, {1, 2, 3, 4}}};
  std::vector<NamedTensor> out;
  for (int attempt = 0; attempt < 2; ++attempt) {  // the frame stays usable
    Status status = RunFloats(*session, feeds, &out);
    EXPECT_EQ(status.code(), StatusCode::kInternal);
    EXPECT_NE(status.message().find("test.Rogue"), std::string::npos) << status.message();
  }
}

// ---- steady state ----------------------------------------------------------------------

TEST(SteadyState, ARunAllocatesOnlyTheOutputsItHandsOver) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {4, 64})
                                .Floats("w", {64, 32}, RandomFloats(64 * 32, 5))
                                .Node("MatMul", {"x", "w"}, {"m"})
                                .Node("Sigmoid", {"m"}, {"s"})
                                .Node("Transpose", {"s"}, {"t"})
                                .Node("Tanh", {"t"}, {"h"})
                                .Node("Transpose", {"h"}, {"u"})
                                .Node("Softmax", {"u"}, {"y1"})
                                .Node("Relu", {"u"}, {"y2"})
                                .Output("y1", kOnnxFloat, {4, 32})
                                .Output("y2", kOnnxFloat, {4, 32})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  std::vector<FloatFeed> feeds = {{"x", {4, 64}, RandomFloats(256, 6)}};
  std::vector<NamedTensor> out;
  for (int warm = 0; warm < 2; ++warm) ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  const std::vector<float> first = FloatsOf(out[0].tensor);
  const uint64_t before = GetHostMemoryStats().allocations;
  const int runs = 10;
  for (int i = 0; i < runs; ++i) ASSERT_TRUE(RunFloats(*session, feeds, &out).ok());
  EXPECT_EQ(GetHostMemoryStats().allocations - before, static_cast<uint64_t>(runs) * 2);  // y1 and y2 only
  EXPECT_EQ(FloatsOf(out[0].tensor), first);  // the arena's reuse changes nothing
}

}  // namespace
}  // namespace maas
