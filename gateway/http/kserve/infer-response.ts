// Encodes an InferResult as a KServe v2 HTTP inference response
// (docs/protocol.md "Inference",
// "Binary tensor data"): JSON with flat `data`, or, for outputs asked for
// as binary, a JSON header followed by the blobs in output order.
import { constants as bufferConstants } from 'node:buffer';
import { MaasError } from '../../../common/errors';
import type { InferOutput, InferResult, RequestedOutput } from '../../inference/types';
import { blobBytes } from '../../inference/tensor-bytes';
import type { OutputEncoding } from './infer-request';
import { writeJsonData } from './json-codec';

export interface EncodedInferResponse {
  // JSON-only answers stay a string: uWS writes it as UTF-8 itself, so no
  // Buffer is made per answer here.
  body: Buffer | string;
  contentType: 'application/json' | 'application/octet-stream';
  headerLengthBytes?: number; // Inference-Header-Content-Length, when any output is binary
}

export interface EncodeContext {
  id?: string; // the request's id, echoed only when given
  requestedOutputs?: RequestedOutput[];
  outputEncoding: OutputEncoding;
}

export function encodeInferResponse(result: InferResult, context: EncodeContext): EncodedInferResponse {
  const outputs = selectOutputs(result.outputs, context.requestedOutputs);
  const { defaultBinary, binaryByName } = context.outputEncoding;
  checkJsonSize(outputs, (output) => !(binaryByName.get(output.name) ?? defaultBinary));
  const blobs: Buffer[] = [];
  const outputTexts = outputs.map((output) => {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":${JSON.stringify(output.shape)}`;
    if (binaryByName.get(output.name) ?? defaultBinary) {
      const bytes = blobBytes(output.data);
      blobs.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    }
    return `${head},"data":${writeJsonData(output.data, output.datatype)}}`;
  });
  const idText = context.id !== undefined ? `,"id":${JSON.stringify(context.id)}` : '';
  const json = `{"model_name":${JSON.stringify(result.modelName)},"model_version":${JSON.stringify(String(result.modelVersion))}${idText},"outputs":[${outputTexts.join(',')}]}`;
  if (blobs.length === 0) return { body: json, contentType: 'application/json' };
  const header = Buffer.from(json);
  return {
    body: Buffer.concat([header, ...blobs]),
    contentType: 'application/octet-stream',
    headerLengthBytes: header.byteLength,
  };
}

// The longest text one element can take in JSON, with its comma: the widest
// float ("-2.2250738585072014e-308"), integer or "false". A JS string holds
// at most MAX_JSON_CHARS, so outputs that might not fit are refused before
// any text is built, pointing to binary output.
const MAX_ELEMENT_CHARS: Record<string, number> = {
  BOOL: 6,
  INT8: 5,
  UINT8: 4,
  INT16: 7,
  UINT16: 6,
  INT32: 12,
  UINT32: 11,
  INT64: 21,
  UINT64: 21,
  FP32: 25,
  FP64: 25,
};
const MAX_JSON_CHARS = bufferConstants.MAX_STRING_LENGTH - 1024 * 1024; // room for the names and shapes

function checkJsonSize(outputs: InferOutput[], asJson: (output: InferOutput) => boolean): void {
  let chars = 0;
  for (const output of outputs) {
    if (asJson(output)) chars += output.data.length * (MAX_ELEMENT_CHARS[output.datatype] ?? 25);
  }
  if (chars <= MAX_JSON_CHARS) return;
  const names = outputs
    .filter(asJson)
    .map((o) => `'${o.name}' (${o.data.length} elements)`)
    .join(', ');
  throw new MaasError(
    'OUTPUT_TOO_LARGE',
    `outputs ${names} are too large to send as JSON (up to ${chars} characters, ` +
      `more than a response can hold); ask for them in binary: parameters.binary_data_output = true, ` +
      `or outputs[].parameters.binary_data = true`,
  );
}

// Requested outputs filter and order the response; otherwise model order.
function selectOutputs(outputs: InferOutput[], requested: RequestedOutput[] | undefined): InferOutput[] {
  if (!requested) return outputs;
  const byName = new Map(outputs.map((o) => [o.name, o]));
  return requested.map(({ name }) => {
    const output = byName.get(name);
    if (!output) throw new MaasError('INVALID_REQUEST', `the model produced no output '${name}'`);
    return output;
  });
}
