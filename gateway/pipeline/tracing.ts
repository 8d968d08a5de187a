// The tracing step: the call's W3C trace context (`traceparent`, from an HTTP
// header or gRPC metadata) is read onto call.trace, so logs and the
// OpenTelemetry adapter can join the caller's trace. The in-process default
// only parses and keeps it; an adapter that records spans replaces
// `startSpan` (and ends its span in Span.end).
import type { CallContext, TraceContext } from '../inference/call';
import type { CallOutcome } from './outcome';

export interface Span {
  end(call: CallContext, outcome: CallOutcome): void;
}

export interface Tracer {
  // Called once per call after the trace context was read; null: no span.
  startSpan(call: CallContext): Span | null;
}

export const noSpans: Tracer = { startSpan: () => null };

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO_TRACE = '00000000000000000000000000000000';
const ALL_ZERO_SPAN = '0000000000000000';

// A traceparent as the W3C Trace Context spec reads it; null for anything
// malformed (the call then starts a trace of its own, as the spec says).
export function parseTraceparent(header: string | undefined, tracestate = ''): TraceContext | null {
  if (!header) return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ALL_ZERO_TRACE || parentId === ALL_ZERO_SPAN) return null;
  return { traceId, parentId, sampled: (parseInt(flags, 16) & 1) === 1, state: tracestate };
}
