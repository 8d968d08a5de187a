// The usage step: one record per finished inference call, for metering and
// billing (docs/usage.md "Record"). A port with an in-process default that
// drops the records (embedding without a registry); `maas serve` plugs in the
// PostgreSQL outbox (usage/outbox.ts). record() runs on the hot path: an
// adapter appends to a batch, never blocks, never throws.
import { randomBytes } from 'node:crypto';
import type { ErrorCode } from '../../common/errors';
import type { Protocol } from '../inference/call';

export interface UsageRecord {
  id: string; // unique per record (makeUsageId), the consumers' dedupe key
  requestId: string; // as the caller sent it (or generated): not unique
  tenant: string | null; // null: no tenant (anonymous, local admin)
  keyId: string; // the principal's subject: 'key:<uuid>', a JWT subject, 'anonymous'
  model: string;
  version: string | null; // the version that answered; else the one asked for
  protocol: Protocol;
  inferences: number; // the batch size served; 0 when the call failed
  inputBytes: number; // tensor data, the same for every wire encoding
  outputBytes: number;
  queueUs: number;
  computeUs: number;
  status: ErrorCode | 'OK';
  startedAtMs: number; // wall clock, milliseconds since the epoch
  durationUs: number;
}

export interface UsageSink {
  record(usage: UsageRecord): void;
}

export const discardUsage: UsageSink = { record: () => undefined };

// Record ids: this process's boot id (64 random bits) and a sequence. A
// caller may reuse a request id, and a restarted process restarts its
// sequence, so neither alone is unique; together they are, across replicas
// and restarts, and cost one string concatenation per call.
const BOOT_ID = randomBytes(8).toString('hex');
let sequence = 0;

export function makeUsageId(): string {
  sequence += 1;
  return `${BOOT_ID}-${sequence}`;
}
