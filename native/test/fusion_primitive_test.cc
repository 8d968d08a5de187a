// LayerNorm and GELU written as primitive ops (the way exporters write them)
// are recognized at load and replaced by one LayerNormalization / Gelu node
// that computes what the primitive graph computes; look-alikes with other
// axes or constants are left alone.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/session_impl.h"
#include "test_session.h"

namespace maas {
namespace {

constexpr int64_t kHidden = 16;

std::vector<std::string> OpTypes(const Session& session) {
  std::vector<std::string> ops;
  for (const Node& node : session.internals().graph.nodes) ops.push_back(node.op_type);
  return ops;
}

// x [b, 3, 16] → LayerNorm over `axes` (opset 13: axes as attribute), the
// square as Pow(d, 2) or Mul(d, d), gamma/beta operands in the order given.
std::string LayerNormModel(const std::vector<int64_t>& axes, bool square_as_mul, float two = 2.0f) {
  ModelBuilder m;
  m.Input("x", kOnnxFloat, {-1, 3, kHidden})
      .Floats("two", {}, {two})
      .Floats("eps", {}, {1e-5f})
      .Floats("gamma", {kHidden}, RandomFloats(kHidden, 31, 0.5f, 1.5f))
      .Floats("beta", {kHidden}, RandomFloats(kHidden, 32))
      .Node("ReduceMean", {"x"}, {"mean"}, {IntsAttribute("axes", axes)})
      .Node("Sub", {"x", "mean"}, {"d"});
  if (square_as_mul) {
    m.Node("Mul", {"d", "d"}, {"square"});
  } else {
    m.Node("Pow", {"d", "two"}, {"square"});
  }
  return m.Node("ReduceMean", {"square"}, {"variance"}, {IntsAttribute("axes", axes)})
      .Node("Add", {"eps", "variance"}, {"shifted"})
      .Node("Sqrt", {"shifted"}, {"deviation"})
      .Node("Div", {"d", "deviation"}, {"normalized"})
      .Node("Mul", {"gamma", "normalized"}, {"scaled"})
      .Node("Add", {"scaled", "beta"}, {"y"})
      .Output("y", kOnnxFloat, {-1, 3, kHidden})
      .Bytes();
}

// x [b, 16] → GELU, erf form (x / √2 as a Div) or tanh form, 0.5 applied
// first; `half` lets a look-alike use another constant.
std::string GeluModel(bool tanh_form, float half = 0.5f) {
  ModelBuilder m;
  m.Input("x", kOnnxFloat, {-1, kHidden}).Floats("half", {}, {half}).Floats("one", {}, {1.0f});
  if (tanh_form) {
    m.Floats("three", {}, {3.0f})
        .Floats("c", {}, {0.044715f})
        .Floats("k", {}, {0.7978845608f})
        .Node("Pow", {"x", "three"}, {"cube"})
        .Node("Mul", {"c", "cube"}, {"cubic"})
        .Node("Add", {"x", "cubic"}, {"inner"})
        .Node("Mul", {"inner", "k"}, {"arg"})
        .Node("Tanh", {"arg"}, {"core"});
  } else {
    m.Floats("sqrt2", {}, {1.41421356f}).Node("Div", {"x", "sqrt2"}, {"arg"}).Node("Erf", {"arg"}, {"core"});
  }
  return m.Node("Add", {"one", "core"}, {"one_plus"})
      .Node("Mul", {"x", "half"}, {"half_x"})
      .Node("Mul", {"one_plus", "half_x"}, {"y"})
      .Output("y", kOnnxFloat, {-1, kHidden})
      .Bytes();
}

// Runs both sessions on the same seeded x and expects agreement to `tolerance`.
void ExpectSameOutputs(const Session& fused, const Session& unfused, const Shape& shape, float tolerance) {
  std::vector<FloatFeed> feeds = {{"x", shape, RandomFloats(static_cast<size_t>(NumElements(shape)), 33, -4, 4)}};
  std::vector<NamedTensor> a, b;
  ASSERT_TRUE(RunFloats(fused, feeds, &a).ok());
  ASSERT_TRUE(RunFloats(unfused, feeds, &b).ok());
  const std::vector<float> fa = FloatsOf(a[0].tensor), fb = FloatsOf(b[0].tensor);
  ASSERT_EQ(fa.size(), fb.size());
  for (size_t i = 0; i < fa.size(); ++i) EXPECT_NEAR(fa[i], fb[i], tolerance) << i;
}

SessionOptions Unfused() {
  SessionOptions options;
  options.enable_fusions = false;
  return options;
}

TEST(PrimitiveFusion, LayerNormBecomesOneNode) {
  for (bool square_as_mul : {false, true}) {
    const std::string bytes = LayerNormModel({-1}, square_as_mul);
    auto fused = LoadSession(bytes);
    auto unfused = LoadSession(bytes, Unfused());
    ASSERT_TRUE(fused && unfused);
    ASSERT_EQ(OpTypes(*fused), std::vector<std::string>{"LayerNormalization"}) << square_as_mul;
    const Node& node = fused->internals().graph.nodes[0];
    EXPECT_EQ(node.attrs.GetInt("axis", 0), 2);
    EXPECT_FLOAT_EQ(node.attrs.GetFloat("epsilon", 0), 1e-5f);
    EXPECT_GT(OpTypes(*unfused).size(), 8u);
    ExpectSameOutputs(*fused, *unfused, {5, 3, kHidden}, 1e-5f);
  }
}

TEST(PrimitiveFusion, LayerNormLookAlikesStay) {
  // Mean over a leading axis; a square written as Pow(d, 3).
  for (const std::string& bytes : {LayerNormModel({1}, false), LayerNormModel({-1}, false, 3.0f)}) {
    auto session = LoadSession(bytes);
    ASSERT_NE(session, nullptr);
    const std::vector<std::string> ops = OpTypes(*session);
    EXPECT_EQ(std::count(ops.begin(), ops.end(), "LayerNormalization"), 0);
    EXPECT_EQ(std::count(ops.begin(), ops.end(), "ReduceMean"), 2);
  }
}

TEST(PrimitiveFusion, GeluBothFormsBecomeOneNode) {
  for (bool tanh_form : {false, true}) {
    const std::string bytes = GeluModel(tanh_form);
    auto fused = LoadSession(bytes);
    auto unfused = LoadSession(bytes, Unfused());
    ASSERT_TRUE(fused && unfused);
    ASSERT_EQ(OpTypes(*fused), std::vector<std::string>{"Gelu"}) << tanh_form;
    EXPECT_EQ(fused->internals().graph.nodes[0].attrs.GetString("approximate", "none"), tanh_form ? "tanh" : "none");
    ExpectSameOutputs(*fused, *unfused, {7, kHidden}, 1e-5f);
  }
}

TEST(PrimitiveFusion, GeluWithAnotherConstantStays) {
  auto session = LoadSession(GeluModel(false, 0.6f));
  ASSERT_NE(session, nullptr);
  const std::vector<std::string> ops = OpTypes(*session);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "Gelu"), 0);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "Erf"), 1);
}

}  // namespace
}  // namespace maas
