// The engine's JS API types (the contract of native/index.ts). The engine
// owns its tensor type: nothing here (or anywhere under native/) imports
// from the gateway; the gateway maps its protocol datatypes onto these
// (gateway/inference/datatypes.ts).

// Element types, by the engine's names (native/src/tensor.cc DTypeName).
export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

// The typed arrays tensors travel in (TENSOR_TYPES below says which for which).
export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

// The one TypeScript table of the engine's element types: bytes per element
// and the TypedArray each travels in (float16 and bfloat16 as their bits,
// bool as bytes).
// The addon reports its own table (engineTables()); a test keeps the two in
// step (native/test/engine_api.test.ts).
export const TENSOR_TYPES: Readonly<Record<TensorType, { sizeBytes: number; array: TypedArrayConstructor }>> = {
  float32: { sizeBytes: 4, array: Float32Array },
  float64: { sizeBytes: 8, array: Float64Array },
  float16: { sizeBytes: 2, array: Uint16Array },
  bfloat16: { sizeBytes: 2, array: Uint16Array },
  int8: { sizeBytes: 1, array: Int8Array },
  uint8: { sizeBytes: 1, array: Uint8Array },
  int16: { sizeBytes: 2, array: Int16Array },
  uint16: { sizeBytes: 2, array: Uint16Array },
  int32: { sizeBytes: 4, array: Int32Array },
  uint32: { sizeBytes: 4, array: Uint32Array },
  int64: { sizeBytes: 8, array: BigInt64Array },
  uint64: { sizeBytes: 8, array: BigUint64Array },
  bool: { sizeBytes: 1, array: Uint8Array },
};

// A dense row-major tensor. `data` is the TypedArray of `type`:
// Float32Array, Float64Array, Int8Array, Uint8Array (uint8 and bool),
// Int16Array, Uint16Array (uint16, and float16 and bfloat16 as their bits), Int32Array, Uint32Array,
// BigInt64Array (int64), BigUint64Array (uint64).
export interface Tensor {
  type: TensorType;
  dims: number[];
  data: TypedArray;
}

export interface TensorMetadata {
  name: string;
  type: TensorType;
  dims: number[]; // -1 where unknown at load time
}

// Where a model runs: the host CPU or one CUDA device by ordinal.
export type DeviceName = 'cpu' | `cuda:${number}`;

export interface LoadOptions {
  // Threads one run may use at once, counting the thread that runs it;
  // default: the number of CPU cores. Every session shares one process-wide
  // pool of workers; this caps a session's share (docs/engine.md).
  intraOpThreads?: number;
  // Largest tensor one run may allocate, output or intermediate (bytes).
  // Checked before anything is allocated: a run whose inputs would need more
  // rejects with OUTPUT_TOO_LARGE. Default 2 GiB; capped to what JS can
  // receive (Buffer's kMaxLength, 4 GiB in Node 20).
  maxTensorBytes?: number;
  // Default 'cpu'. A device this build or machine lacks rejects the load
  // with ENGINE_UNSUPPORTED.
  device?: DeviceName;
  // The precision a GPU session runs float32 math in (weights converted at
  // load); inputs and outputs keep their dtypes. Default 'fp32'. The CPU
  // always computes in float32.
  precision?: Precision;
}

// Memory of one execution plan: the engine builds one per distinct set of
// input shapes (e.g. per batch size) and caches it.
export interface PlanMemory {
  inputDims: Record<string, number[]>; // the input shapes this plan serves
  arenaBytes: number; // one run's intermediates, laid out by liveness
  outputBytes: number; // the outputs one run hands back
}

export interface SessionMemory {
  // Constants the model reads (weights, folded values) plus what the backend
  // derived from them at load (e.g. pre-packed GEMM weights).
  weightsBytes: number;
  // Arena memory held for reuse: about the largest plan's arenaBytes times
  // the runs that ran at once.
  arenaReservedBytes: number;
  plans: PlanMemory[]; // cached plans, most recently used first
}

export interface Session {
  readonly inputMetadata: TensorMetadata[];
  readonly outputMetadata: TensorMetadata[];
  readonly device: DeviceName;
  // Runs off the JS thread on copies of the inputs, so the caller may reuse,
  // detach or transfer its arrays at once. Rejects with an Error whose `code`
  // is one of the ENGINE_* codes of common/errors.ts, or OUTPUT_TOO_LARGE.
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  // What the session holds now (a scheduler places models by these numbers).
  // Throws ENGINE_RELEASED after release().
  memory(): SessionMemory;
  // Builds (or finds) the plan for these input shapes without running it and
  // reports its memory: size a model at its largest batch before traffic.
  planMemory(inputDims: Record<string, number[]>): Promise<PlanMemory>;
  // Frees the native model; later runs reject with ENGINE_RELEASED.
  release(): void;
}

export interface DeviceInfo {
  id: number; // the N of 'cuda:N'
  name: string;
  uuid: string; // "GPU-xxxxxxxx-...", the gpu_uuid label of the nv_gpu_* metrics
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  computeCapability: string; // "9.0"
  driverVersion: number; // CUDA's form: 13000 is 13.0
  runtimeVersion: number; // the CUDA runtime built into the addon
  utilizationPercent: number; // from NVML; -1 when unknown
  memoryUsedBytes: number; // from NVML, every process's; -1 when unknown
}

// One device's caching allocator (docs/cuda.md, "Memory").
export interface DeviceMemoryStats {
  device: number;
  inUseBytes: number; // handed out to tensors and not yet given back
  reservedBytes: number; // held from the driver: in use plus cached
  peakInUseBytes: number;
  pinnedHostBytes: number; // pinned staging buffers of the device's streams
  allocations: number;
  driverAllocations: number; // allocations that reached cudaMalloc (cache misses)
}

export type Precision = 'fp32' | 'fp16' | 'bf16';
