// One bounded autocannon run against one URL, reduced to the numbers we report.
import { LatencyRecorder } from './latency';

// The subset of autocannon's programmatic API we use (it ships no types).
interface AutocannonOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: Buffer;
  connections: number;
  duration: number; // seconds
  timeout: number; // seconds per request
  warmup?: { connections: number; duration: number };
}
interface AutocannonCounts {
  duration: number; // seconds actually run
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonResult extends AutocannonCounts {
  warmup?: AutocannonCounts;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void,
  ): this;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  connections: number;
  durationS: number;
  warmupS: number;
}

export interface LoadResult {
  requestsPerS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  completed: number; // 2xx responses in the measured window
  non2xx: number; // including the warm-up: a wrong answer is wrong whenever it comes
  errors: number; // connection errors and timeouts (autocannon counts both), warm-up included
  statusCodes: Record<string, number>;
  durationS: number;
}

const REQUEST_TIMEOUT_S = 10;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latency = new LatencyRecorder();
  const instance = autocannon({
    url: options.url,
    method: 'POST',
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
    timeout: REQUEST_TIMEOUT_S,
    warmup: options.warmupS > 0 ? { connections: options.connections, duration: options.warmupS } : undefined,
  });
  // Only the measured run emits here; the warm-up has its own tracker.
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latency.record(responseTimeMs);
  });
  const result = await instance;
  const warmup = result.warmup;
  const [p50Ms, p90Ms, p99Ms] = latency.percentilesMs([50, 90, 99]);
  const statusCodes: Record<string, number> = {};
  for (const counts of [result, warmup]) {
    for (const [code, { count }] of Object.entries(counts?.statusCodeStats ?? {})) {
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
  }
  return {
    requestsPerS: result['2xx'] / result.duration,
    p50Ms,
    p90Ms,
    p99Ms,
    completed: result['2xx'],
    non2xx: result.non2xx + (warmup?.non2xx ?? 0),
    errors: result.errors + (warmup?.errors ?? 0),
    statusCodes,
    durationS: result.duration,
  };
}
