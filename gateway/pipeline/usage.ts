// The usage step: one record per finished inference call, for metering and
// billing (who, which model, how many inferences, how it ended). A port with
// an in-process default that drops the records; the events adapter (Kafka)
// replaces it. record() runs on the hot path: an adapter buffers and sends
// in batches, never blocks, never throws.
import type { ErrorCode } from '../../common/errors';
import type { Principal, Protocol } from '../inference/call';

export interface UsageRecord {
  requestId: string;
  protocol: Protocol;
  principal: Principal;
  model: string;
  version: string | undefined;
  inferences: number; // the batch size served; 0 when the call failed
  code: ErrorCode | 'OK';
  durationUs: number;
}

export interface UsageSink {
  record(usage: UsageRecord): void;
}

export const discardUsage: UsageSink = { record: () => undefined };
