// Encodes an InferResult as a KServe v2 HTTP inference response
// (PROTOCOL.md 1.5, 1.8): JSON with flat `data`, or, for outputs asked for
// as binary, a JSON header followed by the blobs in output order.
import { MaasError } from '../../common/errors';
import type { InferOutput, InferResult, RequestedOutput } from '../inference/types';
import { blobBytes } from './binary-codec';
import type { OutputEncoding } from './infer-request';
import { writeJsonData } from './json-codec';

export interface EncodedInferResponse {
  body: Buffer;
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
  const header = Buffer.from(json);
  if (blobs.length === 0) return { body: header, contentType: 'application/json' };
  return {
    body: Buffer.concat([header, ...blobs]),
    contentType: 'application/octet-stream',
    headerLengthBytes: header.byteLength,
  };
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
