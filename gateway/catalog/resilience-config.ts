// The resilience parts of a model's config (docs/resilience.md):
// `response_cache` (Triton's field; `ttl_seconds` is ours) and
// `circuit_breaker` (ours). Checked with the rest of the config at load.
import { MaasError } from '../../common/errors';
import type { CircuitBreakerConfig, ResponseCacheConfig } from './config-types';

const MAX_TTL_SECONDS = 30 * 24 * 3600;
const MAX_BREAKER_MS = 24 * 3600 * 1000;

export const BREAKER_DEFAULTS: Required<CircuitBreakerConfig> = Object.freeze({
  enable: true,
  failure_threshold: 5, // consecutive failed or slow executions that open it
  reset_timeout_ms: 10_000, // open this long, then one probe
  timeout_ms: 0, // an execution slower than this counts as a failure; 0 = never
});

export const DEFAULT_CACHE_TTL_SECONDS = 60;

function fail(modelName: string, message: string): never {
  throw new MaasError('INVALID_REQUEST', `model '${modelName}': invalid config.json: ${message}`);
}

function object(modelName: string, field: string, raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(modelName, `${field} must be an object`);
  return raw as Record<string, unknown>;
}

function bool(modelName: string, field: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(modelName, `${field} must be a boolean`);
  return v;
}

function int(modelName: string, field: string, v: unknown, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    fail(modelName, `${field} must be an integer in [${min}, ${max}]`);
  return v;
}

export function parseResponseCache(modelName: string, raw: unknown): Required<ResponseCacheConfig> {
  const o = object(modelName, 'response_cache', raw);
  return {
    enable: bool(modelName, 'response_cache.enable', o.enable, false),
    ttl_seconds: int(
      modelName,
      'response_cache.ttl_seconds',
      o.ttl_seconds,
      DEFAULT_CACHE_TTL_SECONDS,
      1,
      MAX_TTL_SECONDS,
    ),
  };
}

export function parseCircuitBreaker(modelName: string, raw: unknown): Required<CircuitBreakerConfig> {
  const o = object(modelName, 'circuit_breaker', raw);
  const d = BREAKER_DEFAULTS;
  return {
    enable: bool(modelName, 'circuit_breaker.enable', o.enable, d.enable),
    failure_threshold: int(
      modelName,
      'circuit_breaker.failure_threshold',
      o.failure_threshold,
      d.failure_threshold,
      1,
      1000,
    ),
    reset_timeout_ms: int(
      modelName,
      'circuit_breaker.reset_timeout_ms',
      o.reset_timeout_ms,
      d.reset_timeout_ms,
      1,
      MAX_BREAKER_MS,
    ),
    timeout_ms: int(modelName, 'circuit_breaker.timeout_ms', o.timeout_ms, d.timeout_ms, 0, MAX_BREAKER_MS),
  };
}
