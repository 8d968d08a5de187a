// The WebSocket streaming protocol's messages (docs/websocket.md):
// MessagePack maps in binary frames, JSON objects in text frames, the same
// fields in both. Client → server: infer, cancel, ping, auth. Server →
// client: result, error, pong. Tensor data is raw little-endian bytes in
// MessagePack and a flat array in JSON; JSON data is read and written by
// the KServe JSON codec, so its rules (ranges, non-finite floats) hold here too.
import { Packr, Unpackr } from 'msgpackr';
import { MaasError } from '../../common/errors';
import type { CancelSignal } from '../inference/cancel';
import { DATATYPES, elementCount, isKServeDatatype } from '../inference/datatypes';
import {
  assertUnique,
  badParameter,
  isUint,
  readParameters,
  readRequestParameters,
} from '../inference/request-parameters';
import { blobBytes, viewBlob } from '../inference/tensor-bytes';
import type { InferInput, InferRequest, InferResult, RequestedOutput } from '../inference/types';
import { readJsonData, writeJsonData } from '../http/kserve/json-codec';

export type RequestId = string | number;

export type ClientMessage =
  | { type: 'infer'; id: RequestId; body: Record<string, unknown> }
  | { type: 'cancel'; id: RequestId }
  | { type: 'ping' }
  | { type: 'auth'; token: string };

// Plain MessagePack both ways (no msgpackr records), so any MessagePack
// library can talk to us.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });

const MAX_ID_CHARS = 200;

// A frame → a message. MALFORMED_MESSAGE when it is not MessagePack/JSON;
// INVALID_REQUEST when it is, but not one of ours.
export function parseFrame(frame: Buffer, binary: boolean): ClientMessage {
  let value: unknown;
  try {
    value = binary ? unpackr.unpack(frame) : JSON.parse(frame.toString('utf8'));
  } catch (err) {
    throw new MaasError(
      'MALFORMED_MESSAGE',
      `the ${binary ? 'binary frame is not MessagePack' : 'text frame is not JSON'}: ${(err as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MaasError('INVALID_REQUEST', 'a message must be a map (MessagePack) or an object (JSON)');
  }
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'infer':
      return { type: 'infer', id: readId(message.id), body: message };
    case 'cancel':
      return { type: 'cancel', id: readId(message.id) };
    case 'ping':
      return { type: 'ping' };
    case 'auth':
      if (typeof message.token !== 'string') throw new MaasError('INVALID_REQUEST', "'token' must be a string");
      return { type: 'auth', token: message.token };
    default:
      throw new MaasError('INVALID_REQUEST', `unknown message type '${String(message.type)}'`);
  }
}

// The id of a message refused before its id was read, when it has a
// usable one (so the client can still match the error).
export function peekId(frame: Buffer, binary: boolean): RequestId | undefined {
  let value: unknown;
  try {
    value = binary ? unpackr.unpack(frame) : JSON.parse(frame.toString('utf8'));
  } catch {
    return undefined;
  }
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : undefined;
}

function readId(value: unknown): RequestId {
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_CHARS) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new MaasError('INVALID_REQUEST', `'id' must be a non-empty string (≤ ${MAX_ID_CHARS} chars) or an integer`);
}

// An infer message → the protocol-neutral request.
export function decodeWsInferRequest(
  body: Record<string, unknown>,
  binary: boolean,
  cancel: CancelSignal,
): InferRequest {
  if (typeof body.model !== 'string' || body.model === '') throw invalid("'model' must be a non-empty string");
  let version: string | undefined;
  if (body.version !== undefined && body.version !== '') {
    if (typeof body.version !== 'string' || !/^[0-9]+$/.test(body.version))
      throw invalid("'version' must be a string of digits");
    version = body.version;
  }
  const { custom, priority, timeoutUs } = readRequestParameters(body.parameters);
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw invalid("'inputs' must be a non-empty array");
  const inputs = body.inputs.map((raw, index) => readInput(raw, index, binary));
  assertUnique(
    inputs.map((i) => i.name),
    'input',
  );
  const request: InferRequest = { modelName: body.model, inputs, parameters: custom, priority, timeoutUs, cancel };
  if (version !== undefined) request.modelVersion = version;
  if (body.outputs !== undefined) request.outputs = readOutputs(body.outputs);
  return request;
}

function readInput(raw: unknown, index: number, binary: boolean): InferInput {
  if (typeof raw !== 'object' || raw === null) throw invalid(`inputs[${index}] must be a map`);
  const input = raw as Record<string, unknown>;
  if (typeof input.name !== 'string' || input.name === '')
    throw invalid(`inputs[${index}].name must be a non-empty string`);
  const name = input.name;
  if (!isKServeDatatype(input.datatype)) {
    throw new MaasError('INVALID_DATATYPE', `input '${name}': unknown datatype '${String(input.datatype)}'`);
  }
  const datatype = input.datatype;
  if (!Array.isArray(input.shape) || !input.shape.every(isUint)) {
    throw invalid(`input '${name}': shape must be an array of non-negative integers`);
  }
  const shape = input.shape;
  const count = elementCount(shape);
  if (!Number.isSafeInteger(count))
    throw new MaasError('INVALID_SHAPE', `input '${name}': shape [${shape}] is too large`);
  if (datatype === 'BYTES') {
    throw new MaasError(
      'INVALID_DATATYPE',
      `input '${name}': BYTES tensors are not supported yet (the engine has no string type)`,
    );
  }
  let data: InferInput['data'];
  if (input.data instanceof Uint8Array) {
    const expectedBytes = count * DATATYPES[datatype].sizeBytes;
    if (input.data.byteLength !== expectedBytes) {
      throw new MaasError(
        'INVALID_SHAPE',
        `input '${name}': data has ${input.data.byteLength} bytes but shape [${shape}] of ${datatype} needs ${expectedBytes}`,
      );
    }
    data = viewBlob(input.data, 0, expectedBytes, datatype, name);
  } else if (Array.isArray(input.data)) {
    data = readJsonData(input.data, datatype, count, name);
  } else {
    throw invalid(`input '${name}': data must be ${binary ? 'a byte array (bin) or ' : ''}a flat array`);
  }
  const result: InferInput = { name, datatype, shape, data };
  if (input.parameters !== undefined) result.parameters = readParameters(input.parameters, `input '${name}'`);
  return result;
}

function readOutputs(value: unknown): RequestedOutput[] {
  if (!Array.isArray(value)) throw invalid("'outputs' must be an array");
  const outputs = value.map((raw, index): RequestedOutput => {
    const o = raw as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || o.name === '')
      throw invalid(`outputs[${index}].name must be a non-empty string`);
    const output: RequestedOutput = { name: o.name };
    if (o.parameters !== undefined) {
      const parameters = readParameters(o.parameters, `output '${o.name}'`);
      if ('classification' in parameters) throw badParameter(`output '${o.name}': classification is not supported`);
      output.parameters = parameters;
    }
    return output;
  });
  assertUnique(
    outputs.map((o) => o.name),
    'output',
  );
  return outputs;
}

// A result message, in the encoding of the request; `final` is false on all
// but the last answer of a decoupled model.
export function encodeResult(id: RequestId, result: InferResult, binary: boolean, final = true): Buffer | string {
  if (binary) {
    return packr.pack({
      type: 'result',
      id,
      model: result.modelName,
      version: result.modelVersion,
      outputs: result.outputs.map((o) => ({
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        data: blobBytes(o.data),
      })),
      final,
    });
  }
  const outputs = result.outputs.map(
    (o) =>
      `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}],"data":${writeJsonData(o.data, o.datatype)}}`,
  );
  return `{"type":"result","id":${JSON.stringify(id)},"model":${JSON.stringify(result.modelName)},"version":${JSON.stringify(result.modelVersion)},"outputs":[${outputs.join(',')}],"final":${final}}`;
}

// An error message: the project's code and the HTTP status it has on HTTP.
export function encodeError(id: RequestId | undefined, error: MaasError, binary: boolean): Buffer | string {
  const message: Record<string, unknown> = {
    type: 'error',
    code: error.code,
    status: error.httpStatus,
    message: error.message,
  };
  if (id !== undefined) message.id = id;
  return binary ? packr.pack(message) : JSON.stringify(message);
}

export function encodePong(binary: boolean): Buffer | string {
  return binary ? packr.pack({ type: 'pong' }) : '{"type":"pong"}';
}

function invalid(message: string): MaasError {
  return new MaasError('INVALID_REQUEST', message);
}
