// POST /v2/models/{m}[/versions/{v}]/infer: read the body, decode (KServe
// JSON or binary), run through the serving layer, encode, answer with
// Server-Timing. The hot path: nothing here allocates per request beyond
// what the request itself needs.
import { performance } from 'node:perf_hooks';
import type { InferResult } from '../../inference/types';
import { readBody } from '../body';
import { MIN_COMPRESS_BYTES, compress, pickEncoding, type ResponseEncoding } from '../compress';
import type { Exchange, HttpFrontEnd } from '../exchange';
import { decodeInferRequest } from '../kserve/infer-request';
import { encodeInferResponse } from '../kserve/infer-response';
import type { RequestHead } from '../request-head';

// Sync part: must attach the body reader before the handler returns.
export function startInfer(
  fe: HttpFrontEnd,
  ex: Exchange,
  head: RequestHead,
  model: string,
  version: string | undefined,
): void {
  const admitted = fe.begin(ex, head, 'infer', model, version);
  const encoding = head.acceptEncoding === '' ? null : pickEncoding(head.acceptEncoding);
  const body = readBody(ex.responder, fe.bodyOptions(head, fe.maxBodyBytes));
  void infer(fe, ex, admitted, body, head.inferenceHeaderLength, encoding, model, version);
}

async function infer(
  fe: HttpFrontEnd,
  ex: Exchange,
  admitted: void | Promise<void>,
  bodyPromise: Promise<Buffer>,
  headerLength: string,
  encoding: ResponseEncoding,
  model: string,
  version: string | undefined,
): Promise<void> {
  const { serving } = fe.deps;
  let result: InferResult | undefined;
  try {
    if (admitted) await admitted;
    const body = await bodyPromise;
    // An unknown model is a 404 whatever the body (config() throws as metadata() would).
    const config = serving.config(model, version);
    const decoded = decodeInferRequest(body, {
      modelName: model,
      modelVersion: version,
      headerLength,
      cancel: ex.responder.signal,
      describeModel: () => ({ metadata: serving.metadata(model, version), maxBatchSize: config.max_batch_size }),
    });
    if (ex.call) decoded.request.call = ex.call;
    result = await serving.infer(decoded.request);
    if (ex.responder.aborted) {
      fe.succeed(ex, result.batchSize);
      return;
    }
    const encoded = encodeInferResponse(result, {
      id: decoded.request.id,
      requestedOutputs: decoded.request.outputs,
      outputEncoding: decoded.outputEncoding,
    });
    const headers = fe.baseHeaders(ex);
    headers.push(['Content-Type', encoded.contentType], ['Server-Timing', serverTiming(ex, result)]);
    if (encoded.headerLengthBytes !== undefined) {
      // The JSON length before compression, as Triton's clients expect.
      headers.push(['Inference-Header-Content-Length', String(encoded.headerLengthBytes)]);
    }
    let payload: Uint8Array | string = encoded.body;
    if (encoding && payload.length >= MIN_COMPRESS_BYTES) {
      payload = await compress(typeof payload === 'string' ? Buffer.from(payload) : payload, encoding);
      headers.push(['Content-Encoding', encoding]);
    }
    ex.responder.send(200, headers, payload);
    fe.succeed(ex, result.batchSize);
  } catch (err) {
    fe.sendError(ex, err, [['Server-Timing', serverTiming(ex, result)]]);
  }
}

// Server-Timing (docs/protocol.md "Extensions on every route"), milliseconds.
function serverTiming(ex: Exchange, result: InferResult | undefined): string {
  const total = `total;dur=${ms3(performance.now() - ex.startedMs)}`;
  if (!result) return total;
  const { queueUs, computeInferUs } = result.timing;
  return `queue;dur=${ms3(queueUs / 1000)}, infer;dur=${ms3(computeInferUs / 1000)}, ${total}`;
}

function ms3(valueMs: number): number {
  return Math.round(valueMs * 1000) / 1000;
}
