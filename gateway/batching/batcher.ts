// The dynamic batcher for one model instance group: queues requests, asks the
// pure policy (policy.ts) what to do whenever an instance is free, and runs
// batches through `execute`. It is the only place in batching with timers,
// and it holds at most one scheduling timer at a time.
//
// Ownership: a request belongs to the batcher from submit() until it is either
// settled while queued (QUEUE_FULL, QUEUE_TIMEOUT, CANCELLED, SHUTTING_DOWN) or
// handed to `execute`; from then on it belongs to that execution, and only its
// result or error (or the close() deadline) settles it.
import { MaasError } from '../../common/errors';
import type { CancelListener, CancelSignal } from '../inference/cancel';
import { realClock, type Clock, type TimerHandle } from './clock';
import { decideBatch, type BatchPolicyConfig, type QueuedItem } from './policy';
import { PriorityQueue, QueueEntry } from './queue';
import { ComputeEwma, estimateFinishUs, shedVerdict } from './wait-estimate';

export interface DynamicBatcherOptions {
  maxBatchSize: number; // 0: the model does not batch; each request runs alone
  preferredBatchSizes?: readonly number[]; // default []: aim for maxBatchSize
  maxQueueDelayUs?: number; // default 0: never wait for more requests
  maxQueueSize?: number; // default 0: unbounded; counts queued requests, not running ones
  defaultTimeoutUs?: number; // default 0: no timeout while queued
  // Default true: a request's timeout may only shorten a nonzero default; with a
  // default of 0 the request's own timeout applies. False: the default always applies.
  allowTimeoutOverride?: boolean;
  priorityLevels?: number; // default 0: one queue, priorities ignored
  defaultPriorityLevel?: number; // in [1, priorityLevels]; default priorityLevels (the lowest)
  instanceCount?: number; // batches allowed in flight at once; default 1
  // Default true: a request whose deadline the queue ahead would outlast (by
  // the EWMA of batch compute times, wait-estimate.ts) is refused at submit
  // with DEADLINE_UNMEETABLE or MODEL_OVERLOADED instead of timing out later.
  shedByDeadline?: boolean;
  clock?: Clock; // default realClock
}

// One result per request of the batch, in the same order. A rejection fails
// every request of that batch with the same error.
export type ExecuteBatch<TReq, TRes> = (batch: TReq[], instanceIndex: number) => Promise<TRes[]>;

export interface SubmitOptions {
  batchSize: number; // the request's first dimension (use 1 when maxBatchSize is 0)
  shapeKey: string; // requests batch together only when equal (see assemble.ts batchShapeKey)
  priority?: number; // 0 or out of range: the default level; 1 is the highest
  timeoutUs?: number; // 0: none (see allowTimeoutOverride)
  cancel?: CancelSignal; // cancelling drops the request while queued; running work is not interrupted
}

export interface BatchedResult<TRes> {
  result: TRes;
  queueUs: number; // from submit to the start of its batch
  batchSize: number; // total batch size of the batch it ran in
}

type EntryState = 'queued' | 'running' | 'settled';

class Pending<TReq, TRes> extends QueueEntry implements QueuedItem, CancelListener {
  state: EntryState = 'queued';
  cancelSignal: CancelSignal | null = null; // subscribed while queued

  constructor(
    readonly owner: DynamicBatcher<TReq, TRes>,
    readonly request: TReq,
    readonly batchSize: number,
    readonly shapeKey: string,
    readonly enqueuedAtUs: number,
    level: number,
    deadlineUs: number,
    readonly resolve: (value: BatchedResult<TRes>) => void,
    readonly reject: (err: unknown) => void,
  ) {
    super(level, deadlineUs, batchSize);
  }

  onCancel(): void {
    this.owner.cancelQueued(this);
  }

  detachCancel(): void {
    this.cancelSignal?.unsubscribe(this);
    this.cancelSignal = null;
  }
}

export class DynamicBatcher<TReq, TRes> {
  private readonly clock: Clock;
  private readonly policy: BatchPolicyConfig;
  private readonly drainPolicy: BatchPolicyConfig; // while closing nobody else will join: never wait
  private readonly peekLimit: number;
  private readonly maxQueueSize: number;
  private readonly defaultTimeoutUs: number;
  private readonly allowTimeoutOverride: boolean;
  private readonly priorityLevels: number;
  private readonly defaultPriorityLevel: number;
  private readonly instanceCount: number;
  private readonly shedByDeadline: boolean;
  private readonly computeEwma = new ComputeEwma();

  private readonly queue: PriorityQueue<Pending<TReq, TRes>>;
  private readonly freeInstances: number[]; // a stack; instance 0 is used first
  private readonly running = new Set<Pending<TReq, TRes>>();

  private timer: TimerHandle | null = null;
  private timerDueUs = 0;
  private scheduling = false;
  private scheduleAgain = false;

  private draining = false; // after drain(): never wait for more requests
  private closing = false;
  private closed = false; // after close(): every request is settled
  private closePromise: Promise<void> | null = null;
  private closeResolve: (() => void) | null = null;
  private closeTimer: TimerHandle | null = null;

  constructor(
    options: DynamicBatcherOptions,
    private readonly execute: ExecuteBatch<TReq, TRes>,
  ) {
    const maxBatchSize = nonNegativeInteger('maxBatchSize', options.maxBatchSize);
    const preferredBatchSizes = [...(options.preferredBatchSizes ?? [])];
    for (const size of preferredBatchSizes) {
      if (!Number.isInteger(size) || size < 1 || size > Math.max(1, maxBatchSize)) {
        throw new RangeError(`preferred batch size ${size} must be an integer in [1, maxBatchSize=${maxBatchSize}]`);
      }
    }
    const maxQueueDelayUs = nonNegative('maxQueueDelayUs', options.maxQueueDelayUs ?? 0);
    this.maxQueueSize = nonNegativeInteger('maxQueueSize', options.maxQueueSize ?? 0);
    this.defaultTimeoutUs = nonNegative('defaultTimeoutUs', options.defaultTimeoutUs ?? 0);
    this.allowTimeoutOverride = options.allowTimeoutOverride ?? true;
    this.priorityLevels = nonNegativeInteger('priorityLevels', options.priorityLevels ?? 0);
    this.defaultPriorityLevel = options.defaultPriorityLevel ?? Math.max(1, this.priorityLevels);
    if (
      this.priorityLevels > 0 &&
      (!Number.isInteger(this.defaultPriorityLevel) ||
        this.defaultPriorityLevel < 1 ||
        this.defaultPriorityLevel > this.priorityLevels)
    ) {
      throw new RangeError(`defaultPriorityLevel ${this.defaultPriorityLevel} must be in [1, ${this.priorityLevels}]`);
    }
    this.instanceCount = options.instanceCount ?? 1;
    if (!Number.isInteger(this.instanceCount) || this.instanceCount < 1) {
      throw new RangeError(`instanceCount ${this.instanceCount} must be an integer >= 1`);
    }

    this.shedByDeadline = options.shedByDeadline ?? true;
    this.clock = options.clock ?? realClock;
    this.policy = { maxBatchSize, preferredBatchSizes, maxQueueDelayUs };
    this.drainPolicy = { ...this.policy, maxQueueDelayUs: 0 };
    // Every item counts at least 1, so the policy never looks past this many.
    this.peekLimit = maxBatchSize + 1;
    this.queue = new PriorityQueue(this.priorityLevels);
    this.freeInstances = Array.from({ length: this.instanceCount }, (_, i) => this.instanceCount - 1 - i);
  }

  // Requests waiting in the queue (not the ones executing).
  get pendingCount(): number {
    return this.queue.size;
  }

  // Batches executing now, at most instanceCount.
  get inFlightCount(): number {
    return this.instanceCount - this.freeInstances.length;
  }

  submit(request: TReq, options: SubmitOptions): Promise<BatchedResult<TRes>> {
    if (this.closing) {
      return Promise.reject(new MaasError('SHUTTING_DOWN', 'the model is shutting down and accepts no new requests'));
    }
    const { batchSize, shapeKey, cancel } = options;
    const { maxBatchSize } = this.policy;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      return Promise.reject(new MaasError('INVALID_SHAPE', `batch size must be an integer >= 1, got ${batchSize}`));
    }
    // The model manager checks this first with the input's name; this is the backstop.
    if (maxBatchSize > 0 && batchSize > maxBatchSize) {
      return Promise.reject(
        new MaasError('INVALID_SHAPE', `batch size ${batchSize} exceeds the model's max batch size ${maxBatchSize}`),
      );
    }
    if (cancel?.cancelled) {
      return Promise.reject(new MaasError('CANCELLED', 'the request was cancelled before it ran'));
    }
    if (this.maxQueueSize > 0 && this.queue.size >= this.maxQueueSize) {
      return Promise.reject(
        new MaasError('QUEUE_FULL', `request exceeds maximum queue size (${this.maxQueueSize} queued)`),
      );
    }

    const nowUs = this.clock.nowUs();
    const timeoutUs = this.effectiveTimeoutUs(options.timeoutUs ?? 0);
    const level = this.levelOf(options.priority ?? 0);
    const refusal = this.shed(timeoutUs, level, batchSize);
    if (refusal) return Promise.reject(refusal);
    return new Promise<BatchedResult<TRes>>((resolve, reject) => {
      const entry = new Pending<TReq, TRes>(
        this,
        request,
        batchSize,
        shapeKey,
        nowUs,
        level,
        timeoutUs > 0 ? nowUs + timeoutUs : 0,
        resolve,
        reject,
      );
      if (cancel) {
        cancel.subscribe(entry);
        entry.cancelSignal = cancel;
      }
      this.queue.push(entry);
      this.schedule();
    });
  }

  // Sends what is queued without waiting for more requests (the server is
  // shutting down: nobody else will join); requests already accepted by a
  // front end may still be submitted, and go out at once too.
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.schedule();
  }

  // Stops accepting requests (SHUTTING_DOWN), sends what is queued without
  // waiting for more, and resolves once queued and running work has finished.
  // Whatever is still unsettled after deadlineMs is rejected with SHUTTING_DOWN
  // (running executions are not interrupted; their late results are dropped).
  close(deadlineMs: number): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      this.closeResolve = resolve;
    });
    this.closeTimer = this.clock.setTimer(
      () => {
        this.closeTimer = null;
        this.abandonAll();
      },
      Math.max(0, deadlineMs) * 1000,
    );
    this.schedule();
    return this.closePromise;
  }

  // Batch compute time the wait estimates use (0 until a batch has run).
  get estimatedBatchUs(): number {
    return this.computeEwma.batchUs;
  }

  // Load shedding by deadline (wait-estimate.ts): the refusal, or null to queue.
  private shed(timeoutUs: number, level: number, batchSize: number): MaasError | null {
    if (!this.shedByDeadline || !(timeoutUs > 0) || this.computeEwma.batchUs <= 0) return null;
    const finishAt = (atLevel: number, ownUnits: number) =>
      estimateFinishUs({
        batchUs: this.computeEwma.batchUs,
        unitsAhead: this.queue.unitsUpTo(atLevel),
        ownUnits,
        maxBatchSize: this.policy.maxBatchSize,
        runningBatches: this.inFlightCount,
        instanceCount: this.instanceCount,
      });
    const finishUs = finishAt(level, batchSize);
    const verdict = shedVerdict(timeoutUs, finishUs, this.defaultTimeoutUs, () => finishAt(0, 1));
    if (verdict === 'accept') return null;
    const estimate = `an estimated ${Math.round(finishUs)} us to finish`;
    return verdict === 'overloaded'
      ? new MaasError(
          'MODEL_OVERLOADED',
          `the model is overloaded: ${estimate}, beyond its default timeout of ${this.defaultTimeoutUs} us`,
        )
      : new MaasError('DEADLINE_UNMEETABLE', `the request's timeout of ${timeoutUs} us is shorter than ${estimate}`);
  }

  private effectiveTimeoutUs(requestTimeoutUs: number): number {
    const defaultUs = this.defaultTimeoutUs;
    if (!this.allowTimeoutOverride || !(requestTimeoutUs > 0)) return defaultUs;
    return defaultUs === 0 ? requestTimeoutUs : Math.min(requestTimeoutUs, defaultUs);
  }

  // Priority 1 is the highest; 0 or out of range means the default (as Triton).
  private levelOf(priority: number): number {
    if (this.priorityLevels === 0) return 0;
    const level =
      Number.isInteger(priority) && priority >= 1 && priority <= this.priorityLevels
        ? priority
        : this.defaultPriorityLevel;
    return level - 1;
  }

  // Runs the policy until it says wait/idle or no instance is free, then arms
  // the one timer. Re-entrant calls (execute submitting synchronously) are folded
  // into another pass instead of nesting.
  private schedule(): void {
    if (this.closed) return;
    if (this.scheduling) {
      this.scheduleAgain = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.scheduleAgain = false;
        this.formBatches();
      } while (this.scheduleAgain);
    } finally {
      this.scheduling = false;
    }
    this.settleCloseIfDrained();
  }

  private formBatches(): void {
    const nowUs = this.clock.nowUs();
    this.expireTimedOut(nowUs);
    const policy = this.closing || this.draining ? this.drainPolicy : this.policy;
    let waitUs = 0;
    while (this.freeInstances.length > 0 && this.queue.size > 0) {
      const head = this.queue.peek(this.peekLimit);
      const decision = decideBatch(head, nowUs, policy);
      if (decision.kind !== 'send') {
        if (decision.kind === 'wait') waitUs = decision.delayUs;
        break;
      }
      this.dispatch(head.slice(0, decision.count), nowUs);
    }
    this.armTimer(nowUs, waitUs);
  }

  // Queued requests whose timeout has passed never reach a batch.
  private expireTimedOut(nowUs: number): void {
    for (
      let entry = this.queue.earliestDeadline();
      entry && entry.deadlineUs <= nowUs;
      entry = this.queue.earliestDeadline()
    ) {
      this.queue.remove(entry);
      this.reject(
        entry,
        new MaasError('QUEUE_TIMEOUT', `Request timeout expired after ${nowUs - entry.enqueuedAtUs} us in the queue`),
      );
    }
  }

  // One timer: the policy's wait (only meaningful while an instance is free)
  // or the next queued deadline, whichever comes first.
  private armTimer(nowUs: number, waitUs: number): void {
    let dueUs = waitUs > 0 ? nowUs + waitUs : Infinity;
    const nextDeadline = this.queue.earliestDeadline();
    if (nextDeadline) dueUs = Math.min(dueUs, nextDeadline.deadlineUs);
    if (this.timer !== null) {
      if (dueUs === this.timerDueUs) return;
      this.clock.clearTimer(this.timer);
      this.timer = null;
    }
    if (dueUs === Infinity) return;
    this.timerDueUs = dueUs;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = null;
        this.schedule();
      },
      Math.max(1, dueUs - nowUs),
    );
  }

  private dispatch(entries: Pending<TReq, TRes>[], nowUs: number): void {
    const instanceIndex = this.freeInstances.pop() as number;
    let totalBatchSize = 0;
    for (const entry of entries) {
      this.queue.remove(entry);
      entry.detachCancel();
      entry.state = 'running';
      this.running.add(entry);
      totalBatchSize += entry.batchSize;
    }
    void this.runBatch(entries, instanceIndex, totalBatchSize, nowUs);
  }

  // Calls execute synchronously (async functions run to their first await),
  // so a batch starts in the same tick it was formed.
  private async runBatch(
    entries: Pending<TReq, TRes>[],
    instanceIndex: number,
    totalBatchSize: number,
    startUs: number,
  ): Promise<void> {
    try {
      const requests = new Array<TReq>(entries.length);
      for (let i = 0; i < entries.length; i++) requests[i] = entries[i].request;
      const results = await this.execute(requests, instanceIndex);
      this.computeEwma.observe(this.clock.nowUs() - startUs);
      if (!Array.isArray(results) || results.length !== entries.length) {
        const got = Array.isArray(results) ? `${results.length} results` : 'no result array';
        throw new MaasError('INTERNAL', `batch execution returned ${got} for ${entries.length} requests`);
      }
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i];
        if (this.markSettled(entry))
          entry.resolve({ result: results[i], queueUs: startUs - entry.enqueuedAtUs, batchSize: totalBatchSize });
      }
    } catch (err) {
      for (const entry of entries) this.reject(entry, err);
    } finally {
      this.freeInstances.push(instanceIndex);
      this.schedule();
      this.settleCloseIfDrained();
    }
  }

  // A queued request's caller went away (Pending.onCancel).
  cancelQueued(entry: Pending<TReq, TRes>): void {
    if (!this.queue.remove(entry)) return; // already running or settled
    this.reject(entry, new MaasError('CANCELLED', 'the request was cancelled before it ran'));
    this.schedule(); // the head may have changed, and so may the next deadline
  }

  // Marks an entry settled once, whatever path gets there first; false if
  // it already was.
  private markSettled(entry: Pending<TReq, TRes>): boolean {
    if (entry.state === 'settled') return false;
    entry.state = 'settled';
    entry.detachCancel();
    this.running.delete(entry);
    return true;
  }

  private reject(entry: Pending<TReq, TRes>, err: unknown): void {
    if (this.markSettled(entry)) entry.reject(err);
  }

  private abandonAll(): void {
    const shuttingDown = () => new MaasError('SHUTTING_DOWN', 'the close deadline passed before the request finished');
    for (const entry of this.queue.all()) {
      this.queue.remove(entry);
      this.reject(entry, shuttingDown());
    }
    for (const entry of [...this.running]) this.reject(entry, shuttingDown());
    this.finishClose();
  }

  private settleCloseIfDrained(): void {
    if (this.closing && !this.closed && this.queue.size === 0 && this.running.size === 0) this.finishClose();
  }

  private finishClose(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    if (this.closeTimer !== null) this.clock.clearTimer(this.closeTimer);
    this.timer = this.closeTimer = null;
    this.closeResolve?.();
    this.closeResolve = null;
  }
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
  return value;
}
