// ModelInferRequest → InferRequest and InferResult → ModelInferResponse
// (docs/grpc.md "Inference"). Inputs come either all as raw bytes
// (`raw_input_contents`, one entry per input, in input order) or all as
// typed `contents`, never mixed; answers always use `raw_output_contents`,
// one entry per output, as Triton does. Parameters go through the same
// reader as HTTP's (inference/request-parameters.ts).
import { MaasError } from '../../common/errors';
import { DATATYPES, elementCount, isKServeDatatype, type KServeDatatype } from '../inference/datatypes';
import type { CancelSignal } from '../inference/cancel';
import {
  SHARED_MEMORY_PARAMETERS,
  assertUnique,
  badParameter,
  readParameters,
  readRequestParameters,
} from '../inference/request-parameters';
import { blobBytes, viewBlob } from '../inference/tensor-bytes';
import type { InferInput, InferRequest, InferResult, Parameters, RequestedOutput } from '../inference/types';

// The wire shapes as @grpc/proto-loader hands them over (keepCase, int64 as
// decimal strings, oneofs named); only what the codec reads.
export interface WireParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}
export type WireParameters = Record<string, WireParameter>;

export interface WireContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface WireInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: WireParameters;
  inputs?: Array<{
    name?: string;
    datatype?: string;
    shape?: string[];
    parameters?: WireParameters;
    contents?: WireContents;
  }>;
  outputs?: Array<{ name?: string; parameters?: WireParameters }>;
  raw_input_contents?: Buffer[];
}

export interface WireInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, { bool_param: boolean }>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  raw_output_contents: Buffer[];
}

// Request parameters a gRPC stream reads for itself; taken out before the
// shared reader (which refuses every `triton_*` name).
export interface StreamFlags {
  enableEmptyFinalResponse: boolean;
}

export interface DecodedGrpcRequest {
  request: InferRequest;
  stream: StreamFlags;
}

const TYPED_FIELDS: ReadonlyArray<keyof WireContents> = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

// Which typed field carries each datatype (FP16 and BF16: none, raw only).
const TYPED_FIELD_OF: Readonly<Record<KServeDatatype, keyof WireContents | null>> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: null,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
  BF16: null,
};

export function decodeGrpcInferRequest(wire: WireInferRequest, cancel?: CancelSignal): DecodedGrpcRequest {
  if (!wire.model_name) throw invalid("'model_name' must be given");
  const { parameters, stream } = splitStreamFlags(toParameters(wire.parameters));
  const { custom, priority, timeoutUs } = readRequestParameters(parameters);
  const wireInputs = wire.inputs ?? [];
  if (wireInputs.length === 0) throw invalid("'inputs' must not be empty");
  const raw = wire.raw_input_contents ?? [];
  if (raw.length !== 0 && raw.length !== wireInputs.length) {
    throw invalid(
      `raw_input_contents has ${raw.length} entries for ${wireInputs.length} inputs; give one per input, in input order`,
    );
  }
  const inputs = wireInputs.map((w, index): InferInput => {
    const name = w.name ?? '';
    if (name === '') throw invalid(`inputs[${index}].name must be a non-empty string`);
    if (!isKServeDatatype(w.datatype)) {
      throw new MaasError('INVALID_DATATYPE', `input '${name}': unknown datatype '${w.datatype ?? ''}'`);
    }
    const datatype = w.datatype;
    const shape = readShape(w.shape ?? [], name);
    const count = elementCount(shape);
    if (!Number.isSafeInteger(count))
      throw new MaasError('INVALID_SHAPE', `input '${name}': shape [${shape}] is too large`);
    const inputParameters = readInputParameters(w.parameters, name);
    if (datatype === 'BYTES') {
      throw new MaasError(
        'INVALID_DATATYPE',
        `input '${name}': BYTES tensors are not supported yet (the engine has no string type)`,
      );
    }
    const input: InferInput = {
      name,
      datatype,
      shape,
      data:
        raw.length !== 0
          ? rawData(raw[index], w.contents, datatype, shape, count, name)
          : typedData(w.contents, datatype, count, name),
    };
    if (inputParameters) input.parameters = inputParameters;
    return input;
  });
  assertUnique(
    inputs.map((i) => i.name),
    'input',
  );
  const request: InferRequest = { modelName: wire.model_name, inputs, parameters: custom, priority, timeoutUs };
  if (wire.model_version) request.modelVersion = wire.model_version;
  if (wire.id) request.id = wire.id;
  const outputs = readOutputs(wire.outputs);
  if (outputs) request.outputs = outputs;
  if (cancel) request.cancel = cancel;
  return { request, stream };
}

function rawData(
  bytes: Buffer,
  contents: WireContents | undefined,
  datatype: KServeDatatype,
  shape: number[],
  count: number,
  name: string,
): InferInput['data'] {
  if (hasTypedContents(contents)) {
    throw invalid(`input '${name}': contents and raw_input_contents cannot be mixed; use one or the other`);
  }
  const expectedBytes = count * DATATYPES[datatype].sizeBytes;
  if (bytes.byteLength !== expectedBytes) {
    throw new MaasError(
      'INVALID_SHAPE',
      `input '${name}': raw_input_contents has ${bytes.byteLength} bytes but shape [${shape}] of ${datatype} needs ${expectedBytes}`,
    );
  }
  return viewBlob(bytes, 0, bytes.byteLength, datatype, name);
}

function typedData(
  contents: WireContents | undefined,
  datatype: KServeDatatype,
  count: number,
  name: string,
): InferInput['data'] {
  const field = TYPED_FIELD_OF[datatype];
  if (field === null) {
    throw new MaasError(
      'UNSUPPORTED_ENCODING',
      `input '${name}': ${datatype} has no typed contents; use raw_input_contents`,
    );
  }
  for (const other of TYPED_FIELDS) {
    if (other !== field && (contents?.[other]?.length ?? 0) > 0) {
      throw new MaasError(
        'INVALID_DATATYPE',
        `input '${name}': ${other} given for a ${datatype} tensor (use ${field})`,
      );
    }
  }
  const values = (contents?.[field] ?? []) as ReadonlyArray<boolean | number | string>;
  if (values.length !== count) {
    throw new MaasError(
      'INVALID_SHAPE',
      `input '${name}': the shape calls for ${count} elements but ${field} holds ${values.length}`,
    );
  }
  const info = DATATYPES[datatype];
  const data = (info.view as NonNullable<typeof info.view>)(new ArrayBuffer(count * info.sizeBytes), 0, count);
  if (info.jsonKind === 'bigint') {
    const target = data as BigInt64Array | BigUint64Array;
    try {
      for (let i = 0; i < count; i++) target[i] = BigInt(values[i]);
    } catch {
      throw invalid(`input '${name}': ${field} holds a value that is not an integer`);
    }
  } else {
    const target = data as Exclude<InferInput['data'], BigInt64Array | BigUint64Array>;
    for (let i = 0; i < count; i++) target[i] = Number(values[i]);
  }
  return data;
}

function hasTypedContents(contents: WireContents | undefined): boolean {
  if (!contents) return false;
  for (const field of TYPED_FIELDS) if ((contents[field]?.length ?? 0) > 0) return true;
  return false;
}

function readShape(dims: readonly string[], name: string): number[] {
  const shape = new Array<number>(dims.length);
  for (let i = 0; i < dims.length; i++) {
    const d = Number(dims[i]);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw invalid(`input '${name}': shape must hold non-negative integers, got [${dims.join(',')}]`);
    }
    shape[i] = d;
  }
  return shape;
}

function readInputParameters(wire: WireParameters | undefined, name: string): Parameters | undefined {
  const parameters = readParameters(toParameters(wire), `input '${name}'`);
  let custom: Parameters | undefined;
  for (const [key, value] of Object.entries(parameters)) {
    if (SHARED_MEMORY_PARAMETERS.has(key))
      throw badParameter(`input '${name}': shared memory is not supported by this server`);
    (custom ??= {})[key] = value;
  }
  return custom;
}

function readOutputs(wire: WireInferRequest['outputs']): RequestedOutput[] | undefined {
  if (!wire || wire.length === 0) return undefined;
  const outputs = wire.map((w, index): RequestedOutput => {
    const name = w.name ?? '';
    if (name === '') throw invalid(`outputs[${index}].name must be a non-empty string`);
    const output: RequestedOutput = { name };
    let custom: Parameters | undefined;
    for (const [key, value] of Object.entries(readParameters(toParameters(w.parameters), `output '${name}'`))) {
      if (key === 'classification')
        throw badParameter(`output '${name}': classification is not supported by this server`);
      if (SHARED_MEMORY_PARAMETERS.has(key))
        throw badParameter(`output '${name}': shared memory is not supported by this server`);
      // binary_data is HTTP's: on gRPC every output is raw already.
      if (key !== 'binary_data') (custom ??= {})[key] = value;
    }
    if (custom) output.parameters = custom;
    return output;
  });
  assertUnique(
    outputs.map((o) => o.name),
    'output',
  );
  return outputs;
}

// InferParameter oneofs → plain values. int64/uint64 become numbers when
// JavaScript holds them exactly; beyond that they are refused, as HTTP's JSON.
export function toParameters(wire: WireParameters | undefined): Parameters | undefined {
  if (!wire) return undefined;
  const out: Parameters = {};
  for (const key of Object.keys(wire)) {
    const p = wire[key];
    switch (p.parameter_choice) {
      case 'bool_param':
        out[key] = p.bool_param === true;
        break;
      case 'string_param':
        out[key] = p.string_param ?? '';
        break;
      case 'double_param':
        out[key] = p.double_param ?? 0;
        break;
      case 'int64_param':
      case 'uint64_param': {
        const value = Number(p[p.parameter_choice]);
        if (!Number.isSafeInteger(value)) throw badParameter(`parameter '${key}' is outside ±(2^53 − 1)`);
        out[key] = value;
        break;
      }
      default:
        throw badParameter(`parameter '${key}' has no value`);
    }
  }
  return out;
}

function splitStreamFlags(parameters: Parameters | undefined): { parameters?: Parameters; stream: StreamFlags } {
  const stream: StreamFlags = { enableEmptyFinalResponse: false };
  if (!parameters || !('triton_enable_empty_final_response' in parameters)) return { parameters, stream };
  const { triton_enable_empty_final_response: flag, ...rest } = parameters;
  if (typeof flag !== 'boolean') throw badParameter('triton_enable_empty_final_response must be a boolean');
  stream.enableEmptyFinalResponse = flag;
  return { parameters: rest, stream };
}

// Every output as raw little-endian bytes (views over the result, no copy).
export function encodeGrpcInferResponse(result: InferResult, id: string | undefined): WireInferResponse {
  const outputs = new Array<WireInferResponse['outputs'][number]>(result.outputs.length);
  const raw = new Array<Buffer>(result.outputs.length);
  for (let i = 0; i < result.outputs.length; i++) {
    const o = result.outputs[i];
    outputs[i] = { name: o.name, datatype: o.datatype, shape: o.shape };
    raw[i] = blobBytes(o.data);
  }
  return {
    model_name: result.modelName,
    model_version: result.modelVersion,
    id: id ?? '',
    outputs,
    raw_output_contents: raw,
  };
}

function invalid(message: string): MaasError {
  return new MaasError('INVALID_REQUEST', message);
}
