// The limits step: may this principal start another call now? A port with
// an in-process default that never refuses; the limits adapter (token
// buckets in process or in Redis, concurrency caps, quotas) replaces it.
//
// Contract for adapters:
// - acquire() runs after authentication (call.principal is set) and before
//   the work; it returns a Lease, synchronously when it can or as a Promise.
// - It refuses by throwing a MaasError (429-class codes); it may first put
//   headers on call.responseHeaders (Retry-After, RateLimit-*), which every
//   front end writes on its answer (HTTP headers, gRPC metadata).
// - The pipeline calls lease.release(outcome) exactly once when the call
//   ends, whatever its outcome; `inferences` is the batch size served, for
//   per-inference limits and quotas.
import type { CallContext } from '../inference/call';

export interface Lease {
  release(call: CallContext, inferences: number): void;
}

export interface Limiter {
  acquire(call: CallContext): Lease | Promise<Lease>;
}

const NO_LEASE: Lease = { release: () => undefined };

export const unlimited: Limiter = {
  acquire: () => NO_LEASE,
};
