// Decodes a KServe v2 HTTP inference request (docs/protocol.md
// "Inference", "Parameters", "Binary tensor data")
// into the protocol-neutral InferRequest: the JSON header (the whole body, or
// its first Inference-Header-Content-Length bytes), then one binary blob per
// input that declares parameters.binary_data_size, in input order. A header
// length of 0 means the body is the raw tensor of the model's only input.
import { MaasError } from '../../../common/errors';
import type { InferInput, InferRequest, Parameters, RequestedOutput } from '../../inference/types';
import type { CancelSignal } from '../../inference/cancel';
import type { ModelMetadata } from '../../inference/model-types';
import {
  DATATYPES,
  elementCount as shapeElementCount,
  isKServeDatatype,
  type KServeDatatype,
} from '../../inference/datatypes';
import { viewBlob } from '../../inference/tensor-bytes';
import { readJsonData, tensorSinkFor } from './json-codec';
import { readInferenceJson } from './json-reader';

// How the response should carry each output.
export interface OutputEncoding {
  defaultBinary: boolean; // binary_data_output, or raw-body mode
  binaryByName: ReadonlyMap<string, boolean>; // a requested output's binary_data
}

export interface DecodedInferRequest {
  request: InferRequest;
  outputEncoding: OutputEncoding;
}

// What raw-body mode needs to know about the model.
export interface RawModelInfo {
  metadata: ModelMetadata;
  maxBatchSize: number;
}

export interface DecodeOptions {
  modelName: string;
  modelVersion?: string;
  headerLength: string; // the Inference-Header-Content-Length header, '' when absent
  cancel?: CancelSignal;
  describeModel: () => RawModelInfo; // called only in raw-body mode
}

// Request-level names the protocol reserves; those we act on are parsed,
// the others (sequences, header forwarding) are refused.
const RESERVED_REQUEST_PARAMETERS = new Set([
  'sequence_id',
  'sequence_start',
  'sequence_end',
  'priority',
  'timeout',
  'headers',
  'binary_data_output',
]);
const SHARED_MEMORY_PARAMETERS = new Set(['shared_memory_region', 'shared_memory_offset', 'shared_memory_byte_size']);

type Json = Record<string, unknown>;

export function decodeInferRequest(body: Buffer, options: DecodeOptions): DecodedInferRequest {
  const headerBytes = parseHeaderLength(options.headerLength, body.byteLength);
  if (headerBytes === 0) return decodeRawBody(body, options);
  const jsonBytes = headerBytes ?? body.byteLength;
  const root = parseJson(body, jsonBytes);
  if (!isObject(root)) throw invalid('the request body must be a JSON object');

  if (root.id !== undefined && typeof root.id !== 'string') throw invalid("'id' must be a string");
  const { custom, priority, timeoutUs, binaryDataOutput } = readRequestParameters(root.parameters);

  if (!Array.isArray(root.inputs) || root.inputs.length === 0) throw invalid("'inputs' must be a non-empty array");
  const pending = root.inputs.map((raw, index) => readInputHeader(raw, index));
  assertUnique(
    pending.map((p) => p.name),
    'input',
  );

  // Blobs follow the JSON back to back, in the order of the binary inputs.
  const blobBytes = body.byteLength - jsonBytes;
  let declaredBytes = 0;
  for (const p of pending) if (p.binaryBytes !== undefined) declaredBytes += p.binaryBytes;
  if (declaredBytes !== blobBytes) {
    throw new MaasError(
      'INVALID_BINARY',
      `binary inputs declare ${declaredBytes} bytes but the body has ${blobBytes} bytes after the ${jsonBytes}-byte JSON header`,
    );
  }
  let offset = jsonBytes;
  const inputs: InferInput[] = pending.map((p) => {
    const input: InferInput = { name: p.name, datatype: p.datatype, shape: p.shape, data: undefined as never };
    if (p.parameters) input.parameters = p.parameters;
    if (p.binaryBytes === undefined) {
      // A JSON number takes at least one byte: a bigger count cannot match.
      if (p.elementCount > jsonBytes) throw countMismatch(p.name, p.elementCount);
      input.data = readJsonData(p.data, p.datatype, p.elementCount, p.name);
      return input;
    }
    const expectedBytes = p.elementCount * DATATYPES[p.datatype].sizeBytes;
    if (p.binaryBytes !== expectedBytes) {
      throw new MaasError(
        'INVALID_BINARY',
        `input '${p.name}': binary_data_size is ${p.binaryBytes} but shape [${p.shape}] of ${p.datatype} needs ${expectedBytes} bytes`,
      );
    }
    input.data = viewBlob(body, offset, p.binaryBytes, p.datatype, p.name);
    offset += p.binaryBytes;
    return input;
  });

  const { outputs, binaryByName } = readRequestedOutputs(root.outputs);
  const request: InferRequest = {
    modelName: options.modelName,
    inputs,
    parameters: custom,
    priority,
    timeoutUs,
  };
  if (root.id !== undefined) request.id = root.id;
  if (options.modelVersion !== undefined) request.modelVersion = options.modelVersion;
  if (outputs) request.outputs = outputs;
  if (options.cancel) request.cancel = options.cancel;
  return { request, outputEncoding: { defaultBinary: binaryDataOutput, binaryByName } };
}

// The Inference-Header-Content-Length value: undefined when absent.
export function parseHeaderLength(value: string, bodyBytes: number): number | undefined {
  if (value === '') return undefined;
  const trimmed = value.trim();
  if (!/^[0-9]+$/.test(trimmed)) {
    throw new MaasError('INVALID_BINARY', `Inference-Header-Content-Length '${value}' is not a non-negative integer`);
  }
  // Compared as digits, so 400 nines stay a number (not Infinity) in the message.
  const digits = trimmed.replace(/^0+(?=[0-9])/, '');
  const bytes = digits.length <= 15 ? Number(digits) : Infinity;
  if (bytes > bodyBytes) {
    const shown = digits.length <= 20 ? digits : `${digits.slice(0, 20)}… (${digits.length} digits)`;
    throw new MaasError(
      'INVALID_BINARY',
      `Inference-Header-Content-Length ${shown} is larger than the ${bodyBytes}-byte body`,
    );
  }
  return bytes;
}

interface InputHeader {
  name: string;
  datatype: KServeDatatype;
  shape: number[];
  elementCount: number;
  data: unknown;
  binaryBytes?: number;
  parameters?: Parameters;
}

function readInputHeader(raw: unknown, index: number): InputHeader {
  if (!isObject(raw)) throw invalid(`inputs[${index}] must be an object`);
  if (typeof raw.name !== 'string' || raw.name === '')
    throw invalid(`inputs[${index}].name must be a non-empty string`);
  const name = raw.name;
  const shape = readShape(raw.shape, name);
  const datatype = readDatatype(raw.datatype, name);

  const parameters = readParameters(raw.parameters, `input '${name}'`);
  let binaryBytes: number | undefined;
  let usesSharedMemory = false;
  let custom: Parameters | undefined;
  for (const [key, value] of Object.entries(parameters)) {
    if (key === 'binary_data_size') {
      if (!isUint(value)) throw badParameter(`input '${name}': binary_data_size must be a non-negative integer`);
      binaryBytes = value;
    } else if (SHARED_MEMORY_PARAMETERS.has(key)) {
      usesSharedMemory = true;
    } else {
      (custom ??= {})[key] = value;
    }
  }
  const sources = (raw.data !== undefined ? 1 : 0) + (binaryBytes !== undefined ? 1 : 0) + (usesSharedMemory ? 1 : 0);
  if (sources !== 1) {
    throw invalid(
      `input '${name}' must have exactly one of 'data', parameters.binary_data_size or parameters.shared_memory_region`,
    );
  }
  if (usesSharedMemory) throw badParameter(`input '${name}': shared memory is not supported by this server`);
  if (datatype === 'BYTES') {
    throw new MaasError(
      'INVALID_DATATYPE',
      `input '${name}': BYTES tensors are not supported yet (the engine has no string type)`,
    );
  }
  const elementCount = shapeElementCount(shape);
  if (!Number.isSafeInteger(elementCount))
    throw new MaasError('INVALID_SHAPE', `input '${name}': shape [${shape}] is too large`);
  return { name, datatype, shape, elementCount, data: raw.data, binaryBytes, parameters: custom };
}

function readShape(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || !value.every((d) => isUint(d))) {
    throw invalid(`input '${name}': shape must be an array of non-negative integers`);
  }
  return value;
}

function readDatatype(value: unknown, name: string): KServeDatatype {
  if (typeof value !== 'string') throw invalid(`input '${name}': datatype must be a string`);
  if (!isKServeDatatype(value)) throw new MaasError('INVALID_DATATYPE', `input '${name}': unknown datatype '${value}'`);
  return value;
}

function readRequestParameters(value: unknown): {
  custom: Parameters;
  priority: number;
  timeoutUs: number;
  binaryDataOutput: boolean;
} {
  const parameters = readParameters(value, 'request');
  const custom: Parameters = {};
  let priority = 0;
  let timeoutUs = 0;
  let binaryDataOutput = false;
  for (const [key, v] of Object.entries(parameters)) {
    if (!RESERVED_REQUEST_PARAMETERS.has(key)) {
      custom[key] = v;
      continue;
    }
    switch (key) {
      case 'priority':
        if (!isUint(v)) throw badParameter('priority must be a non-negative integer');
        priority = v;
        break;
      case 'timeout':
        if (!isUint(v)) throw badParameter('timeout must be a non-negative integer (microseconds)');
        timeoutUs = v;
        break;
      case 'binary_data_output':
        if (typeof v !== 'boolean') throw badParameter('binary_data_output must be a boolean');
        binaryDataOutput = v;
        break;
      case 'sequence_id':
        // 0 or "" means "not part of a sequence", which is all we serve.
        if (v !== 0 && v !== '') throw badParameter('sequence batching is not supported (sequence_id)');
        break;
      case 'sequence_start':
      case 'sequence_end':
        if (v !== false) throw badParameter(`sequence batching is not supported (${key})`);
        break;
      default:
        throw badParameter(`'${key}' is a reserved parameter name`);
    }
  }
  return { custom, priority, timeoutUs, binaryDataOutput };
}

// Requests that name no outputs (most) share one empty map.
const NO_OUTPUT_ENCODINGS: ReadonlyMap<string, boolean> = new Map();

function readRequestedOutputs(value: unknown): {
  outputs?: RequestedOutput[];
  binaryByName: ReadonlyMap<string, boolean>;
} {
  if (value === undefined) return { binaryByName: NO_OUTPUT_ENCODINGS };
  const binaryByName = new Map<string, boolean>();
  if (!Array.isArray(value)) throw invalid("'outputs' must be an array");
  const outputs = value.map((raw, index): RequestedOutput => {
    if (!isObject(raw)) throw invalid(`outputs[${index}] must be an object`);
    if (typeof raw.name !== 'string' || raw.name === '')
      throw invalid(`outputs[${index}].name must be a non-empty string`);
    const name = raw.name;
    const output: RequestedOutput = { name };
    let custom: Parameters | undefined;
    for (const [key, v] of Object.entries(readParameters(raw.parameters, `output '${name}'`))) {
      if (key === 'binary_data') {
        if (typeof v !== 'boolean') throw badParameter(`output '${name}': binary_data must be a boolean`);
        binaryByName.set(name, v);
      } else if (key === 'classification') {
        throw badParameter(`output '${name}': classification is not supported by this server`);
      } else if (SHARED_MEMORY_PARAMETERS.has(key)) {
        throw badParameter(`output '${name}': shared memory is not supported by this server`);
      } else {
        (custom ??= {})[key] = v;
      }
    }
    if (custom) output.parameters = custom;
    return output;
  });
  assertUnique(
    outputs.map((o) => o.name),
    'output',
  );
  return { outputs, binaryByName };
}

// Parameters are string/number/bool values; user keys must not start with
// 'triton_' at any level.
function readParameters(value: unknown, where: string): Parameters {
  if (value === undefined) return {};
  if (!isObject(value)) throw badParameter(`${where}: parameters must be an object`);
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('triton_')) throw badParameter(`${where}: '${key}' is reserved (names starting with 'triton_')`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw badParameter(`${where}: parameter '${key}' must be a string, number or boolean`);
    }
  }
  return value as Parameters;
}

// Raw-body mode (docs/protocol.md "Binary tensor data"): the body is the only input's tensor,
// batch 1, at most one variable dimension after the batch dimension; every
// output comes back binary.
function decodeRawBody(body: Buffer, options: DecodeOptions): DecodedInferRequest {
  const { metadata, maxBatchSize } = options.describeModel();
  if (metadata.inputs.length !== 1) {
    throw invalid(
      `raw binary requests need a model with exactly one input; '${metadata.name}' has ${metadata.inputs.length}`,
    );
  }
  const input = metadata.inputs[0];
  const dims = maxBatchSize >= 1 ? input.shape.slice(1) : input.shape.slice();
  const variable = dims.filter((d) => d < 0).length;
  if (variable > 1) {
    throw invalid(
      `raw binary requests need at most one variable dimension; input '${input.name}' has shape [${input.shape}]`,
    );
  }
  const elementBytes = DATATYPES[input.datatype].sizeBytes;
  if (elementBytes === 0) {
    throw new MaasError('INVALID_DATATYPE', `input '${input.name}': ${input.datatype} tensors are not supported yet`);
  }
  const fixedBytes = dims.reduce((n, d) => (d < 0 ? n : n * d), 1) * elementBytes;
  if (variable === 1) {
    const free = fixedBytes === 0 ? (body.byteLength === 0 ? 0 : NaN) : body.byteLength / fixedBytes;
    if (!Number.isInteger(free)) {
      throw new MaasError(
        'INVALID_BINARY',
        `raw body of ${body.byteLength} bytes is not a whole number of rows of ${fixedBytes} bytes for input '${input.name}'`,
      );
    }
    dims[dims.indexOf(-1)] = free;
  } else if (body.byteLength !== fixedBytes) {
    throw new MaasError(
      'INVALID_BINARY',
      `raw body has ${body.byteLength} bytes; input '${input.name}' needs ${fixedBytes}`,
    );
  }
  const shape = maxBatchSize >= 1 ? [1, ...dims] : dims;
  const request: InferRequest = {
    modelName: options.modelName,
    inputs: [
      {
        name: input.name,
        datatype: input.datatype,
        shape,
        data: viewBlob(body, 0, body.byteLength, input.datatype, input.name),
      },
    ],
    parameters: {},
    priority: 0,
    timeoutUs: 0,
  };
  if (options.modelVersion !== undefined) request.modelVersion = options.modelVersion;
  if (options.cancel) request.cancel = options.cancel;
  return { request, outputEncoding: { defaultBinary: true, binaryByName: NO_OUTPUT_ENCODINGS } };
}

// Bounded (json-reader.ts): input data comes back as JsonDataSpans that
// readJsonData reads straight into typed arrays.
function parseJson(body: Buffer, jsonBytes: number): unknown {
  return readInferenceJson(body, jsonBytes, tensorSinkFor);
}

function assertUnique(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw invalid(`${what} '${name}' appears more than once`);
    seen.add(name);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function invalid(message: string): MaasError {
  return new MaasError('INVALID_REQUEST', message);
}

function badParameter(message: string): MaasError {
  return new MaasError('INVALID_PARAMETER', message);
}

function countMismatch(name: string, elementCount: number): MaasError {
  return new MaasError(
    'INVALID_SHAPE',
    `input '${name}': the shape calls for ${elementCount} elements, more than 'data' can hold`,
  );
}
