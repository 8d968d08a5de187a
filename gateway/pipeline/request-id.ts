// Step 1 of every call: its request id. A sane id from the caller
// (x-request-id on HTTP, the same key in gRPC metadata) is echoed; anything
// else is replaced by a fresh UUID, so logs can always be joined on it.
import { randomUUID } from 'node:crypto';

export const MAX_REQUEST_ID_CHARS = 200;

export function pickRequestId(given: string | undefined): string {
  if (given !== undefined && given !== '' && given.length <= MAX_REQUEST_ID_CHARS && isVisibleAscii(given))
    return given;
  return randomUUID();
}

function isVisibleAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}
