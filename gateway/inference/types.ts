// The gateway's protocol-neutral inference request and result. HTTP, gRPC and
// WebSocket front ends decode into these and encode from them; the serving
// layer and the batcher see nothing else (docs/architecture.md).
import type { CallContext } from './call';
import type { CancelSignal } from './cancel';
import type { KServeDatatype, NumericArray } from './datatypes';

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
  modelVersion?: string; // digits; undefined = the model's default version
  inputs: InferInput[];
  outputs?: RequestedOutput[]; // undefined = every model output
  parameters: Parameters;
  // Schedule policy (docs/protocol.md "Parameters"), already validated by the decoder.
  priority: number; // 0 = model default; 1 is the highest
  timeoutUs: number; // queue timeout; 0 = none
  // Cancelled when the caller goes away (a closed connection, a cancelled
  // gRPC call, a WebSocket cancel): queued work is dropped.
  cancel?: CancelSignal;
  // The front end's pipeline call: request id, principal, trace context,
  // deadline (gateway/pipeline). Absent for in-process callers.
  call?: CallContext;
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
  batchSize: number; // this request's own batch size (its first dimension, or 1)
  timing: InferTiming;
}
