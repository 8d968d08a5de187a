// Pure decisions of the limits step (docs/limits.md): what a setting may
// hold, a tenant's and a key's effective limits, a token bucket on a given
// clock, the monthly quota period and the IETF RateLimit header values. No
// I/O and no timers: callers pass the time, tests pass a virtual one.

export const LIMIT_FIELDS = [
  'requestsPerSecond',
  'burst',
  'inferencesPerSecond',
  'concurrentRequests',
  'monthlyInferences',
] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];

// null (or absent): no limit of that kind.
export type Limits = { [F in LimitField]: number | null };

export const NO_LIMITS: Limits = Object.freeze({
  requestsPerSecond: null,
  burst: null,
  inferencesPerSecond: null,
  concurrentRequests: null,
  monthlyInferences: null,
});

const MAX_VALUE = 1e12;

// A PUT body: any subset of the fields, each a positive number (rates may be
// fractional, counts are integers) or null to remove it. Returns the fields
// given; throws a message for the first bad one.
export function parseLimits(body: Record<string, unknown>): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(name))
      throw new Error(`unknown field '${name}' (known: ${LIMIT_FIELDS.join(', ')})`);
    const field = name as LimitField;
    if (value === null) {
      out[field] = null;
      continue;
    }
    const integer = field !== 'requestsPerSecond' && field !== 'inferencesPerSecond';
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value <= 0 ||
      value > MAX_VALUE ||
      (integer && !Number.isInteger(value))
    )
      throw new Error(`'${field}' must be a positive ${integer ? 'integer' : 'number'} up to ${MAX_VALUE}, or null`);
    out[field] = value;
  }
  return out;
}

export function mergeLimits(base: Limits, change: Partial<Limits>): Limits {
  return { ...base, ...change };
}

// What holds for a call with a key: each field the tighter of the two (the
// tenant's buckets are shared by all its keys, so a key never gets more).
export function effectiveLimits(tenant: Limits, key: Limits | undefined): Limits {
  if (!key) return tenant;
  const out = { ...tenant };
  for (const f of LIMIT_FIELDS) {
    const k = key[f];
    const t = tenant[f];
    out[f] = k === null ? t : t === null ? k : Math.min(k, t);
  }
  return out;
}

// A bucket's capacity: `burst`, else one second of its rate (at least 1).
export function capacityOf(ratePerSec: number, burst: number | null): number {
  return burst ?? Math.max(1, Math.ceil(ratePerSec));
}

// ---- token bucket ----

// Tokens may go below zero: a batch settled after the work (charge) is
// debt the next admissions wait for.
export interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function newBucket(capacity: number, nowMs: number): Bucket {
  return { tokens: capacity, updatedMs: nowMs };
}

export function refill(b: Bucket, ratePerSec: number, capacity: number, nowMs: number): void {
  if (nowMs > b.updatedMs) {
    b.tokens = Math.min(capacity, b.tokens + ((nowMs - b.updatedMs) * ratePerSec) / 1000);
    b.updatedMs = nowMs;
  }
}

export interface TakeResult {
  granted: number; // 0 (refused) or between `need` and `want`
  remaining: number; // whole tokens left after the take
  waitMs: number; // refused: until `need` tokens are there; else 0
}

// Takes `want` tokens if there are, else as many as there are if at least
// `need` (the local lease of a shared bucket asks for a block but makes do
// with less), else none.
export function take(
  b: Bucket,
  ratePerSec: number,
  capacity: number,
  need: number,
  want: number,
  nowMs: number,
): TakeResult {
  refill(b, ratePerSec, capacity, nowMs);
  const whole = Math.floor(b.tokens + 1e-9);
  if (whole < need) {
    const waitMs = Math.ceil(((need - b.tokens) * 1000) / ratePerSec);
    return { granted: 0, remaining: Math.max(0, whole), waitMs: Math.max(1, waitMs) };
  }
  const granted = Math.min(want, whole);
  b.tokens -= granted;
  return { granted, remaining: Math.max(0, Math.floor(b.tokens + 1e-9)), waitMs: 0 };
}

// Settles after the work (batch size known) or gives tokens back (n < 0,
// capped at capacity).
export function charge(b: Bucket, ratePerSec: number, capacity: number, n: number, nowMs: number): void {
  refill(b, ratePerSec, capacity, nowMs);
  b.tokens = Math.min(capacity, b.tokens - n);
}

// How many tokens a replica leases at a time from a shared bucket: about
// LEASE_SHARE of a second's rate split among the replicas, at least the
// need, at most MAX_LEASE and never more than the bucket holds. Small
// blocks keep the replicas' total within a few percent of the limit (a block
// is spent or returned within LEASE_TTL_MS); large rates get large blocks, so
// a busy limit costs one Redis call per many requests.
export const LEASE_SHARE = 0.05;
export const MAX_LEASE = 1000;
export const LEASE_TTL_MS = 250;

export function leaseBlock(ratePerSec: number, capacity: number, replicas: number, need: number): number {
  const share = Math.floor((ratePerSec * LEASE_SHARE) / Math.max(1, replicas));
  return Math.max(need, Math.min(MAX_LEASE, Math.floor(capacity / 2), share));
}

// Quota units leased at a time: at most 1% of what is left per replica, so
// the end of a quota is reached one unit at a time (exact).
export function quotaBlock(remaining: number, replicas: number, need: number): number {
  return Math.max(need, Math.min(MAX_LEASE, Math.floor(remaining / (100 * Math.max(1, replicas)))));
}

// ---- monthly quota ----

export interface QuotaPeriod {
  id: string; // 'YYYY-MM' (UTC)
  endsMs: number; // the first millisecond of the next month
  lengthSecs: number;
}

export function quotaPeriod(nowMs: number): QuotaPeriod {
  const d = new Date(nowMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const startsMs = Date.UTC(year, month, 1);
  const endsMs = Date.UTC(year, month + 1, 1);
  return {
    id: `${year}-${String(month + 1).padStart(2, '0')}`,
    endsMs,
    lengthSecs: (endsMs - startsMs) / 1000,
  };
}

// ---- RateLimit-Policy / RateLimit (draft-ietf-httpapi-ratelimit-headers) ----

// One policy as the headers state it: quota q in window w seconds (w absent
// for a concurrency cap), remaining r, reset t seconds.
export interface PolicyState {
  name: string; // a structured-field string: [a-z]+ here
  quota: number;
  windowSecs: number | null;
  unit: 'request' | 'concurrent-requests' | null; // null: the draft's default (requests)
  remaining: number;
  resetSecs: number;
}

export function rateLimitHeaders(policies: readonly PolicyState[]): Array<[string, string]> {
  if (policies.length === 0) return [];
  return [
    ['RateLimit-Policy', policies.map(policyItem).join(', ')],
    ['RateLimit', policies.map((p) => stateItem(p.name, p.remaining, p.resetSecs)).join(', ')],
  ];
}

// One member of RateLimit-Policy (fixed while the settings are).
export function policyItem(p: Omit<PolicyState, 'remaining' | 'resetSecs'>): string {
  let item = `"${p.name}";q=${Math.floor(p.quota)}`;
  if (p.unit) item += `;qu="${p.unit}"`;
  if (p.windowSecs !== null) item += `;w=${Math.max(1, Math.ceil(p.windowSecs))}`;
  return item;
}

// One member of RateLimit.
export function stateItem(name: string, remaining: number, resetSecs: number): string {
  return `"${name}";r=${Math.max(0, Math.floor(remaining))};t=${Math.max(0, Math.ceil(resetSecs))}`;
}

// Retry-After in whole seconds (at least 1: 0 invites an immediate retry).
export function retryAfterSecs(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
