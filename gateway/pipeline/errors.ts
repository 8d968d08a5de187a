// The error step: whatever a call threw becomes one public error from the
// registry (common/errors.ts), with its HTTP status and gRPC status. Errors
// we did not make become a bare INTERNAL, so no internal detail reaches a
// client; the access log keeps the original (with the request id).
import { ERRORS, MaasError, isErrorCode, type ErrorCode } from '../../common/errors';

export function publicError(err: unknown): MaasError {
  if (err instanceof MaasError) return err;
  // Engine errors carry one of our codes; keep them (their messages are ours).
  const code = (err as { code?: unknown } | null)?.code;
  if (isErrorCode(code) && code !== 'INTERNAL') return new MaasError(code, (err as Error).message ?? String(err));
  return new MaasError('INTERNAL', ERRORS.INTERNAL.description);
}

// True when `err` was not one of ours: the log must keep it whole.
export function isUnexpected(err: unknown, mapped: MaasError): boolean {
  return mapped.code === 'INTERNAL' && !(err instanceof MaasError);
}

export function httpStatusOf(code: ErrorCode): number {
  return ERRORS[code].httpStatus;
}

export function grpcStatusOf(code: ErrorCode): number {
  return ERRORS[code].grpcStatus;
}
