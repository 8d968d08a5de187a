// The CUDA kernels (native/cuda/kernels/) against the CPU kernels on small
// cases, each run straight through the kernel contract (cuda/cuda_kernel.h)
// outside any session: inputs copied to the device, outputs laid out from
// the CPU result's shapes, the stream synchronized, outputs copied back.
// Compiled only in CUDA builds; the device tests skip with "no CUDA device"
// where there is none, the registry tests run everywhere the build is.
#if MAAS_WITH_CUDA
#include <cuda_runtime.h>

#include <algorithm>
#include <memory>
#include <random>

#include "cuda/cuda_kernel.h"
#include "cuda/libs/cuda_libraries.h"
#include "op_test_util.h"

namespace maas {
namespace {

using cuda::CudaKernel;
using cuda::CudaLibraries;
using cuda::Precision;

// ---- registry (no device needed) ---------------------------------------------------------

TEST(CudaKernelRegistry, CoversTheDemoModelsOps) {
  // The ops the demo models (models/) use after the engine's fusions.
  for (const char* op : {"Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Pow",
                         "Sqrt",
                         "Erf",
                         "Relu",
                         "Softmax",
                         "ReduceMean",
                         "LayerNormalization",
                         "Gelu",
                         "MatMul",
                         "Gemm",
                         "maas.FusedMatMul",
                         "maas.FusedGemm",
                         "Conv",
                         "maas.FusedConv",
                         "BatchNormalization",
                         "MaxPool",
                         "GlobalAveragePool",
                         "Flatten",
                         "Gather",
                         "Unsqueeze",
                         "Transpose",
                         "Slice",
                         "Shape",
                         "Reshape",
                         "Identity",
                         "Expand",
                         "Concat",
                         "Cast"})
    EXPECT_NE(cuda::FindCudaKernel(op), nullptr) << op;
  const std::vector<std::string> ops = cuda::CudaKernelOpTypes();
  EXPECT_NE(std::find(ops.begin(), ops.end(), "MatMul"), ops.end());
}

TEST(CudaKernelRegistry, ChecksDtypesAndAttributes) {
  const std::string matmul = "MatMul", cast = "Cast", unknown = "Det";
  Attributes none;
  NodeDesc node;
  node.op_type = &matmul;
  node.attrs = &none;
  node.inputs = {Info(DType::kFloat16, {2, 2}), Info(DType::kFloat16, {2, 2})};
  EXPECT_EQ(cuda::CheckCudaNode(node), "");
  node.inputs = {Info(DType::kFloat64, {2, 2}), Info(DType::kFloat64, {2, 2})};
  EXPECT_EQ(cuda::CheckCudaNode(node), "float64");
  node.op_type = &unknown;
  EXPECT_EQ(cuda::CheckCudaNode(node), "no kernel");
  Attributes to_string;
  to_string.values["to"] = IntAttr(static_cast<int64_t>(DType::kString));
  node.op_type = &cast;
  node.attrs = &to_string;
  node.inputs = {Info(DType::kFloat32, {2})};
  EXPECT_EQ(cuda::CheckCudaNode(node), "string");
}

TEST(CudaLibrariesTest, MissingLibrariesLeaveNullTablesWithAReason) {
  std::string why;
  if (!cuda::LoadCublasLt(&why)) {
    EXPECT_FALSE(why.empty());
  }
  if (!cuda::LoadCudnn(&why)) {
    EXPECT_FALSE(why.empty());
  }
  const auto none = CudaLibraries::None();
  EXPECT_EQ(none->cublaslt, nullptr);
  EXPECT_EQ(none->cudnn, nullptr);
}

// ---- device harness ----------------------------------------------------------------------

class DeviceBuffer : public Buffer {
 public:
  static std::shared_ptr<Buffer> Allocate(size_t size_bytes) {
    void* data = nullptr;
    if (cudaMalloc(&data, std::max<size_t>(size_bytes, 1)) != cudaSuccess) return nullptr;
    return std::shared_ptr<Buffer>(new DeviceBuffer(data, size_bytes));
  }
  ~DeviceBuffer() override { cudaFree(data()); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;

 private:
  DeviceBuffer(void* data, size_t size_bytes) : Buffer(data, size_bytes, DeviceId{DeviceKind::kCuda, 0}) {}
};

Tensor ToDevice(const Tensor& host) {
  Tensor t;
  t.dtype = host.dtype;
  t.shape = host.shape;
  t.buffer = DeviceBuffer::Allocate(host.size_bytes());
  EXPECT_NE(t.buffer, nullptr);
  if (host.size_bytes()) {
    EXPECT_EQ(cudaMemcpy(t.raw(), host.raw(), host.size_bytes(), cudaMemcpyHostToDevice), cudaSuccess);
  }
  return t;
}

Tensor ToHost(const Tensor& device) {
  Tensor t = MakeTensor(device.dtype, device.shape);
  if (t.size_bytes()) {
    EXPECT_EQ(cudaMemcpy(t.raw(), device.raw(), t.size_bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
  }
  return t;
}

std::vector<float> AsFloats(const Tensor& t) {
  std::vector<float> out;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    switch (t.dtype) {
      case DType::kFloat32: out.push_back(t.data<float>()[i]); break;
      case DType::kInt64: out.push_back(static_cast<float>(t.data<int64_t>()[i])); break;
      case DType::kInt32: out.push_back(static_cast<float>(t.data<int32_t>()[i])); break;
      case DType::kBool: out.push_back(t.data<uint8_t>()[i] ? 1.0f : 0.0f); break;
      default: ADD_FAILURE() << "dtype " << DTypeName(t.dtype);
    }
  }
  return out;
}

std::vector<float> Random(int64_t n, uint32_t seed, float low = -1.0f, float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      cudaGetLastError();
      GTEST_SKIP() << "no CUDA device";
    }
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
    ASSERT_EQ(cudaStreamCreate(&stream_), cudaSuccess);
    ASSERT_EQ(cudaGetDeviceProperties(&props_, 0), cudaSuccess);
    libs_ = CudaLibraries::Open(0);
    none_ = CudaLibraries::None();
  }
  void TearDown() override {
    libs_.reset();
    if (stream_) cudaStreamDestroy(stream_);
  }

  struct Options {
    std::vector<int> host_inputs;  // stay on the host (shape-like operands)
    int opset = 13;
    Precision precision = Precision::kFloat32;
    bool without_libraries = false;  // our own GEMM/conv instead of cuBLASLt/cuDNN
  };

  // Runs `op` on the CPU and on CUDA and compares every output.
  void Compare(const std::string& op, const std::vector<const Tensor*>& inputs, const Attributes& attrs,
               float tolerance, const Options& options, size_t num_outputs = 1) {
    SCOPED_TRACE(op);
    const Result cpu = RunOp(op, inputs, attrs, options.opset, nullptr, nullptr, num_outputs);
    ASSERT_TRUE(cpu.status.ok()) << cpu.status.message();
    const DType key = inputs[0] ? inputs[0]->dtype : DType::kUndefined;
    const CudaKernel* kernel = cuda::FindCudaKernel(op, key);
    ASSERT_NE(kernel, nullptr);
    const CudaLibraries* libs = options.without_libraries ? none_.get() : libs_.get();

    std::vector<Tensor> device_inputs(inputs.size());
    std::vector<const Tensor*> input_ptrs(inputs.size(), nullptr);
    NodeDesc node;
    node.op_type = &op;
    node.attrs = &attrs;
    node.opset = options.opset;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i]) {
        node.inputs.push_back(ValueInfo{});
        continue;
      }
      const bool host = std::find(options.host_inputs.begin(), options.host_inputs.end(), static_cast<int>(i)) !=
                        options.host_inputs.end();
      device_inputs[i] = host ? *inputs[i] : ToDevice(*inputs[i]);
      input_ptrs[i] = &device_inputs[i];
      // Every input is offered to prepare as a constant (what a weight is).
      node.inputs.push_back(Info(inputs[i]->dtype, inputs[i]->shape, inputs[i]));
    }
    for (const Tensor& t : cpu.outputs) node.outputs.push_back(Info(t.dtype, t.shape));

    std::shared_ptr<const void> prepared;
    std::vector<std::shared_ptr<Buffer>> prepared_buffers;
    if (kernel->prepare) {
      cuda::CudaPrepareContext prepare{[&](size_t bytes, std::shared_ptr<Buffer>* out) {
                                         *out = DeviceBuffer::Allocate(bytes);
                                         return *out ? Status::Ok() : Status(StatusCode::kOutOfMemory, "cudaMalloc");
                                       },
                                       stream_, libs, &props_, options.precision};
      size_t state_bytes = 0;
      const Status s = kernel->prepare(node, prepare, &prepared, &state_bytes);
      ASSERT_TRUE(s.ok()) << s.message();
    }

    // Outputs laid out as a plan would: the CPU result's dtypes and shapes.
    std::vector<Tensor> outputs(cpu.outputs.size());
    std::vector<Tensor*> slots;
    std::vector<uint8_t> planned(outputs.size(), 1);
    for (size_t i = 0; i < outputs.size(); ++i) {
      outputs[i].dtype = cpu.outputs[i].dtype;
      outputs[i].shape = cpu.outputs[i].shape;
      outputs[i].buffer = DeviceBuffer::Allocate(cpu.outputs[i].size_bytes());
      slots.push_back(&outputs[i]);
    }
    ExecContext exec(Span<const Tensor* const>(input_ptrs.data(), input_ptrs.size()),
                     Span<Tensor* const>(slots.data(), slots.size()), nullptr, nullptr);
    exec.set_planned(planned.data());
    std::shared_ptr<Buffer> workspace;
    if (kernel->workspace) {
      const size_t bytes = kernel->workspace(node, prepared.get());
      if (bytes) {
        workspace = DeviceBuffer::Allocate(bytes);
        exec.set_workspace(workspace->data(), bytes);
      }
    }
    cuda::CudaKernelContext ctx{exec,    input_ptrs,        &attrs,        options.opset, stream_, libs,
                                &props_, options.precision, prepared.get()};
    const Status s = kernel->compute(ctx);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor got = ToHost(outputs[i]);
      ASSERT_EQ(got.dtype, cpu.outputs[i].dtype);
      ASSERT_EQ(got.shape, cpu.outputs[i].shape);
      ExpectNear(AsFloats(got), AsFloats(cpu.outputs[i]), tolerance);
    }
  }
  void Compare(const std::string& op, const std::vector<const Tensor*>& inputs, const Attributes& attrs = {},
               float tolerance = 1e-5f) {
    Compare(op, inputs, attrs, tolerance, Options{});
  }
  void CompareOutputs(const std::string& op, const std::vector<const Tensor*>& inputs, const Attributes& attrs,
                      size_t num_outputs, const Options& options) {
    Compare(op, inputs, attrs, 0.0f, options, num_outputs);
  }

  cudaStream_t stream_ = nullptr;
  cudaDeviceProp props_{};
  std::unique_ptr<CudaLibraries> libs_;
  std::unique_ptr<CudaLibraries> none_;
};

// ---- elementwise ------------------------------------------------------------------------------

TEST_F(CudaKernels, BinaryOpsBroadcast) {
  const Tensor a = F32({2, 3, 4}, Random(24, 1));
  const Tensor b = F32({4}, Random(4, 2, 0.5f, 2.0f));
  const Tensor c = F32({3, 1}, Random(3, 3));
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min"}) {
    Compare(op, {&a, &b});
    Compare(op, {&c, &a});
  }
  const Tensor base = F32({2, 3}, Random(6, 4, 0.5f, 2.0f));
  const Tensor exponent = F32({1}, {2.0f});
  Compare("Pow", {&base, &exponent});
  const Tensor i = I64({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor j = I64({3}, {2, 2, 7});
  Compare("Add", {&i, &j});
  Compare("Div", {&i, &j});
  Compare("Equal", {&i, &j});
  Compare("Less", {&a, &b});
}

TEST_F(CudaKernels, UnaryOps) {
  const Tensor x = F32({3, 17}, Random(51, 5, -3.0f, 3.0f));
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Exp", "Neg", "Abs", "Floor", "Ceil", "LeakyRelu",
                         "HardSigmoid", "HardSwish"})
    Compare(op, {&x}, {}, 1e-4f);  // the CPU's exp and erf are fast approximations
  Attributes tanh_form;
  tanh_form.values["approximate"].kind = Attribute::Kind::kString;
  tanh_form.values["approximate"].s = "tanh";
  Compare("Gelu", {&x}, tanh_form, 1e-4f);
  const Tensor positive = F32({9}, Random(9, 6, 0.1f, 4.0f));
  Compare("Sqrt", {&positive});
  Compare("Log", {&positive});
  Compare("Reciprocal", {&positive});
}

TEST_F(CudaKernels, Where) {
  Tensor cond = MakeTensor(DType::kBool, {2, 1});
  cond.data<uint8_t>()[0] = 1;
  cond.data<uint8_t>()[1] = 0;
  const Tensor x = F32({2, 3}, Random(6, 7));
  const Tensor y = F32({3}, Random(3, 8));
  Compare("Where", {&cond, &x, &y});
  Compare("Not", {&cond});
}

// ---- row-wise -----------------------------------------------------------------------------------

TEST_F(CudaKernels, SoftmaxAndLogSoftmaxAlongAnyAxis) {
  const Tensor x = F32({3, 5, 300}, Random(4500, 9, -4.0f, 4.0f));
  Attributes middle;
  middle.values["axis"] = IntAttr(1);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    Compare(op, {&x}, {}, 1e-4f);
    Compare(op, {&x}, middle, 1e-4f);
  }
}

TEST_F(CudaKernels, LayerNormalizationWithStatistics) {
  const Tensor x = F32({4, 2, 33}, Random(264, 10));
  const Tensor scale = F32({33}, Random(33, 11));
  const Tensor bias = F32({33}, Random(33, 12));
  Attributes attrs;
  attrs.values["axis"] = IntAttr(-1);
  Compare("LayerNormalization", {&x, &scale, &bias}, attrs, 1e-4f);
}

TEST_F(CudaKernels, Reductions) {
  const Tensor x = F32({2, 3, 40}, Random(240, 13));
  Attributes axis1;
  axis1.values["axes"] = IntsAttr({1});
  Attributes all;
  all.values["keepdims"] = IntAttr(0);
  for (const char* op : {"ReduceMean", "ReduceMax", "ReduceMin"}) {
    Compare(op, {&x}, axis1, 1e-5f);
    Compare(op, {&x}, all, 1e-5f);
  }
  const Tensor axes = I64({1}, {-1});
  Options host_axes;
  host_axes.host_inputs = {1};
  Compare("ReduceSum", {&x, &axes}, {}, 1e-4f, host_axes);
}

TEST_F(CudaKernels, ArgMaxAndArgMin) {
  const Tensor x = F32({3, 7, 5}, Random(105, 19));
  Attributes axis1;
  axis1.values["axis"] = IntAttr(1);
  Compare("ArgMax", {&x}, axis1, 0.0f);
  axis1.values["keepdims"] = IntAttr(0);
  Compare("ArgMin", {&x}, axis1, 0.0f);
}

TEST_F(CudaKernels, BatchNormalization) {
  const Tensor x = F32({2, 3, 4, 5}, Random(120, 14));
  const Tensor scale = F32({3}, Random(3, 15));
  const Tensor bias = F32({3}, Random(3, 16));
  const Tensor mean = F32({3}, Random(3, 17));
  const Tensor var = F32({3}, Random(3, 18, 0.5f, 2.0f));
  Compare("BatchNormalization", {&x, &scale, &bias, &mean, &var}, {}, 1e-5f);
}

// ---- data movement ------------------------------------------------------------------------------

TEST_F(CudaKernels, DataMovement) {
  const Tensor x = F32({2, 3, 4, 5}, Iota(120));
  Attributes perm;
  perm.values["perm"] = IntsAttr({0, 2, 1, 3});
  Compare("Transpose", {&x}, perm);
  Compare("Transpose", {&x});

  const Tensor starts = I64({2}, {1, -4});
  const Tensor ends = I64({2}, {3, 100});
  const Tensor axes = I64({2}, {1, 3});
  const Tensor steps = I64({2}, {1, 2});
  Options slice;
  slice.host_inputs = {1, 2, 3, 4};
  Compare("Slice", {&x, &starts, &ends, &axes, &steps}, {}, 0.0f, slice);

  const Tensor y = F32({2, 1, 4, 5}, Iota(40, 500.0f));
  Attributes axis1;
  axis1.values["axis"] = IntAttr(1);
  Compare("Concat", {&x, &y, &x}, axis1);

  const Tensor pieces = I64({3}, {1, 3, 1});
  Attributes axis3;
  axis3.values["axis"] = IntAttr(3);
  Options split;
  split.host_inputs = {1};
  CompareOutputs("Split", {&x, &pieces}, axis3, 3, split);

  const Tensor table = F32({6, 4}, Iota(24));
  const Tensor indices = I64({2, 3}, {0, 5, -1, 2, 2, 3});
  Compare("Gather", {&table, &indices});
  Compare("Gather", {&table, &indices}, [] {
    Attributes a;
    a.values["axis"] = IntAttr(1);
    return a;
  }());

  const Tensor row = F32({1, 4}, Iota(4));
  const Tensor target = I64({3}, {2, 3, 1});
  Options expand;
  expand.host_inputs = {1};
  Compare("Expand", {&row, &target}, {}, 0.0f, expand);

  const Tensor repeats = I64({2}, {2, 3});
  Compare("Tile", {&row, &repeats}, {}, 0.0f, expand);
}

TEST_F(CudaKernels, PadInEveryMode) {
  const Tensor x = F32({2, 3, 4}, Iota(24));
  const Tensor pads = I64({6}, {0, 1, 2, 0, -1, 1});
  const Tensor value = F32({1}, {-7.0f});
  Options host;
  host.host_inputs = {1, 2, 3};
  for (const char* mode : {"constant", "reflect", "edge", "wrap"}) {
    Attributes attrs;
    attrs.values["mode"].kind = Attribute::Kind::kString;
    attrs.values["mode"].s = mode;
    Compare("Pad", {&x, &pads, &value}, attrs, 0.0f, host);
  }
}

TEST_F(CudaKernels, CastAndShapeOps) {
  const Tensor x = F32({2, 3}, {-2.7f, -0.5f, 0.0f, 0.5f, 3.9f, 1e20f});
  Attributes to_int;
  to_int.values["to"] = IntAttr(static_cast<int64_t>(DType::kInt64));
  Compare("Cast", {&x}, to_int);
  Attributes to_bool;
  to_bool.values["to"] = IntAttr(static_cast<int64_t>(DType::kBool));
  Compare("Cast", {&x}, to_bool);
  const Tensor i = I64({3}, {1, -2, 3});
  Attributes to_float;
  to_float.values["to"] = IntAttr(static_cast<int64_t>(DType::kFloat32));
  Compare("Cast", {&i}, to_float);
  Compare("Shape", {&x});

  const Tensor spec = I64({2}, {3, -1});
  Options host_shape;
  host_shape.host_inputs = {1};
  Compare("Reshape", {&x, &spec}, {}, 0.0f, host_shape);
  const Tensor axes = I64({1}, {0});
  Compare("Unsqueeze", {&x, &axes}, {}, 0.0f, host_shape);
}

// ---- GEMM ------------------------------------------------------------------------------------------

class CudaGemm : public CudaKernels, public ::testing::WithParamInterface<bool> {
 protected:
  Options Paths() const {
    Options o;
    o.without_libraries = GetParam();
    return o;
  }
};

TEST_P(CudaGemm, MatMulFoldsBatchesBroadcastsAndFuses) {
  const Tensor a = F32({2, 3, 5, 7}, Random(210, 20));
  const Tensor w = F32({7, 4}, Random(28, 21));
  Compare("MatMul", {&a, &w}, {}, 1e-4f, Paths());
  const Tensor b3 = F32({2, 5, 7}, Random(70, 22));
  const Tensor c3 = F32({2, 7, 3}, Random(42, 23));
  Compare("MatMul", {&b3, &c3}, {}, 1e-4f, Paths());
  const Tensor d = F32({2, 1, 5, 7}, Random(70, 24));
  const Tensor e = F32({3, 7, 4}, Random(84, 25));
  Compare("MatMul", {&d, &e}, {}, 1e-4f, Paths());
  const Tensor v = F32({7}, Random(7, 26));
  Compare("MatMul", {&b3, &v}, {}, 1e-4f, Paths());

  const Tensor bias = F32({4}, Random(4, 27));
  for (const char* act : {"", "Relu", "Sigmoid", "Tanh"}) {
    Attributes attrs;
    if (*act) {
      attrs.values["activation"].kind = Attribute::Kind::kString;
      attrs.values["activation"].s = act;
    }
    Compare("maas.FusedMatMul", {&a, &w, &bias}, attrs, 1e-4f, Paths());
  }
}

TEST_P(CudaGemm, GemmWithTransposesAlphaBetaAndC) {
  const Tensor a = F32({6, 5}, Random(30, 30));  // transA: [K=6, M=5]
  const Tensor b = F32({9, 6}, Random(54, 31));  // transB: [N=9, K=6]
  const Tensor c = F32({9}, Random(9, 32));
  Attributes attrs;
  attrs.values["transA"] = IntAttr(1);
  attrs.values["transB"] = IntAttr(1);
  attrs.values["alpha"] = FloatAttr(0.5f);
  attrs.values["beta"] = FloatAttr(2.0f);
  Compare("Gemm", {&a, &b, &c}, attrs, 1e-4f, Paths());
  attrs.values["activation"].kind = Attribute::Kind::kString;
  attrs.values["activation"].s = "Relu";
  Compare("maas.FusedGemm", {&a, &b, &c}, attrs, 1e-4f, Paths());
}

TEST_P(CudaGemm, ReducedPrecisionStaysCloseToFloat32) {
  const Tensor a = F32({16, 64}, Random(1024, 40));
  const Tensor w = F32({64, 32}, Random(2048, 41));
  const Tensor bias = F32({32}, Random(32, 42));
  for (Precision p : {Precision::kFloat16, Precision::kBFloat16}) {
    Options o = Paths();
    o.precision = p;
    // 64-term dot products of 16-bit operands: bfloat16 keeps 8 bits.
    Compare("maas.FusedMatMul", {&a, &w, &bias}, {}, p == Precision::kFloat16 ? 1e-2f : 6e-2f, o);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, CudaGemm, ::testing::Values(false, true), [](const auto& info) {
  return info.param ? std::string("OwnKernels") : std::string("Libraries");
});

// ---- Conv and pools ----------------------------------------------------------------------------------

class CudaConv : public CudaGemm {};

TEST_P(CudaConv, ConvWithPadsStridesGroupsAndFusedEpilogue) {
  const Tensor x = F32({2, 4, 9, 8}, Random(576, 50));
  const Tensor w = F32({6, 2, 3, 3}, Random(108, 51));
  const Tensor bias = F32({6}, Random(6, 52));
  Attributes attrs;
  attrs.values["pads"] = IntsAttr({1, 1, 1, 1});
  attrs.values["strides"] = IntsAttr({2, 1});
  attrs.values["group"] = IntAttr(2);
  Compare("Conv", {&x, &w, &bias}, attrs, 1e-4f, Paths());
  attrs.values["activation"].kind = Attribute::Kind::kString;
  attrs.values["activation"].s = "Relu";
  Compare("maas.FusedConv", {&x, &w, &bias}, attrs, 1e-4f, Paths());
  Attributes asymmetric;
  asymmetric.values["pads"] = IntsAttr({0, 1, 2, 0});
  const Tensor w1 = F32({3, 4, 2, 2}, Random(48, 53));
  Compare("Conv", {&x, &w1}, asymmetric, 1e-4f, Paths());
}

INSTANTIATE_TEST_SUITE_P(Paths, CudaConv, ::testing::Values(false, true), [](const auto& info) {
  return info.param ? std::string("OwnKernels") : std::string("Libraries");
});

TEST_F(CudaKernels, Pools) {
  const Tensor x = F32({2, 3, 7, 6}, Random(252, 60));
  Attributes max_pool;
  max_pool.values["kernel_shape"] = IntsAttr({3, 3});
  max_pool.values["strides"] = IntsAttr({2, 2});
  max_pool.values["pads"] = IntsAttr({1, 1, 1, 1});
  Compare("MaxPool", {&x}, max_pool);
  Compare("AveragePool", {&x}, max_pool);
  max_pool.values["count_include_pad"] = IntAttr(1);
  Compare("AveragePool", {&x}, max_pool);
  Compare("GlobalAveragePool", {&x});
  Compare("GlobalMaxPool", {&x});
}

}  // namespace
}  // namespace maas
#endif  // MAAS_WITH_CUDA
