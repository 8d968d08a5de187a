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
//
// The hot path allocates little: the rules of each settings object are
// compiled once (a WeakMap; the settings copy is replaced on reload), with
// their RateLimit-Policy text; a call builds only its RateLimit value.
import { MaasError, type ErrorCode } from '../common/errors';
import type { CallContext } from '../gateway/inference/call';
import type { Lease, Limiter } from '../gateway/pipeline/limits';
import type { Counters } from './counters';
import {
  capacityOf,
  policyItem,
  quotaPeriod,
  retryAfterSecs,
  stateItem,
  type Limits,
  type QuotaPeriod,
  type TakeResult,
} from './policy';
import type { LimitSettings } from './settings';

const NO_LEASE: Lease = { release: () => undefined };
const QUOTA_TTL_EXTRA_SECS = 86_400; // a period's counter outlives it by a day
const CONCURRENCY_RETRY_MS = 1000;

export type SettingsSource = Pick<LimitSettings, 'tenant' | 'keyOf'>;

// One compiled check.
interface Rule {
  kind: 'concurrency' | 'bucket' | 'quota';
  code: ErrorCode;
  name: string; // the policy's name in the headers
  key: string; // the counter's
  limit: number; // in flight, quota, or bucket capacity
  rate: number; // bucket: per second
  perInference: boolean; // bucket or quota settled with the batch size
}

interface Plan {
  rules: Rule[];
  policy: string; // RateLimit-Policy
  periodId: string;
}

// What the checks found, for the RateLimit header.
interface Found {
  remaining: number[];
  resetSecs: number[];
}

export class TenantLimiter implements Limiter {
  private readonly plans = new WeakMap<Limits, Plan>();
  private period: QuotaPeriod;

  constructor(
    private readonly counters: Counters,
    private readonly settings: SettingsSource,
    private readonly now: () => number = Date.now,
  ) {
    this.period = quotaPeriod(now());
  }

  acquire(call: CallContext): Lease | Promise<Lease> {
    const { principal } = call;
    if (call.operation !== 'infer' || principal.tenant === null) return NO_LEASE;
    const tenant = this.settings.tenant(principal.tenant);
    const key = this.settings.keyOf(principal.subject);
    if (!tenant && !key) return NO_LEASE;
    const nowMs = this.now();
    if (nowMs >= this.period.endsMs) this.period = quotaPeriod(nowMs);
    let rules: Rule[];
    let policy: string;
    if (tenant && key) {
      const a = this.plan(tenant, 't:', principal.tenant, '');
      const b = this.plan(key, 'k:', principal.subject, 'key-');
      rules = [...a.rules, ...b.rules];
      policy = a.policy && b.policy ? `${a.policy}, ${b.policy}` : a.policy || b.policy;
    } else {
      const p = tenant
        ? this.plan(tenant, 't:', principal.tenant, '')
        : this.plan(key!, 'k:', principal.subject, 'key-');
      rules = p.rules;
      policy = p.policy;
    }
    if (rules.length === 0) return NO_LEASE;
    return this.run(call, rules, policy, 0, { remaining: [], resetSecs: [] });
  }

  // The settings object's compiled rules; `scope` names its counters
  // (built only when compiling: the hot path makes no strings for it).
  private plan(limits: Limits, kind: 't:' | 'k:', owner: string, prefix: string): Plan {
    let plan = this.plans.get(limits);
    if (!plan || plan.periodId !== this.period.id) {
      plan = compile(limits, kind + owner, prefix, this.period.id);
      this.plans.set(limits, plan);
    }
    return plan;
  }

  // Runs rules[i..] in order, synchronously while the answers are.
  private run(call: CallContext, rules: Rule[], policy: string, i: number, found: Found): Lease | Promise<Lease> {
    for (; i < rules.length; i++) {
      const result = this.check(rules[i]);
      if (result instanceof Promise) {
        const at = i;
        return result.then(
          (r) => {
            this.judge(call, rules, policy, at, found, r);
            return this.run(call, rules, policy, at + 1, found);
          },
          (err: unknown) => {
            this.undo(rules, at);
            throw err;
          },
        );
      }
      this.judge(call, rules, policy, i, found, result);
    }
    addHeaders(call, policy, this.stateHeader(rules, found));
    return new LimitLease(this, rules);
  }

  private check(rule: Rule): TakeResult | boolean | Promise<TakeResult | boolean> {
    switch (rule.kind) {
      case 'concurrency':
        return this.counters.enter(rule.key, rule.limit);
      case 'bucket':
        return this.counters.take(rule.key, rule.rate, rule.limit, 1);
      default:
        return this.counters.quotaTake(rule.key, rule.limit, 1, this.quotaTtlSecs());
    }
  }

  // Records what the check found; a refusal undoes the earlier checks, puts
  // the headers on the call and throws.
  private judge(
    call: CallContext,
    rules: Rule[],
    policy: string,
    i: number,
    found: Found,
    result: TakeResult | boolean,
  ): void {
    const rule = rules[i];
    let ok: boolean;
    let retryMs: number;
    if (typeof result === 'boolean') {
      ok = result;
      found.remaining.push(ok ? 1 : 0);
      found.resetSecs.push(0);
      retryMs = CONCURRENCY_RETRY_MS;
    } else {
      ok = result.granted > 0;
      found.remaining.push(result.remaining);
      const resetSecs =
        rule.kind === 'quota'
          ? (this.period.endsMs - this.now()) / 1000
          : ok
            ? (rule.limit - result.remaining) / rule.rate
            : result.waitMs / 1000;
      found.resetSecs.push(resetSecs);
      retryMs = rule.kind === 'quota' ? resetSecs * 1000 : result.waitMs;
    }
    if (ok) return;
    this.undo(rules, i);
    addHeaders(call, policy, this.stateHeader(rules, found));
    call.responseHeaders!.push(['Retry-After', String(retryAfterSecs(retryMs))]);
    throw new MaasError(rule.code, refusalMessage(rule));
  }

  private stateHeader(rules: Rule[], found: Found): string {
    let state = '';
    for (let j = 0; j < found.remaining.length; j++) {
      if (j > 0) state += ', ';
      state += stateItem(rules[j].name, found.remaining[j], found.resetSecs[j]);
    }
    return state;
  }

  // Gives back what rules[0..end) took.
  private undo(rules: Rule[], end: number): void {
    for (let j = end - 1; j >= 0; j--) {
      const rule = rules[j];
      if (rule.kind === 'concurrency') this.counters.leave(rule.key);
      else if (rule.kind === 'bucket') this.counters.charge(rule.key, rule.rate, rule.limit, -1);
      else this.counters.quotaCharge(rule.key, rule.limit, -1, this.quotaTtlSecs());
    }
  }

  // The call ended having served `inferences`: per-inference rules count
  // the rest of the batch (or give back the admission's 1 for none); a
  // request still counts as a request.
  settle(rule: Rule, inferences: number): void {
    if (rule.kind === 'concurrency') this.counters.leave(rule.key);
    else if (!rule.perInference || inferences === 1) return;
    else if (rule.kind === 'bucket') this.counters.charge(rule.key, rule.rate, rule.limit, inferences - 1);
    else this.counters.quotaCharge(rule.key, rule.limit, inferences - 1, this.quotaTtlSecs());
  }

  private quotaTtlSecs(): number {
    return Math.ceil((this.period.endsMs - this.now()) / 1000) + QUOTA_TTL_EXTRA_SECS;
  }
}

class LimitLease implements Lease {
  private released = false;

  constructor(
    private readonly limiter: TenantLimiter,
    private readonly rules: Rule[],
  ) {}

  release(_call: CallContext, inferences: number): void {
    if (this.released) return;
    this.released = true;
    for (const rule of this.rules) this.limiter.settle(rule, inferences);
  }
}

function compile(limits: Limits, scope: string, prefix: string, periodId: string): Plan {
  const rules: Rule[] = [];
  const items: string[] = [];
  const add = (rule: Rule, windowSecs: number | null, unit: 'concurrent-requests' | null) => {
    rules.push(rule);
    items.push(policyItem({ name: rule.name, quota: rule.limit, windowSecs, unit }));
  };
  const { concurrentRequests: concurrent, requestsPerSecond: rps, inferencesPerSecond: ips } = limits;
  if (concurrent !== null)
    add(
      rule('concurrency', 'CONCURRENCY_LIMITED', `${prefix}concurrency`, `${scope}:c`, concurrent, 0, false),
      null,
      'concurrent-requests',
    );
  if (rps !== null) {
    const capacity = capacityOf(rps, limits.burst);
    add(rule('bucket', 'RATE_LIMITED', `${prefix}requests`, `${scope}:r`, capacity, rps, false), capacity / rps, null);
  }
  if (ips !== null) {
    const capacity = capacityOf(ips, null);
    add(rule('bucket', 'RATE_LIMITED', `${prefix}inferences`, `${scope}:i`, capacity, ips, true), capacity / ips, null);
  }
  if (limits.monthlyInferences !== null) {
    const period = quotaPeriodOfId(periodId);
    add(
      rule('quota', 'QUOTA_EXCEEDED', `${prefix}monthly`, `${scope}:q:${periodId}`, limits.monthlyInferences, 0, true),
      period,
      null,
    );
  }
  return { rules, policy: items.join(', '), periodId };
}

function rule(
  kind: Rule['kind'],
  code: ErrorCode,
  name: string,
  key: string,
  limit: number,
  rate: number,
  perInference: boolean,
): Rule {
  return { kind, code, name, key, limit, rate, perInference };
}

// The length in seconds of the month 'YYYY-MM'.
function quotaPeriodOfId(id: string): number {
  const [year, month] = id.split('-').map(Number);
  return quotaPeriod(Date.UTC(year, month - 1, 1)).lengthSecs;
}

function addHeaders(call: CallContext, policy: string, state: string): void {
  const headers: Array<[string, string]> = [
    ['RateLimit-Policy', policy],
    ['RateLimit', state],
  ];
  if (call.responseHeaders) call.responseHeaders.push(...headers);
  else call.responseHeaders = headers;
}

function refusalMessage(rule: Rule): string {
  switch (rule.kind) {
    case 'concurrency':
      return `at most ${rule.limit} requests may be in flight (${rule.name})`;
    case 'quota':
      return `the monthly quota of ${rule.limit} inferences is used up (${rule.name})`;
    default:
      return `over the rate limit (${rule.name}: ${rule.rate} per second, bursts of ${rule.limit})`;
  }
}
