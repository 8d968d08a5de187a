// How long until a newly queued request would finish, estimated from recent
// batch compute times: the decision behind load shedding by deadline
// (docs/resilience.md). Pure: the batcher feeds it times from its clock, so
// it is tested on the virtual clock like the batching policy.

// An exponentially weighted moving average of one batch's compute time.
// Until the first sample the estimate is unknown (0): nothing is shed on a
// model that has never run.
export class ComputeEwma {
  private valueUs = 0;
  private samples = 0;

  constructor(private readonly weight = 0.2) {
    if (!(weight > 0 && weight <= 1)) throw new RangeError(`EWMA weight must be in (0, 1], got ${weight}`);
  }

  observe(durationUs: number): void {
    if (!(durationUs >= 0)) return;
    this.valueUs = this.samples === 0 ? durationUs : this.valueUs + this.weight * (durationUs - this.valueUs);
    this.samples += 1;
  }

  // 0 while no batch has finished.
  get batchUs(): number {
    return this.valueUs;
  }
}

export interface QueueSnapshot {
  batchUs: number; // ComputeEwma.batchUs
  unitsAhead: number; // batch units (requests' first dimensions) queued at the same or a higher priority
  ownUnits: number; // this request's batch size
  maxBatchSize: number; // 0: every request runs alone
  runningBatches: number; // batches executing now
  instanceCount: number; // batches that can execute at once
}

// Microseconds from now until the request's own batch would finish: the
// batches ahead of it (running ones counted whole, so the estimate errs on
// the side of refusing) run instanceCount at a time, then its own.
export function estimateFinishUs(q: QueueSnapshot): number {
  if (q.batchUs <= 0) return 0;
  const perBatch = Math.max(1, q.maxBatchSize);
  const queuedBatches = Math.ceil((q.unitsAhead + q.ownUnits) / perBatch);
  const rounds = Math.ceil((q.runningBatches + queuedBatches) / Math.max(1, q.instanceCount));
  return rounds * q.batchUs;
}

export type ShedVerdict = 'accept' | 'unmeetable' | 'overloaded';

// A request whose deadline (timeoutUs from now; 0 = none) falls before its
// estimated finish is refused now. 'overloaded' when the queue would outlast
// the model's default deadline even for a request of the highest priority
// (finishAtTopUs): nobody asking for the default could be served.
export function shedVerdict(
  timeoutUs: number,
  finishUs: number,
  defaultTimeoutUs: number,
  finishAtTopUs: () => number,
): ShedVerdict {
  if (!(timeoutUs > 0) || finishUs <= timeoutUs) return 'accept';
  if (defaultTimeoutUs > 0 && finishAtTopUs() > defaultTimeoutUs) return 'overloaded';
  return 'unmeetable';
}
