// What every front end runs around a call (docs/architecture.md "The request
// pipeline"), in this order:
//   begin   request id → trace context (→ span)        sync, never throws
//   admit   authentication → limits                     may refuse (throws/rejects MaasError)
//   ...     the front end's own work (decode, serving, encode, answer)
//   finish  limits release → usage → span end → access log   sync, never throws
//   fail    any error → the public error (with its HTTP and gRPC status)
// Steps hold no protocol types: a front end turns its request into a
// CallInit, writes call.responseHeaders on its answer, and maps the public
// error's code to its own status. Every port defaults to an in-process
// adapter (allow everyone, no limits, no spans, drop usage).
import { performance } from 'node:perf_hooks';
import type { MaasError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { ANONYMOUS, type CallContext, type Operation, type Protocol, type WorkClass } from '../inference/call';
import { AccessLog } from './access-log';
import { allowAnonymous, type Authenticator } from './auth';
import { isUnexpected, publicError } from './errors';
import { unlimited, type Lease, type Limiter } from './limits';
import type { CallOutcome } from './outcome';
import { pickRequestId } from './request-id';
import { noSpans, parseTraceparent, type Span, type Tracer } from './tracing';
import { discardUsage, type UsageSink } from './usage';

export type { CallOutcome } from './outcome';

export interface PipelineOptions {
  logger: Logger;
  authenticator?: Authenticator;
  limiter?: Limiter;
  tracer?: Tracer;
  usage?: UsageSink;
  // One successful call in this many gets an access line (failures always
  // do); 0 = none. Default 100.
  accessLogSampleEvery?: number;
}

export interface CallInit {
  protocol: Protocol;
  operation: Operation;
  requestId?: string; // as the caller sent it; '' or undefined: make one
  traceparent?: string;
  tracestate?: string;
  model?: string;
  version?: string;
  startedMs?: number; // default: now
  workClass?: WorkClass; // default 'online'
}

// Per-call state the steps keep; the front end holds it opaque.
export interface PipelineCall extends CallContext {
  lease: Lease | null;
  span: Span | null;
}

const DEFAULT_ACCESS_LOG_SAMPLE_EVERY = 100;

export class Pipeline {
  private readonly authenticator: Authenticator;
  private readonly limiter: Limiter;
  private readonly tracer: Tracer;
  private readonly usage: UsageSink;
  private readonly accessLog: AccessLog;

  constructor(private readonly options: PipelineOptions) {
    this.authenticator = options.authenticator ?? allowAnonymous;
    this.limiter = options.limiter ?? unlimited;
    this.tracer = options.tracer ?? noSpans;
    this.usage = options.usage ?? discardUsage;
    this.accessLog = new AccessLog(options.logger, options.accessLogSampleEvery ?? DEFAULT_ACCESS_LOG_SAMPLE_EVERY);
  }

  begin(init: CallInit): PipelineCall {
    const call: PipelineCall = {
      requestId: pickRequestId(init.requestId),
      protocol: init.protocol,
      operation: init.operation,
      startedMs: init.startedMs ?? performance.now(),
      model: init.model,
      version: init.version,
      principal: ANONYMOUS,
      trace: init.traceparent ? parseTraceparent(init.traceparent, init.tracestate) : null,
      deadlineMs: 0,
      workClass: init.workClass ?? 'online',
      responseHeaders: null,
      lease: null,
      span: null,
    };
    call.span = this.tracer.startSpan(call);
    return call;
  }

  // Authentication, then limits. Returns undefined when both adapters
  // answered synchronously (the default ones do), so the hot path awaits
  // nothing; otherwise a Promise. Throws or rejects with a MaasError to refuse.
  admit(call: PipelineCall, credentials: string | null): void | Promise<void> {
    const principal = this.authenticator.authenticate(credentials, call);
    if (principal instanceof Promise) return principal.then((p) => this.afterAuth(call, p));
    return this.afterAuth(call, principal);
  }

  private afterAuth(call: PipelineCall, principal: CallContext['principal']): void | Promise<void> {
    call.principal = principal;
    const lease = this.limiter.acquire(call);
    if (lease instanceof Promise)
      return lease.then((l) => {
        call.lease = l;
      });
    call.lease = lease;
  }

  // The public form of what a call threw (see errors.ts).
  fail(err: unknown): MaasError {
    return publicError(err);
  }

  // Once per call, when its answer is written (or the caller is gone).
  finish(call: PipelineCall, outcome: CallOutcome, cause?: unknown): void {
    const nowMs = performance.now();
    const lease = call.lease;
    call.lease = null;
    lease?.release(call, outcome.inferences);
    if (this.usage !== discardUsage && call.operation === 'infer' && call.model !== undefined) {
      this.usage.record({
        requestId: call.requestId,
        protocol: call.protocol,
        principal: call.principal,
        model: call.model,
        version: call.version,
        inferences: outcome.inferences,
        code: outcome.error?.code ?? 'OK',
        durationUs: (nowMs - call.startedMs) * 1000,
      });
    }
    call.span?.end(call, outcome);
    const unexpected = outcome.error !== null && cause !== undefined && isUnexpected(cause, outcome.error);
    this.accessLog.write(call, outcome, nowMs, unexpected ? cause : undefined);
  }
}
