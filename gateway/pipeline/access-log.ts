// The access-log step: one line per finished call, with its request id.
// Failures are always logged (5xx-class at error level, with the original
// error); successes only one in `sampleEvery` (0 = none), because a line per
// inference costs more than the inference on small models. The counter is
// per server, so the sample is exact (every Nth), not random.
import type { Logger } from '../../common/logger';
import type { CallContext } from '../inference/call';
import { httpStatusOf } from './errors';
import type { CallOutcome } from './outcome';

export class AccessLog {
  private successes = 0;

  constructor(
    private readonly logger: Logger,
    private readonly sampleEvery: number,
  ) {}

  write(call: CallContext, outcome: CallOutcome, nowMs: number, cause?: unknown): void {
    const { error } = outcome;
    if (error === null && !outcome.clientGone) {
      if (this.sampleEvery <= 0 || ++this.successes % this.sampleEvery !== 0) return;
    }
    const status = outcome.clientGone ? 499 : error ? httpStatusOf(error.code) : 200;
    const fields: Record<string, unknown> = {
      requestId: call.requestId,
      protocol: call.protocol,
      operation: call.operation,
      model: call.model,
      version: call.version,
      status,
      durationMs: Math.round((nowMs - call.startedMs) * 1000) / 1000,
    };
    if (call.principal.subject !== 'anonymous') fields.principal = call.principal.subject;
    if (call.trace) fields.traceId = call.trace.traceId;
    if (error) {
      fields.code = error.code;
      fields.error = error.message;
    }
    if (status >= 500) this.logger.error({ ...fields, err: cause }, call.operation);
    else this.logger.info(fields, call.operation);
  }
}
