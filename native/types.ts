// The engine's JS API types (the contract of native/index.ts).
import type { EngineTensorType, NumericArray } from '../gateway/tensors/datatypes';

export type TensorType = EngineTensorType;

// A dense row-major tensor. `data` is the TypedArray of `type`:
// Float32Array, Float64Array, Int8Array, Uint8Array (uint8 and bool),
// Int16Array, Uint16Array (uint16, and float16 and bfloat16 as their bits), Int32Array, Uint32Array,
// BigInt64Array (int64), BigUint64Array (uint64).
export interface Tensor {
  type: TensorType;
  dims: number[];
  data: NumericArray;
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
  id: number;
  name: string;
  totalMemoryBytes: number;
  computeCapability: string; // "9.0"
}
