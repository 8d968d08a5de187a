// Backends and devices: a load names every op and dtype its backend lacks,
// the `device` option's errors, and the engine's staging through device
// memory, shown with FakeDevice — host memory posing as "cuda:0" (a fake,
// because no GPU runs these tests) — against the CPU backend's results.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <set>

#include "cpu/cpu_backend.h"
#include "engine/session_impl.h"
#include "maas/backend.h"
#include "test_session.h"

namespace maas {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- what a backend supports -----------------------------------------------------------

TEST(BackendSupport, ALoadNamesEveryMissingOpAndDType) {
  // Five independent gaps: each node reads graph inputs directly, so none
  // hides behind another.
  const std::string bytes = ModelBuilder()
                                .Input("d", kOnnxDouble, {2, 2})
                                .Input("i", kOnnxInt64, {2, 2})
                                .Input("f", kOnnxFloat, {2, 2})
                                .Node("Gemm", {"d", "d"}, {"g"})
                                .Node("MatMul", {"i", "i"}, {"m"})
                                .Node("Sigmoid", {"i"}, {"s"})
                                .Node("Frobnicate", {"f"}, {"z"})
                                .Node("Erf", {"i"}, {"h"})
                                .Node("Relu", {"z"}, {"r"})
                                .Output("g", kOnnxDouble, {2, 2})
                                .Output("m", kOnnxInt64, {2, 2})
                                .Output("s", kOnnxInt64, {2, 2})
                                .Output("r", kOnnxFloat, {2, 2})
                                .Output("h", kOnnxInt64, {2, 2})
                                .Bytes();
  Status status = LoadStatus(bytes);
  ASSERT_EQ(status.code(), StatusCode::kUnsupported);
  const std::string& m = status.message();
  EXPECT_TRUE(Contains(m, "Frobnicate")) << m;
  EXPECT_TRUE(Contains(m, "Gemm (float64) on cpu")) << m;
  EXPECT_TRUE(Contains(m, "MatMul (int64) on cpu")) << m;
  EXPECT_TRUE(Contains(m, "Erf (int64) on cpu")) << m;  // legal ONNX, no CPU kernel
  EXPECT_TRUE(Contains(m, "Sigmoid: unsupported dtype int64")) << m;
  EXPECT_FALSE(Contains(m, "Relu")) << m;  // it only follows the unknown op
}

TEST(BackendSupport, TheCpuBackendListsItsOps) {
  std::unique_ptr<Backend> cpu;
  ASSERT_TRUE(CreateCpuBackend(BackendOptions{}, &cpu).ok());
  std::vector<std::string> ops = cpu->OpTypes();
  for (const char* op : {"Gemm", "MatMul", "Add", "Softmax", "Reshape", "maas.FusedGemm", "maas.FusedMatMul", "Conv",
                         "maas.FusedConv", "MaxPool"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  EXPECT_TRUE(cpu->HasOp("Add"));
  EXPECT_FALSE(cpu->HasOp("NoSuchOp"));
  EXPECT_TRUE(cpu->device().is_host());
}

// ---- FakeDevice ------------------------------------------------------------------------------

constexpr DeviceId kFakeDevice{DeviceKind::kCuda, 0};
constexpr size_t kFakeWorkspaceBytes = 4096;

struct FakeCounters {
  std::atomic<int> to_device{0}, to_host{0}, allocations{0};
};
FakeCounters fake_counters;
std::set<std::string> fake_ops;  // what the fake claims; empty: everything the CPU has

class FakeDeviceBuffer final : public Buffer {
 public:
  static std::shared_ptr<Buffer> Make(size_t size_bytes) {
    void* p = std::aligned_alloc(64, (std::max<size_t>(size_bytes, 1) + 63) / 64 * 64);
    ++fake_counters.allocations;
    return p ? std::shared_ptr<Buffer>(new FakeDeviceBuffer(p, size_bytes)) : nullptr;
  }
  FakeDeviceBuffer(const FakeDeviceBuffer&) = delete;
  FakeDeviceBuffer& operator=(const FakeDeviceBuffer&) = delete;
  ~FakeDeviceBuffer() override { std::free(data()); }

 private:
  FakeDeviceBuffer(void* p, size_t size_bytes) : Buffer(p, size_bytes, kFakeDevice) {}
};

class FakeStream final : public Stream {
 public:
  Status Synchronize() override { return Status::Ok(); }
};

// Runs the CPU kernel, but only over "device" tensors: a host pointer
// reaching a kernel means the engine forgot to stage it. Every MatMul asks
// for a workspace (as cuBLASLt would) and scribbles over all of it: a
// workspace the plan laid over live values would corrupt the results.
class FakeExecutable final : public Executable {
 public:
  FakeExecutable(std::unique_ptr<Executable> inner, size_t workspace_bytes)
      : inner_(std::move(inner)), workspace_bytes_(workspace_bytes) {}
  size_t WorkspaceBytes(const NodeDesc&) const override { return workspace_bytes_; }
  Status Run(ExecContext& ctx) const override {
    for (size_t i = 0; i < ctx.num_inputs(); ++i)
      if (ctx.input(i) && ctx.input(i)->device() != kFakeDevice)
        return Internal("input " + std::to_string(i) + " is on the host");
    if (ctx.workspace_bytes() != workspace_bytes_ || (workspace_bytes_ && !ctx.workspace()))
      return Internal("the workspace asked for is missing");
    if (workspace_bytes_) std::memset(ctx.workspace(), 0xA5, workspace_bytes_);
    MAAS_RETURN_IF_ERROR(inner_->Run(ctx));
    for (size_t i = 0; i < ctx.num_outputs(); ++i)
      if (ctx.output(i).buffer && ctx.output(i).device() != kFakeDevice) return Internal("an output is on the host");
    return Status::Ok();
  }

 private:
  std::unique_ptr<Executable> inner_;
  size_t workspace_bytes_;
};

class FakeDeviceBackend final : public Backend {
 public:
  FakeDeviceBackend() { CreateCpuBackend(BackendOptions{}, &cpu_); }
  DeviceId device() const override { return kFakeDevice; }
  bool HasOp(const std::string& op) const override {
    return cpu_->HasOp(op) && (fake_ops.empty() || fake_ops.count(op));
  }
  std::string CheckNode(const NodeDesc& node) const override {
    if (node.key_dtype() != DType::kFloat32 && node.key_dtype() != DType::kInt64) return DTypeName(node.key_dtype());
    return cpu_->CheckNode(node);
  }
  std::vector<std::string> OpTypes() const override { return cpu_->OpTypes(); }
  Status Bind(const NodeDesc& node, std::unique_ptr<Executable>* out) override {
    std::unique_ptr<Executable> inner;
    MAAS_RETURN_IF_ERROR(cpu_->Bind(node, &inner));
    out->reset(new FakeExecutable(std::move(inner), *node.op_type == "MatMul" ? kFakeWorkspaceBytes : 0));
    return Status::Ok();
  }
  Status Allocate(size_t size_bytes, std::shared_ptr<Buffer>* out) override {
    *out = FakeDeviceBuffer::Make(size_bytes);
    return *out ? Status::Ok() : Status(StatusCode::kOutOfMemory, "fake device full");
  }
  Status CreateStream(std::unique_ptr<Stream>* out) override {
    out->reset(new FakeStream());
    return Status::Ok();
  }
  Status CopyFromHost(const Tensor& src, const Tensor& dst, Stream*) override {
    if (!src.device().is_host() || dst.device() != kFakeDevice)
      return Internal("CopyFromHost between the wrong devices");
    ++fake_counters.to_device;
    return Copy(src, dst);
  }
  Status CopyToHost(const Tensor& src, const Tensor& dst, Stream*) override {
    if (src.device() != kFakeDevice || !dst.device().is_host()) return Internal("CopyToHost between the wrong devices");
    ++fake_counters.to_host;
    return Copy(src, dst);
  }

 private:
  static Status Copy(const Tensor& src, const Tensor& dst) {
    if (src.size_bytes() != dst.size_bytes()) return Internal("copy sizes differ");
    if (src.size_bytes()) std::memcpy(dst.raw(), src.raw(), src.size_bytes());
    return Status::Ok();
  }
  std::unique_ptr<Backend> cpu_;
};

Status MakeFakeDevice(const BackendOptions& options, std::unique_ptr<Backend>* out) {
  if (options.device != kFakeDevice)
    return Unsupported("device '" + DeviceName(options.device) + "' is not present (the fake has cuda:0 only)");
  out->reset(new FakeDeviceBackend());
  return Status::Ok();
}

// Installs the fake as the CUDA factory for one test, then puts back what was there.
class FakeDeviceScope {
 public:
  explicit FakeDeviceScope(std::set<std::string> ops = {})
      : previous_(RegisterBackendFactory(DeviceKind::kCuda, MakeFakeDevice)) {
    fake_ops = std::move(ops);
  }
  FakeDeviceScope(const FakeDeviceScope&) = delete;
  FakeDeviceScope& operator=(const FakeDeviceScope&) = delete;
  ~FakeDeviceScope() {
    RegisterBackendFactory(DeviceKind::kCuda, previous_);
    fake_ops.clear();
  }

 private:
  BackendFactory previous_;
};

SessionOptions OnDevice(const std::string& device) {
  SessionOptions options;
  options.device = device;
  return options;
}

// x [b,8] → MatMul+bias → Relu → Reshape [b,4,4] → Transpose → Flatten → Softmax → y;
// the Reshape's [b,4,4] also comes back as z.
std::string DeviceModel() {
  return ModelBuilder()
      .Input("x", kOnnxFloat, {-1, 8})
      .Floats("w", {8, 16}, RandomFloats(8 * 16, 31))
      .Floats("b", {16}, RandomFloats(16, 32))
      .Int64s("shape", {3}, {-1, 4, 4})
      .Node("MatMul", {"x", "w"}, {"m"})
      .Node("Add", {"m", "b"}, {"a"})
      .Node("Relu", {"a"}, {"r"})
      .Node("Reshape", {"r", "shape"}, {"z"})
      .Node("Transpose", {"z"}, {"t"}, {IntsAttribute("perm", {0, 2, 1})})
      .Node("Flatten", {"t"}, {"f"})
      .Node("Softmax", {"f"}, {"y"})
      .Output("y", kOnnxFloat, {-1, 16})
      .Output("z", kOnnxFloat, {-1, 4, 4})
      .Bytes();
}

TEST(FakeDevice, FeedsAndOutputsTravelThroughDeviceMemory) {
  FakeDeviceScope scope;
  auto cpu = LoadSession(DeviceModel());
  auto device = LoadSession(DeviceModel(), OnDevice("cuda:0"));
  ASSERT_TRUE(cpu && device);
  EXPECT_EQ(device->device(), kFakeDevice);
  const int uploads_at_load = fake_counters.to_device.load();
  EXPECT_GE(uploads_at_load, 3);  // w, b (and the fused bias) placed on the device
  for (int64_t batch : {1, 5}) {
    std::vector<FloatFeed> feeds = {{"x", {batch, 8}, RandomFloats(batch * 8, 33, -2, 2)}};
    std::vector<NamedTensor> want, got;
    ASSERT_TRUE(RunFloats(*cpu, feeds, &want).ok());
    const int to_device = fake_counters.to_device, to_host = fake_counters.to_host;
    Status status = RunFloats(*device, feeds, &got);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(fake_counters.to_device - to_device, 1);  // x
    EXPECT_EQ(fake_counters.to_host - to_host, 2);      // y and z
    ASSERT_EQ(got.size(), 2u);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(got[i].tensor.device().is_host());
      EXPECT_EQ(got[i].tensor.shape, want[i].tensor.shape);
      EXPECT_EQ(FloatsOf(got[i].tensor), FloatsOf(want[i].tensor)) << got[i].name;
    }
  }
  EXPECT_GT(device->memory().arena_reserved_bytes, 0u);  // the arena lives on the device
}

TEST(FakeDevice, WorkspacesNeverOverlapLiveValues) {
  FakeDeviceScope scope;
  SessionOptions options = OnDevice("cuda:0");
  options.enable_fusions = false;  // keep the MatMul a MatMul, with its workspace
  // Two MatMuls whose inputs and outputs are all live while each runs.
  const std::string bytes = ModelBuilder()
                                .Input("x", kOnnxFloat, {-1, 8})
                                .Floats("w", {8, 8}, RandomFloats(64, 41))
                                .Node("MatMul", {"x", "w"}, {"a"})
                                .Node("MatMul", {"a", "w"}, {"b"})
                                .Node("Add", {"a", "b"}, {"y"})
                                .Output("y", kOnnxFloat, {-1, 8})
                                .Bytes();
  auto cpu = LoadSession(bytes);
  auto device = LoadSession(bytes, options);
  ASSERT_TRUE(cpu && device);
  PlanMemory plan;
  ASSERT_TRUE(device->Plan({{4, 8}}, &plan).ok());
  EXPECT_GE(plan.arena_bytes, kFakeWorkspaceBytes + 2 * 4 * 8 * 4);  // two live values beside a workspace
  std::vector<FloatFeed> feeds = {{"x", {4, 8}, RandomFloats(32, 42)}};
  std::vector<NamedTensor> want, got;
  ASSERT_TRUE(RunFloats(*cpu, feeds, &want).ok());
  Status status = RunFloats(*device, feeds, &got);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(FloatsOf(got[0].tensor), FloatsOf(want[0].tensor));
}

TEST(FakeDevice, ABackendDeclaresItsOwnGaps) {
  FakeDeviceScope scope({"MatMul", "Add", "Relu"});
  Status status = LoadStatus(DeviceModel(), OnDevice("cuda:0"));
  ASSERT_EQ(status.code(), StatusCode::kUnsupported);
  for (const char* op : {"Reshape", "Transpose", "Flatten", "Softmax"})
    EXPECT_TRUE(Contains(status.message(), std::string(op) + " (no kernel) on cuda:0")) << status.message();
  EXPECT_FALSE(Contains(status.message(), "MatMul")) << status.message();
  // The fused op MatMul+Add would become is not claimed: the fusion is skipped, not the load failed for it.
  FakeDeviceScope narrow({"MatMul", "Add", "Relu", "Reshape", "Transpose", "Flatten", "Softmax"});
  auto session = LoadSession(DeviceModel(), OnDevice("cuda:0"));
  ASSERT_NE(session, nullptr);
  for (const Node& node : session->internals().graph.nodes)
    EXPECT_EQ(node.op_type.rfind("maas.", 0), std::string::npos);
}

// ---- the device option ----------------------------------------------------------------------

TEST(DeviceOption, NamesAreParsedStrictly) {
  DeviceId id;
  EXPECT_TRUE(ParseDeviceName("cpu", &id));
  EXPECT_TRUE(id.is_host());
  EXPECT_TRUE(ParseDeviceName("cuda:3", &id));
  EXPECT_EQ(id, (DeviceId{DeviceKind::kCuda, 3}));
  EXPECT_EQ(DeviceName(id), "cuda:3");
  for (const char* bad : {"", "gpu", "CPU", "cuda", "cuda:", "cuda:-1", "cuda:1a", "cuda:99999999999", " cpu"})
    EXPECT_FALSE(ParseDeviceName(bad, &id)) << bad;
}

TEST(DeviceOption, BadOrMissingDevicesFailTheLoadCleanly) {
  const std::string bytes = DeviceModel();
  Status bad = LoadStatus(bytes, OnDevice("gpu"));
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.message(), "'gpu'")) << bad.message();
  // Without a CUDA backend (this build has none registered) cuda:N is unsupported.
  BackendFactory none = RegisterBackendFactory(DeviceKind::kCuda, nullptr);
  Status missing = LoadStatus(bytes, OnDevice("cuda:0"));
  RegisterBackendFactory(DeviceKind::kCuda, none);
  EXPECT_EQ(missing.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(Contains(missing.message(), "cuda:0")) << missing.message();
  FakeDeviceScope scope;
  Status absent = LoadStatus(bytes, OnDevice("cuda:1"));
  EXPECT_EQ(absent.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(Contains(absent.message(), "cuda:1")) << absent.message();
  auto cpu = LoadSession(bytes, OnDevice("cpu"));
  ASSERT_NE(cpu, nullptr);
  EXPECT_TRUE(cpu->device().is_host());
}

}  // namespace
}  // namespace maas
