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
  overallRate?: number; // requests per second over all connections; absent: as fast as they answer
}
interface AutocannonCounts {
  duration: number; // seconds actually run
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
type AutocannonResult = AutocannonCounts;
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void,
  ): this;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- autocannon ships no types; the shape it is used at is declared above
const autocannon = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  connections: number;
  durationS: number;
  ratePerS?: number; // a fixed offered load (autocannon's overallRate); absent: closed loop
}

export interface LoadResult {
  requestsPerS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  completed: number; // 2xx responses in the measured window
  non2xx: number;
  errors: number; // connection errors and timeouts (autocannon counts both)
  statusCodes: Record<string, number>;
  durationS: number;
}

const REQUEST_TIMEOUT_S = 10;

// One autocannon run of options.durationS seconds. Warm-ups are runs of
// their own (bench/run.ts), so the measured window has clean edges for the
// server's CPU reading.
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
    ...(options.ratePerS ? { overallRate: options.ratePerS } : {}),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latency.record(responseTimeMs);
  });
  const result = await instance;
  const [p50Ms, p90Ms, p99Ms] = latency.percentilesMs([50, 90, 99]);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count;
  return {
    requestsPerS: result['2xx'] / result.duration,
    p50Ms,
    p90Ms,
    p99Ms,
    completed: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    durationS: result.duration,
  };
}
