// ModelStreamInfer (docs/grpc.md "Streaming"): a bidirectional stream of
// ModelInferRequest → ModelStreamInferResponse. Every request is its own
// pipeline call and runs concurrently with the others; answers go out as
// they finish (match them by `id`). A failed request answers
// `error_message` and the stream stays open. An ordinary model answers
// once; a decoupled one (serving/decoupled.ts) answers several times, in
// order, `triton_final_response` false on all but the last (an error is
// final too). The stream ends once the client has half-closed and every
// request has answered; a cancelled stream cancels what is still queued.
// Owner of the stream: this handler (the only writer).
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { Cancellation } from '../inference/cancel';
import { checkWellFormed, openCall, type GrpcDeps } from './calls';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type WireInferRequest,
  type WireInferResponse,
} from './infer-codec';
import { MalformedMessage } from './proto';

type Stream = ServerDuplexStream<WireInferRequest | MalformedMessage, unknown>;

const FINAL = { triton_final_response: { bool_param: true } };
const NOT_FINAL = { triton_final_response: { bool_param: false } };

export function modelStreamInfer(deps: GrpcDeps): (stream: Stream) => void {
  return (stream) => {
    const pending = new Set<Cancellation>();
    let halfClosed = false;
    let gone = false;
    const maybeEnd = (): void => {
      if (halfClosed && pending.size === 0 && !gone) stream.end();
    };
    stream.on('data', (message: WireInferRequest | MalformedMessage) => {
      const cancel = new Cancellation();
      pending.add(cancel);
      void answerOne(deps, stream, message, cancel).finally(() => {
        pending.delete(cancel);
        maybeEnd();
      });
    });
    stream.on('end', () => {
      halfClosed = true;
      maybeEnd();
    });
    const drop = (): void => {
      gone = true;
      for (const cancel of pending) cancel.cancel('the client cancelled the stream');
    };
    stream.on('cancelled', drop);
    stream.on('error', drop);
  };
}

async function answerOne(
  deps: GrpcDeps,
  stream: Stream,
  message: WireInferRequest | MalformedMessage,
  cancel: Cancellation,
): Promise<void> {
  const wire: WireInferRequest = message instanceof MalformedMessage ? {} : message;
  const { call, admitted } = openCall(
    deps,
    stream.metadata,
    'infer',
    stream.getDeadline(),
    wire.model_name,
    wire.model_version,
    wire.id,
  );
  try {
    if (admitted) await admitted;
    const { request } = decodeGrpcInferRequest(checkWellFormed(message), cancel);
    // The name as the auth step resolved it for the caller (a registry model).
    if (call.model !== undefined) request.modelName = call.model;
    request.call = call;
    let inferences = 0;
    await deps.serving.inferStream(request, (result, final) => {
      inferences += result.batchSize;
      const response: WireInferResponse = encodeGrpcInferResponse(result, request.id);
      response.parameters = final ? FINAL : NOT_FINAL;
      if (!cancel.cancelled) stream.write({ error_message: '', infer_response: response });
    });
    deps.pipeline.finish(call, { error: null, clientGone: cancel.cancelled, inferences });
  } catch (err) {
    const error = deps.pipeline.fail(err);
    if (!cancel.cancelled) {
      stream.write({
        error_message: error.message,
        infer_response: {
          model_name: wire.model_name ?? '',
          model_version: wire.model_version ?? '',
          id: wire.id ?? '',
          parameters: FINAL,
          outputs: [],
          raw_output_contents: [],
        },
      });
    }
    deps.pipeline.finish(call, { error, clientGone: cancel.cancelled, inferences: 0 }, err);
  }
}
