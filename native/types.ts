// The engine's JS API types (the contract of native/index.ts).
// eslint-disable-next-line no-restricted-imports -- type-only: the one datatype table lives in gateway/tensors until it moves to common/
import type { EngineTensorType, NumericArray } from '../gateway/tensors/datatypes';

export type TensorType = EngineTensorType;

// A dense row-major tensor. `data` is the TypedArray of `type`:
// Float32Array, Float64Array, Int8Array, Uint8Array (uint8 and bool),
// Int16Array, Uint16Array (uint16 and float16 bits), Int32Array, Uint32Array,
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

export interface LoadOptions {
  // Threads for one run's kernels (the caller's thread pool size); default:
  // the number of CPU cores.
  intraOpThreads?: number;
  // Largest tensor one run may allocate, output or intermediate (bytes).
  // Checked before anything is allocated: a run whose inputs would need more
  // rejects with OUTPUT_TOO_LARGE. Default 2 GiB; capped to what JS can
  // receive (Buffer's kMaxLength, 4 GiB in Node 20).
  maxTensorBytes?: number;
}

export interface Session {
  readonly inputMetadata: TensorMetadata[];
  readonly outputMetadata: TensorMetadata[];
  // Runs off the JS thread on copies of the inputs, so the caller may reuse,
  // detach or transfer its arrays at once. Rejects with an Error whose `code`
  // is one of the ENGINE_* codes of common/errors.ts, or OUTPUT_TOO_LARGE.
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  // Frees the native model; later runs reject with ENGINE_RELEASED.
  release(): void;
}

export interface DeviceInfo {
  id: number;
  name: string;
  totalMemoryBytes: number;
  computeCapability: string; // "9.0"
}
