// Per model-version counters behind Triton's statistics extension
// (PROTOCOL.md 1.11): cumulative counts and nanosecond totals.
import type { DurationStat, ModelStatistics } from './types';

function duration(): DurationStat {
  return { count: 0, ns: 0 };
}

function add(stat: DurationStat, us: number): void {
  stat.count += 1;
  stat.ns += Math.round(us * 1000);
}

interface BatchStat {
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
}

export class VersionStatistics {
  private lastInferenceMs = 0;
  private inferenceCount = 0;
  private executionCount = 0;
  private readonly inference = {
    success: duration(),
    fail: duration(),
    queue: duration(),
    compute_input: duration(),
    compute_infer: duration(),
    compute_output: duration(),
    cache_hit: duration(),
    cache_miss: duration(),
  };
  private readonly batches = new Map<number, BatchStat>();

  constructor(
    private readonly name: string,
    private readonly version: string,
  ) {}

  recordExecution(batchSize: number, inputUs: number, inferUs: number, outputUs: number): void {
    this.executionCount += 1;
    this.inferenceCount += batchSize;
    this.lastInferenceMs = Date.now();
    let b = this.batches.get(batchSize);
    if (!b) {
      b = { compute_input: duration(), compute_infer: duration(), compute_output: duration() };
      this.batches.set(batchSize, b);
    }
    add(b.compute_input, inputUs);
    add(b.compute_infer, inferUs);
    add(b.compute_output, outputUs);
  }

  // A request's own view of the batch it ran in (Triton counts compute
  // timers once per request).
  recordSuccess(totalUs: number, queueUs: number, inputUs: number, inferUs: number, outputUs: number): void {
    add(this.inference.success, totalUs);
    add(this.inference.queue, queueUs);
    add(this.inference.compute_input, inputUs);
    add(this.inference.compute_infer, inferUs);
    add(this.inference.compute_output, outputUs);
  }

  recordFailure(totalUs: number): void {
    add(this.inference.fail, totalUs);
  }

  snapshot(memoryBytes: number): ModelStatistics {
    const copy = (d: DurationStat): DurationStat => ({ ...d });
    return {
      name: this.name,
      version: this.version,
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: Object.fromEntries(
        Object.entries(this.inference).map(([k, v]) => [k, copy(v)]),
      ) as ModelStatistics['inference_stats'],
      response_stats: {},
      batch_stats: [...this.batches.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([size, b]) => ({
          batch_size: size,
          compute_input: copy(b.compute_input),
          compute_infer: copy(b.compute_infer),
          compute_output: copy(b.compute_output),
        })),
      memory_usage: [{ type: 'CPU', id: 0, byte_size: memoryBytes }],
    };
  }
}
