// Per-request latencies in milliseconds at sub-millisecond resolution.
// (autocannon's own histogram records whole milliseconds, too coarse for
// a loopback server that answers in well under 1 ms.)
export class LatencyRecorder {
  private valuesMs = new Float64Array(1 << 16);
  private count = 0;

  record(latencyMs: number): void {
    if (this.count === this.valuesMs.length) {
      const grown = new Float64Array(this.valuesMs.length * 2);
      grown.set(this.valuesMs);
      this.valuesMs = grown;
    }
    this.valuesMs[this.count++] = latencyMs;
  }

  get size(): number {
    return this.count;
  }

  // Nearest-rank percentiles, e.g. percentilesMs([50, 99]).
  percentilesMs(percents: number[]): number[] {
    if (this.count === 0) return percents.map(() => Number.NaN);
    const sorted = this.valuesMs.slice(0, this.count).sort();
    return percents.map((p) => sorted[Math.min(this.count - 1, Math.max(0, Math.ceil((p / 100) * this.count) - 1))]);
  }
}
