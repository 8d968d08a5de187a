// A fixed-bucket histogram of plain numbers: observe() is a short scan and
// two additions, cheap enough for every request; the Prometheus text is
// made from it only on scrape (common/metrics.ts).

// Latency buckets in seconds: 50 µs .. 10 s, roughly ×2.5 apart.
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export class Histogram {
  private readonly counts: Float64Array; // per bucket, not cumulative; the last slot is +Inf
  sum = 0;
  count = 0;

  constructor(private readonly upperBounds: readonly number[]) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i] += 1;
    this.sum += value;
    this.count += 1;
  }

  // Cumulative counts per upper bound, '+Inf' last, as Prometheus wants them.
  forEachCumulative(visit: (le: string | number, count: number) => void): void {
    let running = 0;
    for (let i = 0; i < this.upperBounds.length; i++) {
      running += this.counts[i];
      visit(this.upperBounds[i], running);
    }
    visit('+Inf', running + this.counts[this.upperBounds.length]);
  }
}
