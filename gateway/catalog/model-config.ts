// Validates a model's configuration (Triton's field names, JSON form),
// whichever catalog it comes from: config.json in a repository directory,
// the `config` parameter of a load request, or (later) the registry. The
// serving layer completes it from the engine's metadata
// (gateway/serving/complete-config.ts).
import { MaasError } from '../../common/errors';
import { MAX_TIMER_MS } from '../../common/timers';
import { parseCircuitBreaker, parseResponseCache } from './resilience-config';
import type { DynamicBatchingConfig, InstanceGroupConfig, ModelConfig, TransactionPolicyConfig } from './config-types';

// What config.json may say; everything optional.
export type RawModelConfig = Partial<ModelConfig> & Record<string, unknown>;

function fail(modelName: string, message: string): never {
  throw new MaasError('INVALID_REQUEST', `model '${modelName}': invalid config.json: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Bounds on what config.json may ask for, so a typo cannot make the server
// spin timers, allocate millions of queues or start thousands of threads
// (docs/http.md has the list).
export const CONFIG_LIMITS = {
  // A duration setTimeout can hold (common/timers.ts MAX_TIMER_MS, ~24.8 days).
  maxDurationUs: MAX_TIMER_MS * 1000,
  maxPriorityLevels: 1024,
  maxInstancesPerModel: 64, // summed over instance_group entries
} as const;

function nonNegativeInt(
  modelName: string,
  field: string,
  v: unknown,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(modelName, `${field} must be a non-negative integer`);
  if (v > max) fail(modelName, `${field} is ${v}, above the largest allowed, ${max}`);
  return v;
}

function intList(modelName: string, field: string, v: unknown): number[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(modelName, `${field} must be an array of integers`);
  return v.map((x, i) => nonNegativeInt(modelName, `${field}[${i}]`, x, 0));
}

function parseDynamicBatching(
  modelName: string,
  raw: unknown,
  maxBatchSize: number,
): DynamicBatchingConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) fail(modelName, 'dynamic_batching must be an object');
  const policy = raw.default_queue_policy;
  if (policy !== undefined && !isObject(policy))
    fail(modelName, 'dynamic_batching.default_queue_policy must be an object');
  const preferred = intList(modelName, 'dynamic_batching.preferred_batch_size', raw.preferred_batch_size);
  for (const size of preferred) {
    if (size < 1 || size > maxBatchSize)
      fail(modelName, `preferred_batch_size ${size} must be within [1, max_batch_size=${maxBatchSize}]`);
  }
  const priorityLevels = nonNegativeInt(
    modelName,
    'dynamic_batching.priority_levels',
    raw.priority_levels,
    0,
    CONFIG_LIMITS.maxPriorityLevels,
  );
  const defaultPriority = nonNegativeInt(
    modelName,
    'dynamic_batching.default_priority_level',
    raw.default_priority_level,
    priorityLevels > 0 ? priorityLevels : 0,
  );
  if (priorityLevels > 0 && (defaultPriority < 1 || defaultPriority > priorityLevels)) {
    fail(modelName, `default_priority_level must be within [1, priority_levels=${priorityLevels}]`);
  }
  const timeoutAction = policy?.timeout_action;
  if (timeoutAction !== undefined && timeoutAction !== 'REJECT') {
    fail(modelName, `timeout_action ${JSON.stringify(timeoutAction)} is not supported (only REJECT)`);
  }
  if (policy?.allow_timeout_override !== undefined && typeof policy.allow_timeout_override !== 'boolean') {
    fail(modelName, 'default_queue_policy.allow_timeout_override must be a boolean');
  }
  // max_queue_size and default_timeout_microseconds may stand at either level;
  // the queue policy's value wins when both are given.
  const maxQueueSize = nonNegativeInt(modelName, 'max_queue_size', policy?.max_queue_size ?? raw.max_queue_size, 0);
  const defaultTimeoutUs = nonNegativeInt(
    modelName,
    'default_timeout_microseconds',
    policy?.default_timeout_microseconds ?? raw.default_timeout_microseconds,
    0,
    CONFIG_LIMITS.maxDurationUs,
  );
  return {
    preferred_batch_size: preferred,
    max_queue_delay_microseconds: nonNegativeInt(
      modelName,
      'dynamic_batching.max_queue_delay_microseconds',
      raw.max_queue_delay_microseconds,
      0,
      CONFIG_LIMITS.maxDurationUs,
    ),
    preserve_ordering: raw.preserve_ordering === true,
    priority_levels: priorityLevels,
    default_priority_level: defaultPriority,
    default_queue_policy: {
      timeout_action: 'REJECT',
      default_timeout_microseconds: defaultTimeoutUs,
      allow_timeout_override: policy?.allow_timeout_override ?? true,
      max_queue_size: maxQueueSize,
    },
  };
}

function parseInstanceGroups(modelName: string, raw: unknown): InstanceGroupConfig[] {
  if (raw === undefined) return [{ name: modelName, kind: 'KIND_CPU', count: 1 }];
  if (!Array.isArray(raw) || raw.length === 0) fail(modelName, 'instance_group must be a non-empty array');
  let instances = 0;
  return raw.map((g, i) => {
    if (!isObject(g)) fail(modelName, `instance_group[${i}] must be an object`);
    const rawKind = g.kind ?? 'KIND_CPU';
    const kind = typeof rawKind === 'string' ? rawKind.toUpperCase().replace(/^(KIND_)?/, 'KIND_') : '';
    if (!['KIND_CPU', 'KIND_GPU', 'KIND_AUTO'].includes(kind))
      fail(modelName, `instance_group[${i}].kind ${JSON.stringify(g.kind)} is unknown`);
    const count = nonNegativeInt(
      modelName,
      `instance_group[${i}].count`,
      g.count,
      1,
      CONFIG_LIMITS.maxInstancesPerModel,
    );
    if (count < 1) fail(modelName, `instance_group[${i}].count must be at least 1`);
    instances += count;
    if (instances > CONFIG_LIMITS.maxInstancesPerModel) {
      fail(
        modelName,
        `instance_group asks for ${instances} or more instances, above the largest allowed, ${CONFIG_LIMITS.maxInstancesPerModel}`,
      );
    }
    const gpus = intList(modelName, `instance_group[${i}].gpus`, g.gpus);
    if (gpus.length > 0 && kind === 'KIND_CPU') fail(modelName, `instance_group[${i}] is KIND_CPU but lists gpus`);
    if (new Set(gpus).size !== gpus.length) fail(modelName, `instance_group[${i}].gpus lists a GPU twice`);
    // Triton's meaning: `count` instances on each listed GPU.
    const groupInstances = count * Math.max(1, gpus.length);
    instances += groupInstances - count;
    if (instances > CONFIG_LIMITS.maxInstancesPerModel) {
      fail(
        modelName,
        `instance_group asks for ${instances} or more instances (count x gpus), above the largest allowed, ${CONFIG_LIMITS.maxInstancesPerModel}`,
      );
    }
    return {
      name: typeof g.name === 'string' ? g.name : `${modelName}_${i}`,
      kind: kind as InstanceGroupConfig['kind'],
      count,
      gpus,
    };
  });
}

// Exactly one of latest / all / specific, as Triton's ModelVersionPolicy oneof.
function parseVersionPolicy(modelName: string, raw: unknown): NonNullable<ModelConfig['version_policy']> {
  if (!isObject(raw)) fail(modelName, 'version_policy must be an object');
  const kinds = Object.keys(raw);
  if (kinds.length === 0) return { latest: { num_versions: 1 } }; // oneof unset: Triton's default
  if (kinds.length !== 1 || !['latest', 'all', 'specific'].includes(kinds[0])) {
    fail(modelName, 'version_policy must hold exactly one of latest, all or specific');
  }
  const body = raw[kinds[0]];
  if (!isObject(body)) fail(modelName, `version_policy.${kinds[0]} must be an object`);
  if (kinds[0] === 'latest') {
    const n = nonNegativeInt(modelName, 'version_policy.latest.num_versions', body.num_versions, 1);
    if (n < 1) fail(modelName, 'version_policy.latest.num_versions must be at least 1');
    return { latest: { num_versions: n } };
  }
  if (kinds[0] === 'specific') {
    if (!Array.isArray(body.versions)) fail(modelName, 'version_policy.specific.versions must be an array of integers');
    return { specific: { versions: intList(modelName, 'version_policy.specific.versions', body.versions) } };
  }
  return { all: {} };
}

function parseTransactionPolicy(modelName: string, raw: unknown): TransactionPolicyConfig {
  if (!isObject(raw)) fail(modelName, 'model_transaction_policy must be an object');
  if (raw.decoupled !== undefined && typeof raw.decoupled !== 'boolean') {
    fail(modelName, 'model_transaction_policy.decoupled must be a boolean');
  }
  return { decoupled: raw.decoupled === true };
}

const PRECISIONS = ['fp32', 'fp16', 'bf16'];

// Triton's free-form `parameters` map; we act on `precision` (the GPU
// precision, docs/cuda.md): {"precision": {"string_value": "fp16"}}.
function parsePrecision(modelName: string, raw: unknown): void {
  if (raw === undefined) return;
  if (!isObject(raw)) fail(modelName, 'parameters must be an object of {string_value} entries');
  const precision = raw.precision;
  if (precision === undefined) return;
  const value = isObject(precision) ? precision.string_value : undefined;
  if (typeof value !== 'string' || !PRECISIONS.includes(value))
    fail(modelName, `parameters.precision.string_value must be one of ${PRECISIONS.join(', ')}`);
}

// The GPU precision a checked config asks for ('fp32' when it names none).
export function configPrecision(config: ModelConfig): 'fp32' | 'fp16' | 'bf16' {
  const value = config.parameters?.precision?.string_value;
  return value === 'fp16' || value === 'bf16' ? value : 'fp32';
}

// Validates the parts of config.json we act on; unknown fields are kept.
export function parseModelConfig(modelName: string, raw: unknown): ModelConfig {
  if (raw === undefined) raw = {};
  if (!isObject(raw)) fail(modelName, 'the top level must be a JSON object');
  if (raw.name !== undefined && raw.name !== modelName) {
    fail(modelName, `name ${JSON.stringify(raw.name)} differs from the directory name`);
  }
  const maxBatchSize = nonNegativeInt(modelName, 'max_batch_size', raw.max_batch_size, 0);
  const dynamicBatching = parseDynamicBatching(modelName, raw.dynamic_batching, maxBatchSize);
  if (dynamicBatching && maxBatchSize === 0 && (dynamicBatching.preferred_batch_size?.length ?? 0) > 0) {
    fail(modelName, 'preferred_batch_size needs max_batch_size >= 1');
  }
  const config: ModelConfig = {
    ...raw,
    name: modelName,
    platform: typeof raw.platform === 'string' && raw.platform ? raw.platform : 'onnxruntime_onnx',
    backend: typeof raw.backend === 'string' && raw.backend ? raw.backend : 'maas',
    max_batch_size: maxBatchSize,
    input: [],
    output: [],
    instance_group: parseInstanceGroups(modelName, raw.instance_group),
  };
  if (raw.version_policy !== undefined) config.version_policy = parseVersionPolicy(modelName, raw.version_policy);
  if (dynamicBatching) config.dynamic_batching = dynamicBatching;
  else delete config.dynamic_batching;
  if (raw.model_transaction_policy !== undefined) {
    config.model_transaction_policy = parseTransactionPolicy(modelName, raw.model_transaction_policy);
  }
  parsePrecision(modelName, raw.parameters);
  if (raw.response_cache !== undefined) config.response_cache = parseResponseCache(modelName, raw.response_cache);
  if (raw.circuit_breaker !== undefined) config.circuit_breaker = parseCircuitBreaker(modelName, raw.circuit_breaker);
  return config;
}
