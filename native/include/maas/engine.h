// The engine's C++ API: load an ONNX model into a Session, then run it.
// Nothing here throws; every failure is a Status.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maas/backend.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

// The default of SessionOptions::max_tensor_bytes: 2 GiB.
constexpr uint64_t kDefaultMaxTensorBytes = uint64_t{1} << 31;

struct SessionOptions {
  // Threads for one kernel's work, counting the calling thread;
  // 0 means std::thread::hardware_concurrency().
  int intra_op_threads = 0;
  // Largest tensor one run may allocate, output or intermediate: checked
  // against each tensor's shape before its memory is allocated, so a request
  // whose inputs would make a huge tensor fails with kOutputTooLarge instead
  // of exhausting memory. 0: no limit.
  uint64_t max_tensor_bytes = kDefaultMaxTensorBytes;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// A model input or output as known at load time (dims may be kUnknownDim;
// an input declared without a shape has rank_known = false and no dims).
struct TensorMetadata {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;
  bool rank_known = true;
};

class Session {
 public:
  // Parses, checks and plans the model. kInvalidModel for broken bytes,
  // kUnsupported (naming every missing op and dtype) for what the engine lacks.
  static Status Load(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options,
                     std::unique_ptr<Session>* out);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorMetadata>& inputs() const;
  const std::vector<TensorMetadata>& outputs() const;

  // Runs the model. `feeds` must name every input exactly once, with the
  // declared dtype, rank and known dims (else kInvalidArgument naming the
  // input). Feeds may borrow caller memory: it is only read, and it is not
  // referenced after Run returns. `outputs` come back in outputs() order,
  // each in a buffer of its own that aliases no feed, no model constant and
  // no other output. kOutputTooLarge, before allocating, when a tensor would
  // exceed SessionOptions::max_tensor_bytes. Safe to call from several
  // threads at once.
  Status Run(const std::vector<NamedTensor>& feeds, std::vector<NamedTensor>* outputs) const;

 public:
  struct Impl;  // opaque: the loaded graph, plan, backend and thread pool

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Accelerators this build can use: CUDA devices when built with CUDA and a
// driver and device are present; otherwise empty. Never fails.
std::vector<DeviceInfo> ListDevices();

}  // namespace maas
