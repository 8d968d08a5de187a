// The limits step's adapter (gateway/pipeline/limits.ts): per tenant and per
// API key, a request-rate bucket, an inference-rate bucket, a concurrency cap
// and a monthly inference quota (docs/limits.md). Only inference calls of a
// principal with a tenant are limited; others get no lease.
//
// A call is checked against its tenant's limits, then its key's (a key's
// limits narrow its tenant's: the tenant's buckets are shared by all its
// keys). Each check takes one unit; a refusal gives back what the earlier
// checks took. The batch size is known only after decode: admission charges
// 1 inference, the lease's release settles the rest (or refunds the 1 for
// a call that served none), so rates and quotas count exactly what was
// served; a quota admits a call while one unit is left, so a batch can end it
// up to its size − 1 over.
import { MaasError, type ErrorCode } from '../common/errors';
import type { CallContext } from '../gateway/inference/call';
import type { Lease, Limiter } from '../gateway/pipeline/limits';
import type { Counters } from './counters';
import {
  capacityOf,
  quotaPeriod,
  rateLimitHeaders,
  retryAfterSecs,
  type Limits,
  type PolicyState,
  type TakeResult,
} from './policy';
import type { LimitSettings } from './settings';

const NO_LEASE: Lease = { release: () => undefined };
const QUOTA_TTL_EXTRA_SECS = 86_400; // a period's counter outlives it by a day

export type SettingsSource = Pick<LimitSettings, 'tenant' | 'key'>;

// One admission check and how to undo or settle it.
interface Check {
  run(): TakeResult | boolean | Promise<TakeResult | boolean>;
  undo(): void;
  settle(inferences: number): void;
  code: ErrorCode;
  policy: (result: TakeResult | boolean) => PolicyState;
  retryMs: (result: TakeResult | boolean) => number;
}

export class TenantLimiter implements Limiter {
  constructor(
    private readonly counters: Counters,
    private readonly settings: SettingsSource,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(call: CallContext): Lease | Promise<Lease> {
    const { principal } = call;
    if (call.operation !== 'infer' || principal.tenant === null) return NO_LEASE;
    const tenant = this.settings.tenant(principal.tenant);
    const keyId = principal.subject.startsWith('key:') ? principal.subject.slice(4) : null;
    const key = keyId === null ? undefined : this.settings.key(keyId);
    if (!tenant && !key) return NO_LEASE;
    const checks: Check[] = [];
    if (tenant) this.checksOf(`t:${principal.tenant}`, '', tenant, checks);
    if (key) this.checksOf(`k:${keyId}`, 'key-', key, checks);
    return this.run(call, checks, 0, []);
  }

  // Runs checks[i..] in order, synchronously while the answers are.
  private run(call: CallContext, checks: Check[], i: number, states: PolicyState[]): Lease | Promise<Lease> {
    for (; i < checks.length; i++) {
      const check = checks[i];
      const result = check.run();
      if (result instanceof Promise) {
        const at = i;
        return result.then(
          (r) => this.after(call, checks, at, states, r),
          (err: unknown) => {
            undoUpTo(checks, at);
            throw err;
          },
        );
      }
      const refused = this.judge(call, checks, i, states, result);
      if (refused) throw refused;
    }
    return this.admitted(call, checks, states);
  }

  private after(
    call: CallContext,
    checks: Check[],
    i: number,
    states: PolicyState[],
    result: TakeResult | boolean,
  ): Lease | Promise<Lease> {
    const refused = this.judge(call, checks, i, states, result);
    if (refused) throw refused;
    return this.run(call, checks, i + 1, states);
  }

  // Records the check's state; on a refusal undoes the earlier checks and
  // returns the error (with its headers on the call).
  private judge(
    call: CallContext,
    checks: Check[],
    i: number,
    states: PolicyState[],
    result: TakeResult | boolean,
  ): MaasError | null {
    const check = checks[i];
    states.push(check.policy(result));
    const ok = typeof result === 'boolean' ? result : result.granted > 0;
    if (ok) return null;
    undoUpTo(checks, i);
    addHeaders(call, [
      ...rateLimitHeaders(states),
      ['Retry-After', String(retryAfterSecs(check.retryMs(result)))],
    ]);
    return new MaasError(check.code, refusalMessage(check.code, states[states.length - 1]));
  }

  private admitted(call: CallContext, checks: Check[], states: PolicyState[]): Lease {
    addHeaders(call, rateLimitHeaders(states));
    let released = false;
    return {
      release: (_call, inferences) => {
        if (released) return;
        released = true;
        for (const check of checks) check.settle(inferences);
      },
    };
  }

  private checksOf(scope: string, prefix: string, limits: Limits, out: Check[]): void {
    const c = this.counters;
    const concurrent = limits.concurrentRequests;
    if (concurrent !== null) {
      const key = `${scope}:c`;
      out.push({
        run: () => c.enter(key, concurrent),
        undo: () => c.leave(key),
        settle: () => c.leave(key),
        code: 'CONCURRENCY_LIMITED',
        policy: (r) => ({
          name: `${prefix}concurrency`,
          quota: concurrent,
          windowSecs: null,
          unit: 'concurrent-requests',
          remaining: r === false ? 0 : 1,
          resetSecs: 0,
        }),
        retryMs: () => 1000,
      });
    }
    const rps = limits.requestsPerSecond;
    if (rps !== null) out.push(this.bucketCheck(`${scope}:r`, `${prefix}requests`, rps, limits.burst, false));
    const ips = limits.inferencesPerSecond;
    if (ips !== null) out.push(this.bucketCheck(`${scope}:i`, `${prefix}inferences`, ips, null, true));
    const monthly = limits.monthlyInferences;
    if (monthly !== null) {
      const period = quotaPeriod(this.now());
      const key = `${scope}:q:${period.id}`;
      const ttlSecs = Math.ceil((period.endsMs - this.now()) / 1000) + QUOTA_TTL_EXTRA_SECS;
      const resetSecs = (period.endsMs - this.now()) / 1000;
      out.push({
        run: () => c.quotaTake(key, monthly, 1, ttlSecs),
        undo: () => c.quotaCharge(key, monthly, -1, ttlSecs),
        settle: (n) => {
          if (n !== 1) c.quotaCharge(key, monthly, n - 1, ttlSecs);
        },
        code: 'QUOTA_EXCEEDED',
        policy: (r) => ({
          name: `${prefix}monthly`,
          quota: monthly,
          windowSecs: period.lengthSecs,
          unit: null,
          remaining: (r as TakeResult).remaining,
          resetSecs,
        }),
        retryMs: () => resetSecs * 1000,
      });
    }
  }

  // A rate bucket: one unit at admission; an inference bucket settles the
  // batch size at release.
  private bucketCheck(key: string, name: string, rate: number, burst: number | null, perInference: boolean): Check {
    const c = this.counters;
    const capacity = capacityOf(rate, burst);
    return {
      run: () => c.take(key, rate, capacity, 1),
      undo: () => c.charge(key, rate, capacity, -1),
      settle: (n) => {
        if (perInference && n !== 1) c.charge(key, rate, capacity, n - 1);
      },
      code: 'RATE_LIMITED',
      policy: (r) => {
        const t = r as TakeResult;
        return {
          name,
          quota: capacity,
          windowSecs: capacity / rate,
          unit: null,
          remaining: t.remaining,
          resetSecs: t.granted > 0 ? Math.max(0, (capacity - t.remaining) / rate) : t.waitMs / 1000,
        };
      },
      retryMs: (r) => (r as TakeResult).waitMs,
    };
  }
}

function undoUpTo(checks: Check[], end: number): void {
  for (let j = end - 1; j >= 0; j--) checks[j].undo();
}

function addHeaders(call: CallContext, headers: Array<[string, string]>): void {
  if (headers.length === 0) return;
  if (call.responseHeaders) call.responseHeaders.push(...headers);
  else call.responseHeaders = headers;
}

function refusalMessage(code: ErrorCode, state: PolicyState): string {
  switch (code) {
    case 'CONCURRENCY_LIMITED':
      return `at most ${state.quota} requests may be in flight (${state.name})`;
    case 'QUOTA_EXCEEDED':
      return `the monthly quota of ${state.quota} inferences is used up (${state.name})`;
    default:
      return `over the rate limit (${state.name}: ${state.quota} per ${Math.round((state.windowSecs ?? 1) * 1000) / 1000} s)`;
  }
}
