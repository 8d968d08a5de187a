// How a decoupled model (config `model_transaction_policy: {decoupled: true}`)
// gives several answers to one request (docs/protocol.md "Decoupled models").
// The engine runs one graph per call and keeps no state between calls, so the
// gateway makes the answers: the request's first input is an INT32 holding
// one element, n (1..MAX_DECOUPLED_ANSWERS); the model runs n times through
// its batcher, run k (k = 1..n) with that element set to k, and each run's
// outputs are one answer, handed over in order, the last marked final.
// The demo model `counter` (Identity) therefore answers 1, 2, …, n.
// A cancelled request sends no further answers: the loop stops before the
// next run and rejects with CANCELLED.
import { MaasError } from '../../common/errors';
import type { InferRequest, InferResult } from '../inference/types';

export const MAX_DECOUPLED_ANSWERS = 1024;

// One answer of a request; `final` is true on the last one only.
export type AnswerSink = (result: InferResult, final: boolean) => void;

// n, read from the request's first input; throws when the request does not
// follow the decoupled contract.
export function answerCount(request: InferRequest): number {
  const first = request.inputs[0];
  if (!first || first.datatype !== 'INT32' || first.data.length !== 1) {
    throw new MaasError(
      'INVALID_REQUEST',
      `a decoupled model takes the number of answers as its first input, an INT32 holding one element`,
    );
  }
  const n = Number(first.data[0]);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DECOUPLED_ANSWERS) {
    throw new MaasError(
      'INVALID_REQUEST',
      `input '${first.name}': a decoupled model answers 1 to ${MAX_DECOUPLED_ANSWERS} times; ${n} were asked for`,
    );
  }
  return n;
}

// Runs the request's answers one after the other through `runOnce` (the
// runtime's ordinary path: validation, batcher, metrics).
export async function runDecoupled(
  request: InferRequest,
  runOnce: (step: InferRequest) => Promise<InferResult>,
  onAnswer: AnswerSink,
): Promise<void> {
  const n = answerCount(request);
  const [first, ...rest] = request.inputs;
  for (let k = 1; k <= n; k++) {
    if (request.cancel?.cancelled) {
      throw new MaasError('CANCELLED', `the request was cancelled after ${k - 1} of ${n} answers`);
    }
    const step: InferRequest = { ...request, inputs: [{ ...first, data: Int32Array.of(k) }, ...rest] };
    onAnswer(await runOnce(step), k === n);
  }
}
