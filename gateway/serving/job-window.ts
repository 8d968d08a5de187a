// How many of an asynchronous job's requests one model version lets into its
// batcher at once (docs/jobs.md "Priority"). Job work is queued at the
// batcher's lowest priority level, but a model without priority_levels has
// one FIFO queue: there, thousands of queued job requests would sit in front
// of every online request. The window keeps at most `size` job requests
// queued or running per version, so an online request waits behind at most
// one window of job work whatever the model's configuration.
//
// Owner: the VersionRuntime that made it; plain counters, no timers.
export class JobWindow {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  // Resolves when a place is free (at once, without a Promise turn, when one is).
  acquire(): Promise<void> | undefined {
    if (this.inFlight < this.size) {
      this.inFlight++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next)
      next(); // the place passes to the next waiter
    else this.inFlight--;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

// The window of a model version: its largest batch, at least 1 and at most
// 8: job work still runs in batches, and an online request never queues
// behind more than 8 job requests (bench:jobs measures the effect).
export const MAX_JOB_WINDOW = 8;
export function jobWindowSize(maxBatchSize: number): number {
  return Math.min(MAX_JOB_WINDOW, Math.max(1, maxBatchSize));
}
