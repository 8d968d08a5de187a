#include "cuda/kernels/gemm_core.h"

#include <array>
#include <map>
#include <mutex>

#include "cuda/libs/cuda_libraries.h"
#include "cuda/libs/library_api.h"

namespace maas::cuda {
namespace {

// ---- our own GEMM ----------------------------------------------------------------------

constexpr int kTile = 16;

template <typename TA, typename TY>
struct TiledArgs {
  GemmCall call;
  const TA* a;
  const TA* b;
  TY* y;
  const TY* bias;
};

// 16×16 output tile per block, K in steps of 16 through shared memory,
// float accumulation; blockIdx.z is the batch entry. The baseline the
// cuBLASLt path is measured against, and the path without cuBLASLt.
template <typename TA, typename TY>
__global__ void TiledGemm(TiledArgs<TA, TY> g) {
  __shared__ float a_tile[kTile][kTile + 1];
  __shared__ float b_tile[kTile][kTile + 1];
  const GemmCall& c = g.call;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + ty;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  const TA* a = g.a + blockIdx.z * c.stride_a;
  const TA* b = g.b + blockIdx.z * c.stride_b;
  TY* y = g.y + blockIdx.z * c.stride_y;
  float acc = 0.0f;
  for (int64_t t = 0; t < c.k; t += kTile) {
    const int64_t ak = t + tx;
    const int64_t bk = t + ty;
    a_tile[ty][tx] = (row < c.m && ak < c.k) ? ToFloat(a[c.trans_a ? ak * c.lda + row : row * c.lda + ak]) : 0.0f;
    b_tile[ty][tx] = (col < c.n && bk < c.k) ? ToFloat(b[c.trans_b ? col * c.ldb + bk : bk * c.ldb + col]) : 0.0f;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kTile; ++i) acc += a_tile[ty][i] * b_tile[i][tx];
    __syncthreads();
  }
  if (row >= c.m || col >= c.n) return;
  TY* out = y + row * c.ldc + col;
  float v = c.alpha * acc;
  if (c.beta != 0.0f) v += c.beta * ToFloat(*out);
  if (g.bias) v += ToFloat(g.bias[col]);
  *out = FromFloat<TY>(Activate(c.activation, v));
}

template <typename TA, typename TY>
void LaunchTiled(const GemmCall& call, cudaStream_t stream) {
  const TiledArgs<TA, TY> args{call, static_cast<const TA*>(call.a), static_cast<const TA*>(call.b),
                               static_cast<TY*>(call.y), static_cast<const TY*>(call.bias)};
  const dim3 grid(static_cast<unsigned>((call.n + kTile - 1) / kTile),
                  static_cast<unsigned>((call.m + kTile - 1) / kTile), static_cast<unsigned>(call.batch));
  TiledGemm<TA, TY><<<grid, dim3(kTile, kTile), 0, stream>>>(args);
}

Status RunTiled(const std::string& op, const GemmCall& call, cudaStream_t stream) {
  if ((call.n + kTile - 1) / kTile > 0x7fffffff || (call.m + kTile - 1) / kTile > 65535 || call.batch > 65535)
    return Unsupported(op + ": GEMM too large for the built-in CUDA kernel");
  const DType a = call.a_type, y = call.y_type;
  if (a == DType::kFloat32 && y == DType::kFloat32) {
    LaunchTiled<float, float>(call, stream);
  } else if (a == DType::kFloat16 && y == DType::kFloat16) {
    LaunchTiled<__half, __half>(call, stream);
  } else if (a == DType::kBFloat16 && y == DType::kBFloat16) {
    LaunchTiled<__nv_bfloat16, __nv_bfloat16>(call, stream);
  } else if (a == DType::kFloat16 && y == DType::kFloat32) {
    LaunchTiled<__half, float>(call, stream);
  } else if (a == DType::kBFloat16 && y == DType::kFloat32) {
    LaunchTiled<__nv_bfloat16, float>(call, stream);
  } else {
    return Unsupported(op + ": GEMM of " + DTypeName(a) + " into " + DTypeName(y));
  }
  return LaunchStatus(op);
}

// ---- cuBLASLt ---------------------------------------------------------------------------

#if MAAS_WITH_CUDA_LIBS
// The activations cuBLASLt's epilogue lacks (Sigmoid, Tanh), as a pass over Y.

template <typename T>
__global__ void ActivateRows(T* y, int64_t rows, int64_t cols, int64_t ld, int64_t batch_stride, int64_t batch,
                             Activation act) {
  MAAS_GRID_STRIDE(i, rows * cols * batch) {
    const int64_t b = i / (rows * cols);
    const int64_t r = (i / cols) % rows;
    const int64_t c = i % cols;
    T* p = y + b * batch_stride + r * ld + c;
    *p = FromFloat<T>(Activate(act, ToFloat(*p)));
  }
}

Status ActivationPass(const std::string& op, const GemmCall& call, cudaStream_t stream) {
  const int64_t total = call.m * call.n * call.batch;
  if (total == 0) return Status::Ok();
  const bool ok = DispatchFloat(call.y_type, [&](auto tag) {
    using T = decltype(tag);
    ActivateRows<T><<<BlocksFor(total), kThreads, 0, stream>>>(static_cast<T*>(call.y), call.m, call.n, call.ldc,
                                                               call.stride_y, call.batch, call.activation);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, call.y_type);
}

cudaDataType_t CudaTypeOf(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return CUDA_R_16F;
    case DType::kBFloat16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// Owns the cuBLASLt descriptors of one call.
struct LtDescriptors {
  const CublasLtApi* api;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, y = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  explicit LtDescriptors(const CublasLtApi* lt) : api(lt) {}
  ~LtDescriptors() {
    if (preference) api->cublasLtMatmulPreferenceDestroy(preference);
    if (y) api->cublasLtMatrixLayoutDestroy(y);
    if (b) api->cublasLtMatrixLayoutDestroy(b);
    if (a) api->cublasLtMatrixLayoutDestroy(a);
    if (desc) api->cublasLtMatmulDescDestroy(desc);
  }
};

// The algorithm cuBLASLt's heuristic picked, per handle and call shape:
// asking the heuristic costs more host time than a small GEMM, and a
// serving process sees the same few shapes over and over. Bounded: cleared
// when full (the next calls ask again).
using AlgoKey = std::array<int64_t, 18>;

class AlgoCache {
 public:
  bool Find(const AlgoKey& key, cublasLtMatmulAlgo_t* algo) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    *algo = it->second;
    return true;
  }
  void Put(const AlgoKey& key, const cublasLtMatmulAlgo_t& algo) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[key] = algo;
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  std::mutex mutex_;
  std::map<AlgoKey, cublasLtMatmulAlgo_t> entries_;
};

AlgoCache& Algorithms() {
  static AlgoCache* cache = new AlgoCache();  // never destroyed: used until exit
  return *cache;
}

AlgoKey KeyOf(const CudaLibraries& libs, const GemmCall& call, uint32_t epilogue, uint64_t max_workspace) {
  return {reinterpret_cast<int64_t>(libs.cublaslt_handle), call.m, call.n, call.k, call.trans_a, call.trans_b, call.lda,
          call.ldb, call.ldc, call.batch, call.stride_a, call.stride_b, call.stride_y,
          static_cast<int64_t>(call.a_type), static_cast<int64_t>(call.y_type), epilogue,
          static_cast<int64_t>(max_workspace),
          // alignment of the pointers, which the chosen algorithm may rely on
          static_cast<int64_t>((reinterpret_cast<uintptr_t>(call.a) | reinterpret_cast<uintptr_t>(call.b) |
                                reinterpret_cast<uintptr_t>(call.y) | reinterpret_cast<uintptr_t>(call.bias)) &
                               255)};
}

// A column-major layout of rows × cols with leading dim ld, batched.
bool Layout(const CublasLtApi* api, cublasLtMatrixLayout_t* out, DType dtype, int64_t rows, int64_t cols, int64_t ld,
            int64_t batch, int64_t stride) {
  if (api->cublasLtMatrixLayoutCreate(out, CudaTypeOf(dtype), static_cast<uint64_t>(rows), static_cast<uint64_t>(cols),
                                      ld) != CUBLAS_STATUS_SUCCESS)
    return false;
  if (batch == 1) return true;
  const int32_t count = static_cast<int32_t>(batch);
  return api->cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)) ==
             CUBLAS_STATUS_SUCCESS &&
         api->cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                               sizeof(stride)) == CUBLAS_STATUS_SUCCESS;
}

// Row-major Y = A·B is column-major Yᵀ = Bᵀ·Aᵀ: cuBLASLt's "A" is our B and
// its "B" our A, and its m is our n, so the bias (one value per row of its
// D) is our per-column bias.
// Returns false when cuBLASLt has no algorithm for it (the caller falls back).
bool RunLt(const CudaLibraries& libs, const GemmCall& call, bool fuse_relu, void* workspace, size_t workspace_bytes,
           cudaStream_t stream, std::string* error) {
  const CublasLtApi* api = libs.cublaslt;
  LtDescriptors d(api);
  auto fail = [&](const char* what) {
    *error = what;
    return false;
  };
  if (api->cublasLtMatmulDescCreate(&d.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS)
    return fail("cublasLtMatmulDescCreate");
  const int32_t op_a = call.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int32_t op_b = call.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (call.bias)
    epilogue = fuse_relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  else if (fuse_relu)
    epilogue = CUBLASLT_EPILOGUE_RELU;
  bool ok = api->cublasLtMatmulDescSetAttribute(d.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)) ==
                CUBLAS_STATUS_SUCCESS &&
            api->cublasLtMatmulDescSetAttribute(d.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)) ==
                CUBLAS_STATUS_SUCCESS &&
            api->cublasLtMatmulDescSetAttribute(d.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)) ==
                CUBLAS_STATUS_SUCCESS;
  if (ok && call.bias)
    ok = api->cublasLtMatmulDescSetAttribute(d.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &call.bias,
                                             sizeof(call.bias)) == CUBLAS_STATUS_SUCCESS;
  if (!ok) return fail("cublasLtMatmulDescSetAttribute");
  // Stored shapes (before the op): our B is [k, n] row-major = [n, k]
  // column-major (or [k, n] when transposed), likewise A.
  const bool layouts = Layout(api, &d.a, call.a_type, call.trans_b ? call.k : call.n, call.trans_b ? call.n : call.k,
                              call.ldb, call.batch, call.stride_b) &&
                       Layout(api, &d.b, call.a_type, call.trans_a ? call.m : call.k, call.trans_a ? call.k : call.m,
                              call.lda, call.batch, call.stride_a) &&
                       Layout(api, &d.y, call.y_type, call.n, call.m, call.ldc, call.batch, call.stride_y);
  if (!layouts) return fail("cublasLtMatrixLayoutCreate");
  const uint64_t max_workspace = workspace ? workspace_bytes : 0;
  if (api->cublasLtMatmulPreferenceCreate(&d.preference) != CUBLAS_STATUS_SUCCESS ||
      api->cublasLtMatmulPreferenceSetAttribute(d.preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_workspace,
                                                sizeof(max_workspace)) != CUBLAS_STATUS_SUCCESS)
    return fail("cublasLtMatmulPreference");
  const AlgoKey key = KeyOf(libs, call, epilogue, max_workspace);
  cublasLtMatmulAlgo_t algo = {};
  if (!Algorithms().Find(key, &algo)) {
    cublasLtMatmulHeuristicResult_t result = {};
    int found = 0;
    if (api->cublasLtMatmulAlgoGetHeuristic(libs.cublaslt_handle, d.desc, d.a, d.b, d.y, d.y, d.preference, 1, &result,
                                            &found) != CUBLAS_STATUS_SUCCESS ||
        found == 0)
      return fail("no cuBLASLt algorithm");
    algo = result.algo;
    Algorithms().Put(key, algo);
  }
  const cublasStatus_t status =
      api->cublasLtMatmul(libs.cublaslt_handle, d.desc, &call.alpha, call.b, d.a, call.a, d.b, &call.beta, call.y, d.y,
                          call.y, d.y, &algo, workspace, workspace ? workspace_bytes : 0, stream);
  if (status != CUBLAS_STATUS_SUCCESS) return fail("cublasLtMatmul failed");
  return true;
}
#endif

// ---- conversions -------------------------------------------------------------------------

template <typename T>
__global__ void NarrowKernel(const float* in, T* out, int64_t n) {
  MAAS_GRID_STRIDE(i, n) { out[i] = FromFloat<T>(in[i]); }
}

}  // namespace

Status RunGemm(const std::string& op, const CudaKernelContext& ctx, const GemmCall& call, void* workspace,
               size_t workspace_bytes) {
  if (call.m == 0 || call.n == 0 || call.batch == 0) return Status::Ok();
#if MAAS_WITH_CUDA_LIBS
  if (ctx.libs->cublaslt && call.k > 0 && call.batch <= 0x7fffffff) {
    const bool fuse_relu = call.activation == Activation::kRelu;
    std::string error;
    if (RunLt(*ctx.libs, call, fuse_relu, workspace, workspace_bytes, ctx.stream, &error)) {
      if (fuse_relu || call.activation == Activation::kNone) return Status::Ok();
      return ActivationPass(op, call, ctx.stream);
    }
    // No algorithm (or a descriptor cuBLASLt refused): our kernel below.
  }
#else
  (void)workspace;
  (void)workspace_bytes;
#endif
  return RunTiled(op, call, ctx.stream);
}

Status ConvertFloats(const std::string& op, const float* in, void* out, DType to, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::Ok();
  if (to == DType::kFloat16)
    NarrowKernel<__half><<<BlocksFor(n), kThreads, 0, stream>>>(in, static_cast<__half*>(out), n);
  else if (to == DType::kBFloat16)
    NarrowKernel<__nv_bfloat16><<<BlocksFor(n), kThreads, 0, stream>>>(in, static_cast<__nv_bfloat16*>(out), n);
  else
    return UnsupportedDType(op, to);
  return LaunchStatus(op);
}

std::vector<uint16_t> NarrowOnHost(const float* in, int64_t n, DType to) {
  std::vector<uint16_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (to == DType::kFloat16) {
      const __half h = __float2half_rn(in[i]);
      out[i] = __half_as_ushort(h);
    } else {
      const __nv_bfloat16 h = __float2bfloat16_rn(in[i]);
      out[i] = __bfloat16_as_ushort(h);
    }
  }
  return out;
}

}  // namespace maas::cuda
