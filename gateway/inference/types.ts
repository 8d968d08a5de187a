// The gateway's protocol-neutral inference request and result. HTTP, gRPC and
// WebSocket front ends decode into these and encode from them; the model
// manager and batcher see nothing else.
import type { KServeDatatype, NumericArray } from '../tensors/datatypes';

export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface InferInput {
  name: string;
  datatype: KServeDatatype;
  shape: number[]; // concrete, includes the batch dimension when the model batches
  data: NumericArray; // element count == product(shape); BOOL as Uint8Array
  parameters?: Parameters;
}

export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferRequest {
  id?: string;
  modelName: string;
  modelVersion?: string; // digits; undefined = latest ready version
  inputs: InferInput[];
  outputs?: RequestedOutput[]; // undefined = every model output
  parameters: Parameters;
  // Schedule policy (PROTOCOL.md 1.6), already validated by the decoder.
  priority: number; // 0 = model default
  timeoutUs: number; // 0 = none
  // Aborted when the client goes away: queued work is dropped.
  signal?: AbortSignal;
}

export interface InferOutput {
  name: string;
  datatype: KServeDatatype;
  shape: number[];
  data: NumericArray;
}

// Phases of one request in microseconds, for Server-Timing and statistics.
export interface InferTiming {
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
  totalUs: number;
}

export interface InferResult {
  id?: string;
  modelName: string;
  modelVersion: string;
  outputs: InferOutput[]; // in the order requested, else model order
  timing: InferTiming;
}
