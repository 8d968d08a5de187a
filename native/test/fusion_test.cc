// The graph optimization passes: fused MatMul/Gemm + bias + activation nodes
// compute what the unfused graph computes, matches that would change
// anything else are left alone, and the pattern matcher's rules.
#include <gtest/gtest.h>

#include "engine/session_impl.h"
#include "graph/pattern.h"
#include "ops/gemm_shapes.h"
#include "test_session.h"

namespace maas {
namespace {

std::vector<std::string> OpTypes(const Session& session) {
  std::vector<std::string> ops;
  for (const Node& node : session.internals().graph.nodes) ops.push_back(node.op_type);
  return ops;
}

std::string ProductChain() {
  // x [b,32] → MatMul W1 → + b1 → Relu → MatMul W2 → b2 + (bias first) → Sigmoid
  //          → Gemm(W3ᵀ, c3, alpha, beta) → Tanh → y [b,7]
  return ModelBuilder()
      .Input("x", kOnnxFloat, {-1, 32})
      .Floats("w1", {32, 48}, RandomFloats(32 * 48, 11))
      .Floats("b1", {48}, RandomFloats(48, 12))
      .Floats("w2", {48, 20}, RandomFloats(48 * 20, 13))
      .Floats("b2", {20}, RandomFloats(20, 14))
      .Floats("w3", {7, 20}, RandomFloats(7 * 20, 15))
      .Floats("c3", {7}, RandomFloats(7, 16))
      .Node("MatMul", {"x", "w1"}, {"m1"})
      .Node("Add", {"m1", "b1"}, {"a1"})
      .Node("Relu", {"a1"}, {"r1"})
      .Node("MatMul", {"r1", "w2"}, {"m2"})
      .Node("Add", {"b2", "m2"}, {"a2"})
      .Node("Sigmoid", {"a2"}, {"s2"})
      .Node("Gemm", {"s2", "w3", "c3"}, {"g3"},
            {IntAttribute("transB", 1), FloatAttribute("alpha", 0.75f), FloatAttribute("beta", 1.5f)})
      .Node("Tanh", {"g3"}, {"y"})
      .Output("y", kOnnxFloat, {-1, 7})
      .Bytes();
}

TEST(Fusion, ProductBiasActivationMatchesTheUnfusedGraph) {
  SessionOptions unfused_options;
  unfused_options.enable_fusions = false;
  auto fused = LoadSession(ProductChain());
  auto unfused = LoadSession(ProductChain(), unfused_options);
  ASSERT_TRUE(fused && unfused);
  EXPECT_EQ(OpTypes(*fused), (std::vector<std::string>{kFusedMatMulOp, kFusedMatMulOp, kFusedGemmOp}));
  EXPECT_EQ(OpTypes(*unfused).size(), 8u);
  const Node& first = fused->internals().graph.nodes[0];
  EXPECT_EQ(first.attrs.GetString("activation", ""), "Relu");
  EXPECT_EQ(first.inputs.size(), 3u);  // A, B and the bias
  // Batches that take the GEMM's small-M path (3) and its blocked path (37).
  for (int64_t batch : {3, 37}) {
    std::vector<FloatFeed> feeds = {{"x", {batch, 32}, RandomFloats(batch * 32, 17, -2, 2)}};
    std::vector<NamedTensor> a, b;
    ASSERT_TRUE(RunFloats(*fused, feeds, &a).ok());
    ASSERT_TRUE(RunFloats(*unfused, feeds, &b).ok());
    std::vector<float> fa = FloatsOf(a[0].tensor), fb = FloatsOf(b[0].tensor);
    ASSERT_EQ(fa.size(), static_cast<size_t>(batch * 7));
    // The epilogue does the same float operations in the same order.
    for (size_t i = 0; i < fa.size(); ++i) EXPECT_EQ(fa[i], fb[i]) << "batch " << batch << " at " << i;
  }
}

TEST(Fusion, AnIntermediateReadElsewhereIsNotFused) {
  // m is also a graph output: MatMul and Add must both stay.
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {2, 4})
                                .Floats("w", {4, 3}, RandomFloats(12, 21))
                                .Floats("b", {3}, RandomFloats(3, 22))
                                .Node("MatMul", {"x", "w"}, {"m"})
                                .Node("Add", {"m", "b"}, {"a"})
                                .Node("Relu", {"a"}, {"y"})
                                .Output("y", kOnnxFloat, {2, 3})
                                .Output("m", kOnnxFloat, {2, 3})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(OpTypes(*session), (std::vector<std::string>{"MatMul", "Add", "Relu"}));
  // A bias that broadcasts over rows but is not 1-D [N] is left alone too.
  const std::string column_bias = ModelBuilder()
                                      .Input("x", kOnnxFloat, {2, 4})
                                      .Floats("w", {4, 3}, RandomFloats(12, 23))
                                      .Floats("b", {2, 1}, RandomFloats(2, 24))
                                      .Node("MatMul", {"x", "w"}, {"m"})
                                      .Node("Add", {"m", "b"}, {"y"})
                                      .Output("y", kOnnxFloat, {2, 3})
                                      .Bytes();
  auto other = LoadSession(column_bias);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(OpTypes(*other), (std::vector<std::string>{"MatMul", "Add"}));
}

// ---- the pattern matcher on a hand-made graph -------------------------------------------

struct TinyGraph {
  Graph graph;
  int Value(const std::string& name, bool constant = false) {
    maas::Value v;
    v.name = name;
    v.is_constant = constant;
    v.info.dtype = DType::kFloat32;
    v.info.shape = {4};
    if (constant) v.constant = MakeTensor(DType::kFloat32, {4});
    graph.values.push_back(v);
    return static_cast<int>(graph.values.size()) - 1;
  }
  int Node(const std::string& op, std::vector<int> inputs) {
    maas::Node node;
    node.name = op + std::to_string(graph.nodes.size());
    node.op_type = op;
    node.inputs = std::move(inputs);
    const int out = Value(node.name + "_out");
    node.outputs = {out};
    graph.values[out].producer = static_cast<int>(graph.nodes.size());
    graph.nodes.push_back(node);
    return out;
  }
};

TEST(Pattern, CapturesCommutativeInputsAndRepeatedNames) {
  TinyGraph g;
  const int x = g.Value("x"), c = g.Value("c", true);
  const int mul = g.Node("Mul", {x, c});
  const int add = g.Node("Add", {x, mul});  // Add(x, Mul(x, c)): x twice
  g.graph.output_ids = {add};
  const GraphIndex index(g.graph);
  Pattern p =
      Pattern::Op({"Add"}, {Pattern::Op({"Mul"}, {Pattern::Any("x"), Pattern::Constant("c")}, "m"), Pattern::Any("x")})
          .Commutative();
  Match match;
  ASSERT_TRUE(MatchAt(g.graph, index, add, p, &match));
  EXPECT_EQ(match.value("x"), x);
  EXPECT_EQ(match.value("c"), c);
  EXPECT_EQ(match.node("m"), 0);
  EXPECT_EQ(match.root_node, 1);
  EXPECT_EQ(match.matched_nodes.size(), 2u);
  // Without Commutative the operands are in the wrong order.
  Pattern strict = p;
  strict.commutative = false;
  EXPECT_FALSE(MatchAt(g.graph, index, add, strict, &match));
  // "x" must be the same value in both places.
  TinyGraph h;
  const int x1 = h.Value("x1"), x2 = h.Value("x2"), c2 = h.Value("c", true);
  const int mul2 = h.Node("Mul", {x1, c2});
  const int add2 = h.Node("Add", {mul2, x2});
  h.graph.output_ids = {add2};
  EXPECT_FALSE(MatchAt(h.graph, GraphIndex(h.graph), add2, p, &match));
}

TEST(Pattern, InteriorValuesMustStayInsideTheMatch) {
  TinyGraph g;
  const int x = g.Value("x"), c = g.Value("c", true);
  const int mul = g.Node("Mul", {x, c});
  const int add = g.Node("Add", {mul, c});
  const int other = g.Node("Relu", {mul});  // reads the interior value
  g.graph.output_ids = {add, other};
  Pattern p = Pattern::Op({"Add"}, {Pattern::Op({"Mul"}), Pattern::Any()});
  Match match;
  EXPECT_FALSE(MatchAt(g.graph, GraphIndex(g.graph), add, p, &match));
  g.graph.output_ids = {add};
  g.graph.nodes.pop_back();
  EXPECT_TRUE(MatchAt(g.graph, GraphIndex(g.graph), add, p, &match));
  g.graph.output_ids = {add, mul};  // a graph output is read outside too
  EXPECT_FALSE(MatchAt(g.graph, GraphIndex(g.graph), add, p, &match));
}

}  // namespace
}  // namespace maas
