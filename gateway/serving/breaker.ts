// The circuit breaker of one model version (docs/resilience.md "Circuit
// breaker"), on opossum: `failure_threshold` consecutive failed executions
// (a 5xx from the engine, or one slower than `timeout_ms`) open it; while
// open every request fails fast with 503 MODEL_CIRCUIT_OPEN and the version
// is not ready; after `reset_timeout_ms` it is half-open and the next batch
// is the probe: success closes it, failure opens it again.
//
// Caller errors (4xx: bad input, an output too large) are no evidence
// against the model and neither count nor reset the run of failures.
// opossum's own rule (an error percentage over a rolling window) is turned
// off; it keeps the states, the reset timer and the single probe.
//
// Owner: the runtime owns its breaker (opossum's reset timer); shutdown()
// at retirement clears it.
import CircuitBreaker from 'opossum';
import { performance } from 'node:perf_hooks';
import { MaasError, toMaasError } from '../../common/errors';
import { BREAKER_DEFAULTS } from '../catalog/resilience-config';
import type { CircuitBreakerConfig } from '../catalog/config-types';

export type BreakerState = 'closed' | 'half_open' | 'open';

// The gauge's values (maas_model_circuit_state).
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

interface Outcome {
  value: unknown;
  slow: boolean;
}

type Work = () => Promise<unknown>;

export class ModelBreaker {
  private readonly breaker: CircuitBreaker<[Work], Outcome> | null;
  private readonly threshold: number;
  private readonly slowMs: number;
  private consecutiveFailures = 0;

  constructor(
    private readonly label: string, // model and version, for messages
    config: CircuitBreakerConfig | undefined,
    private readonly onState: (state: BreakerState) => void,
  ) {
    const c = { ...BREAKER_DEFAULTS, ...config };
    this.threshold = c.failure_threshold;
    this.slowMs = c.timeout_ms;
    if (!c.enable) {
      this.breaker = null;
      return;
    }
    const breaker = new CircuitBreaker<[Work], Outcome>(
      async (work: Work) => {
        const startMs = performance.now();
        const value = await work();
        return { value, slow: this.slowMs > 0 && performance.now() - startMs > this.slowMs };
      },
      {
        timeout: false, // a running execution cannot be interrupted: slowness is judged when it ends
        resetTimeout: c.reset_timeout_ms,
        errorThresholdPercentage: 100, // never by rate: only our count (or a failed probe) opens it
        errorFilter: (err: unknown) => !countsAsFailure(err),
      },
    );
    breaker.on('failure', () => this.failed());
    breaker.on('success', (result: unknown) => {
      if (result instanceof Error) return; // a caller error, filtered: no evidence either way
      if ((result as Outcome).slow) this.failed();
      else this.consecutiveFailures = 0;
    });
    breaker.on('open', () => onState('open'));
    breaker.on('halfOpen', () => onState('half_open'));
    breaker.on('close', () => {
      this.consecutiveFailures = 0;
      onState('closed');
    });
    this.breaker = breaker;
    onState('closed');
  }

  get state(): BreakerState {
    const b = this.breaker;
    if (!b || b.closed) return 'closed';
    return b.halfOpen ? 'half_open' : 'open';
  }

  // Requests are refused before queueing while open (half-open lets them
  // queue: the first batch is the probe).
  get isOpen(): boolean {
    return this.breaker?.opened === true;
  }

  refusal(): MaasError {
    return new MaasError(
      'MODEL_CIRCUIT_OPEN',
      `model ${this.label} failed ${this.threshold} times in a row; its circuit breaker is open`,
    );
  }

  // Runs one batch execution through the breaker.
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.breaker || this.breaker.isShutdown) return work();
    try {
      return (await this.breaker.fire(work)).value as T;
    } catch (err) {
      // opossum's own refusal (open, or half-open with the probe in flight).
      if ((err as { code?: unknown }).code === 'EOPENBREAKER') throw this.refusal();
      throw err;
    }
  }

  shutdown(): void {
    this.breaker?.shutdown();
  }

  private failed(): void {
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= this.threshold) this.breaker?.open();
  }
}

// Only the server's own faults (5xx) count against a model.
export function countsAsFailure(err: unknown): boolean {
  return toMaasError(err).httpStatus >= 500;
}
