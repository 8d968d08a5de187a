// The convolution family in C++: the shared geometry (auto_pad splits,
// ceil_mode, ConvTranspose's output_shape), each Conv route (depthwise,
// pointwise, lowered; one thread, GEMM-parallel, image-parallel) against a
// naive reference, load-time shape errors, Conv + BatchNormalization
// folding and Conv + activation fusion against the unfused graph. The
// comparison with onnxruntime for every attribute variant is
// test/engine-ort-conv.test.ts.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/session_impl.h"
#include "op_test_util.h"
#include "ops/conv_geometry.h"
#include "test_session.h"

namespace maas {
namespace {

Attributes ConvAttrs(std::vector<int64_t> pads, std::vector<int64_t> strides, std::vector<int64_t> dilations,
                     int64_t group, const std::string& auto_pad = "NOTSET") {
  Attributes a;
  if (!pads.empty()) a.values["pads"] = IntsAttr(std::move(pads));
  if (!strides.empty()) a.values["strides"] = IntsAttr(std::move(strides));
  if (!dilations.empty()) a.values["dilations"] = IntsAttr(std::move(dilations));
  a.values["group"] = IntAttr(group);
  a.SetString("auto_pad", auto_pad);
  return a;
}

ConvGeometry Geometry(ConvFamily family, const Attributes& attrs, std::vector<int64_t> in, std::vector<int64_t> kernel,
                      Status* status = nullptr) {
  ConvParams params;
  EXPECT_TRUE(ParseConvParams("op", &attrs, family, static_cast<int>(in.size()), &params).ok());
  ConvGeometry g{};
  Status s = ResolveConvGeometry("op", params, in.data(), kernel.data(), StatusCode::kInvalidModel, &g);
  if (status)
    *status = s;
  else
    EXPECT_TRUE(s.ok()) << s.message();
  return g;
}

TEST(ConvGeometry, SamePaddingPutsTheOddUnitWhereTheModeSays) {
  // 6 wide, kernel 2, stride 1: one unit of padding in total.
  ConvGeometry upper = Geometry(ConvFamily::kConv, ConvAttrs({}, {}, {}, 1, "SAME_UPPER"), {6}, {2});
  EXPECT_EQ(upper.out[2], 6);
  EXPECT_EQ(upper.pad_begin[2], 0);
  EXPECT_EQ(upper.pad_end[2], 1);
  ConvGeometry lower = Geometry(ConvFamily::kConv, ConvAttrs({}, {}, {}, 1, "SAME_LOWER"), {6}, {2});
  EXPECT_EQ(lower.pad_begin[2], 1);
  EXPECT_EQ(lower.pad_end[2], 0);
  // 7 high, kernel 3, stride 2: out = ceil(7/2) = 4, padding (4-1)*2+3-7 = 2.
  ConvGeometry strided = Geometry(ConvFamily::kConv, ConvAttrs({}, {2, 2}, {}, 1, "SAME_UPPER"), {7, 8}, {3, 3});
  EXPECT_EQ(strided.out[1], 4);
  EXPECT_EQ(strided.out[2], 4);
  EXPECT_EQ(strided.pad_begin[1] + strided.pad_end[1], 2);
  // The leading unit dims of a 2-D op.
  EXPECT_EQ(strided.in[0], 1);
  EXPECT_EQ(strided.kernel[0], 1);
  EXPECT_EQ(strided.out[0], 1);
}

TEST(ConvGeometry, ExplicitPadsStridesDilationsAndValid) {
  ConvGeometry g = Geometry(ConvFamily::kConv, ConvAttrs({0, 1, 2, 1}, {1, 3}, {2, 1}, 1), {9, 10}, {3, 3});
  EXPECT_EQ(g.out[1], (9 + 0 + 2 - 5) / 1 + 1);
  EXPECT_EQ(g.out[2], (10 + 1 + 1 - 3) / 3 + 1);
  ConvGeometry valid = Geometry(ConvFamily::kConv, ConvAttrs({5, 5, 5, 5}, {2, 2}, {}, 1, "VALID"), {8, 7}, {3, 3});
  EXPECT_EQ(valid.out[1], 3);
  EXPECT_EQ(valid.out[2], 3);
  EXPECT_EQ(valid.pad_begin[1], 0);
  EXPECT_TRUE(Geometry(ConvFamily::kConv, ConvAttrs({}, {}, {}, 1), {1, 1}, {1, 1}).IsPointwise());
  EXPECT_FALSE(Geometry(ConvFamily::kConv, ConvAttrs({}, {2, 2}, {}, 1), {4, 4}, {1, 1}).IsPointwise());
  Status status;
  Geometry(ConvFamily::kConv, ConvAttrs({}, {}, {}, 1), {2, 2}, {3, 3}, &status);
  EXPECT_EQ(status.code(), StatusCode::kInvalidModel);  // the kernel is larger than the input
}

TEST(ConvGeometry, PoolCeilModeDropsAWindowStartingInThePadding) {
  Attributes attrs = ConvAttrs({1, 1}, {2}, {}, 1);
  attrs.values["kernel_shape"] = IntsAttr({2});
  attrs.values["ceil_mode"] = IntAttr(1);
  // (5 + 2 - 2) / 2 = 2.5 → 4 windows, but the 4th would start at 6 - 1 = 5: dropped.
  EXPECT_EQ(Geometry(ConvFamily::kPool, attrs, {5}, {2}).out[2], 3);
  attrs.values["pads"] = IntsAttr({0, 0});
  EXPECT_EQ(Geometry(ConvFamily::kPool, attrs, {5}, {2}).out[2], 3);  // (5-2)/2 = 1.5 → 3
  attrs.values["ceil_mode"] = IntAttr(0);
  EXPECT_EQ(Geometry(ConvFamily::kPool, attrs, {5}, {2}).out[2], 2);
}

TEST(ConvGeometry, TransposeOutputShapeSetsThePads) {
  // 3 wide, kernel 3, stride 2: the full extent is 2 * (3 - 1) + 3 = 7.
  Attributes attrs = ConvAttrs({}, {2, 2}, {}, 1);
  EXPECT_EQ(Geometry(ConvFamily::kConvTranspose, attrs, {3, 3}, {3, 3}).out[2], 7);
  attrs.values["output_shape"] = IntsAttr({6, 6});
  ConvGeometry g = Geometry(ConvFamily::kConvTranspose, attrs, {3, 3}, {3, 3});
  EXPECT_EQ(g.out[1], 6);
  EXPECT_EQ(g.pad_begin[1], 1);  // one unit of padding: at the start, as onnxruntime does
  EXPECT_EQ(g.pad_end[1], 0);
  attrs.SetString("auto_pad", "SAME_UPPER");
  g = Geometry(ConvFamily::kConvTranspose, attrs, {3, 3}, {3, 3});
  EXPECT_EQ(g.pad_begin[1], 0);  // SAME_UPPER: at the end
  EXPECT_EQ(g.pad_end[1], 1);
  attrs.values["output_shape"] = IntsAttr({8, 8});
  Status status;
  Geometry(ConvFamily::kConvTranspose, attrs, {3, 3}, {3, 3}, &status);
  EXPECT_EQ(status.code(), StatusCode::kInvalidModel);  // larger than the full extent
}

TEST(ConvGeometry, ParseRejectsBadAttributes) {
  ConvParams params;
  Attributes short_pads = ConvAttrs({1, 1}, {}, {}, 1);
  EXPECT_EQ(ParseConvParams("Conv", &short_pads, ConvFamily::kConv, 2, &params).code(), StatusCode::kInvalidModel);
  Attributes zero_stride = ConvAttrs({}, {0, 1}, {}, 1);
  EXPECT_EQ(ParseConvParams("Conv", &zero_stride, ConvFamily::kConv, 2, &params).code(), StatusCode::kInvalidModel);
  Attributes bad_mode = ConvAttrs({}, {}, {}, 1, "SAME");
  EXPECT_EQ(ParseConvParams("Conv", &bad_mode, ConvFamily::kConv, 2, &params).code(), StatusCode::kInvalidModel);
  Attributes fine = ConvAttrs({}, {}, {}, 1);
  EXPECT_EQ(ParseConvParams("Conv", &fine, ConvFamily::kConv, 4, &params).code(), StatusCode::kUnsupported);
  EXPECT_EQ(ParseConvParams("MaxPool", &fine, ConvFamily::kPool, 2, &params).code(), StatusCode::kInvalidModel);
}

// ---- Conv routes against a naive convolution ------------------------------------------------

struct ConvCase {
  Shape x, w;
  std::vector<int64_t> pads, strides, dilations;
  int64_t group = 1;
  bool bias = true;
};

// Direct 2-D convolution in double.
std::vector<float> NaiveConv2D(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b, const Shape& out) {
  const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3], M = c.w[0], KH = c.w[2], KW = c.w[3];
  const int64_t OH = out[2], OW = out[3], cg = C / c.group, mg = M / c.group;
  const int64_t sh = c.strides.empty() ? 1 : c.strides[0], sw = c.strides.empty() ? 1 : c.strides[1];
  const int64_t dh = c.dilations.empty() ? 1 : c.dilations[0], dw = c.dilations.empty() ? 1 : c.dilations[1];
  const int64_t ph = c.pads.empty() ? 0 : c.pads[0], pw = c.pads.empty() ? 0 : c.pads[1];
  std::vector<float> y(N * M * OH * OW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = c.bias ? b[m] : 0.0;
          const int64_t grp = m / mg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * sh - ph + kh * dh, iw = ow * sw - pw + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += static_cast<double>(x[((n * C + grp * cg + ci) * H + ih) * W + iw]) *
                       w[((m * cg + ci) * KH + kh) * KW + kw];
              }
          y[((n * M + m) * OH + oh) * OW + ow] = static_cast<float>(sum);
        }
  return y;
}

void CheckConv(const ConvCase& c, ThreadPool* pool) {
  std::mt19937 rng(static_cast<uint32_t>(c.x[0] * 131 + c.w[0] * 7 + c.group));
  std::uniform_real_distribution<float> dist(-1, 1);
  auto random = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = dist(rng);
    return v;
  };
  std::vector<float> xv = random(NumElements(c.x)), wv = random(NumElements(c.w)), bv = random(c.w[0]);
  Tensor x = F32(c.x, xv), w = F32(c.w, wv), b = F32({c.w[0]}, bv);
  Attributes attrs = ConvAttrs(c.pads, c.strides, c.dilations, c.group);
  std::vector<const Tensor*> inputs = {&x, &w};
  if (c.bias) inputs.push_back(&b);
  // Once as folding would run it (no prepared state), once with the packed weights.
  const std::string op = "Conv";
  NodeDesc node;
  node.op_type = &op;
  node.attrs = &attrs;
  node.inputs = {Info(DType::kFloat32, c.x), Info(DType::kFloat32, c.w, &w)};
  std::shared_ptr<const void> prepared;
  size_t state_bytes = 0;
  ASSERT_TRUE(FindCpuKernel("Conv")->prepare(node, &prepared, &state_bytes).ok());
  for (const void* state : {static_cast<const void*>(nullptr), prepared.get()}) {
    Result r = RunOp("Conv", inputs, attrs, 13, pool, state);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    const std::vector<float> want = NaiveConv2D(c, xv, wv, bv, r.out().shape);
    ExpectNear(Values<float>(r.out()), want, 1e-4f);
  }
}

TEST(ConvKernel, EveryRouteMatchesANaiveConvolution) {
  ThreadPool pool(2);
  const ConvCase cases[] = {
      {{1, 3, 9, 9}, {4, 3, 3, 3}, {1, 1, 1, 1}, {}, {}, 1, true},        // lowered, GEMM-parallel
      {{4, 6, 7, 8}, {5, 6, 3, 3}, {0, 1, 2, 1}, {2, 1}, {}, 1, true},    // lowered, image-parallel
      {{3, 8, 6, 6}, {12, 8, 1, 1}, {}, {}, {}, 1, true},                 // pointwise
      {{2, 8, 9, 9}, {8, 1, 3, 3}, {1, 1, 1, 1}, {2, 2}, {}, 8, true},    // depthwise, stride 2
      {{1, 4, 8, 8}, {8, 1, 3, 3}, {2, 2, 2, 2}, {}, {2, 2}, 4, false},   // depthwise multiplier 2, dilated
      {{2, 6, 7, 7}, {9, 2, 3, 3}, {1, 1, 1, 1}, {}, {}, 3, true},        // groups
      {{1, 32, 10, 10}, {100, 32, 3, 3}, {1, 1, 1, 1}, {}, {}, 1, true},  // K, M over one block
      // Implicit Im2Col: rows wider than any strip, read in place (dilated
      // width too); a strided width, packed in runs; both past one depth slice.
      {{1, 3, 5, 70}, {4, 3, 3, 3}, {1, 1, 1, 1}, {}, {1, 2}, 1, true},
      {{2, 5, 6, 67}, {6, 5, 3, 3}, {0, 2, 1, 0}, {1, 2}, {}, 1, true},
      {{1, 40, 4, 37}, {8, 40, 3, 3}, {1, 1, 1, 1}, {}, {}, 1, false},
  };
  for (const ConvCase& c : cases)
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) CheckConv(c, p);
}

TEST(ConvKernel, InferenceRejectsMismatchedChannels) {
  Attributes attrs = ConvAttrs({}, {}, {}, 2);
  EXPECT_EQ(
      InferOp("Conv", {Info(DType::kFloat32, {1, 4, 5, 5}), Info(DType::kFloat32, {6, 3, 3, 3})}, attrs).status.code(),
      StatusCode::kInvalidModel);  // 4 channels, W expects 3 * 2
  EXPECT_EQ(
      InferOp("Conv", {Info(DType::kFloat32, {1, 4, 5, 5}), Info(DType::kFloat32, {5, 2, 3, 3})}, attrs).status.code(),
      StatusCode::kInvalidModel);  // M = 5 is not a multiple of group 2
  Inferred ok = InferOp("Conv", {Info(DType::kFloat32, {-1, 4, 5, 5}), Info(DType::kFloat32, {6, 2, 3, 3})}, attrs);
  ASSERT_TRUE(ok.status.ok()) << ok.status.message();
  EXPECT_EQ(ok.out().shape, (Shape{-1, 6, 3, 3}));
  EXPECT_EQ(
      InferOp("Conv", {Info(DType::kInt32, {1, 4, 5, 5}), Info(DType::kInt32, {6, 2, 3, 3})}, attrs).status.code(),
      StatusCode::kUnsupported);
}

// ---- load-time rewrites ---------------------------------------------------------------------

std::vector<std::string> OpTypes(const Session& session) {
  std::vector<std::string> ops;
  for (const Node& node : session.internals().graph.nodes) ops.push_back(node.op_type);
  return ops;
}

std::string ConvBnReluModel(bool conv_bias) {
  ModelBuilder b;
  b.Input("x", kOnnxFloat, {-1, 4, 8, 8})
      .Floats("w", {6, 4, 3, 3}, RandomFloats(6 * 4 * 9, 31))
      .Floats("scale", {6}, RandomFloats(6, 32, 0.5f, 1.5f))
      .Floats("shift", {6}, RandomFloats(6, 33))
      .Floats("mean", {6}, RandomFloats(6, 34))
      .Floats("var", {6}, RandomFloats(6, 35, 0.2f, 2.0f));
  std::vector<std::string> conv_inputs = {"x", "w"};
  if (conv_bias) {
    b.Floats("b", {6}, RandomFloats(6, 36));
    conv_inputs.emplace_back("b");
  }
  return b.Node("Conv", conv_inputs, {"c"}, {IntsAttribute("pads", {1, 1, 1, 1})})
      .Node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"n"}, {FloatAttribute("epsilon", 1e-3f)})
      .Node("Relu", {"n"}, {"y"})
      .Output("y", kOnnxFloat, {-1, 6, 8, 8})
      .Bytes();
}

TEST(ConvFusion, BatchNormFoldsIntoTheConvAndReluIntoItsEpilogue) {
  for (bool conv_bias : {true, false}) {
    SessionOptions unfused_options;
    unfused_options.enable_fusions = false;
    auto fused = LoadSession(ConvBnReluModel(conv_bias));
    auto unfused = LoadSession(ConvBnReluModel(conv_bias), unfused_options);
    ASSERT_TRUE(fused && unfused);
    EXPECT_EQ(OpTypes(*fused), std::vector<std::string>{kFusedConvOp});
    EXPECT_EQ(OpTypes(*unfused), (std::vector<std::string>{"Conv", "BatchNormalization", "Relu"}));
    EXPECT_EQ(fused->internals().graph.nodes[0].attrs.GetString("activation", ""), "Relu");
    EXPECT_EQ(fused->internals().graph.nodes[0].inputs.size(), 3u);  // the folded bias
    for (int64_t batch : {1, 3}) {
      std::vector<FloatFeed> feeds = {{"x", {batch, 4, 8, 8}, RandomFloats(batch * 256, 37, -2, 2)}};
      std::vector<NamedTensor> a, b;
      ASSERT_TRUE(RunFloats(*fused, feeds, &a).ok());
      ASSERT_TRUE(RunFloats(*unfused, feeds, &b).ok());
      ExpectNear(FloatsOf(a[0].tensor), FloatsOf(b[0].tensor), 1e-5f);
    }
  }
}

TEST(ConvFusion, BatchNormWithVariableParametersStays) {
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {1, 2, 4, 4})
                                .Input("scale", kOnnxFloat, {2})
                                .Floats("w", {2, 2, 1, 1}, RandomFloats(4, 41))
                                .Floats("shift", {2}, RandomFloats(2, 42))
                                .Floats("mean", {2}, RandomFloats(2, 43))
                                .Floats("var", {2}, RandomFloats(2, 44, 0.5f, 1.0f))
                                .Node("Conv", {"x", "w"}, {"c"})
                                .Node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"y"})
                                .Output("y", kOnnxFloat, {1, 2, 4, 4})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(OpTypes(*session), (std::vector<std::string>{"Conv", "BatchNormalization"}));
}

}  // namespace
}  // namespace maas
