// Triton's model configuration, JSON form with proto field names
// (docs/protocol.md "Model configuration"). Only the fields we act on are
// typed; unknown fields are kept and shown by the config endpoint. Whatever
// catalog a model comes from, its config is checked by model-config.ts.

export interface QueuePolicyConfig {
  timeout_action?: 'REJECT' | 'DELAY';
  default_timeout_microseconds?: number;
  allow_timeout_override?: boolean;
  max_queue_size?: number;
}

export interface DynamicBatchingConfig {
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: number;
  preserve_ordering?: boolean;
  priority_levels?: number;
  default_priority_level?: number;
  default_queue_policy?: QueuePolicyConfig;
  // Shorthands accepted at this level too.
  max_queue_size?: number;
  default_timeout_microseconds?: number;
}

export interface InstanceGroupConfig {
  name?: string;
  kind?: 'KIND_CPU' | 'KIND_GPU' | 'KIND_AUTO' | 'cpu' | 'gpu' | 'auto';
  count?: number; // instances per listed GPU (Triton's meaning), or in all for KIND_CPU
  gpus?: number[]; // KIND_GPU: the CUDA devices; none listed: every GPU
}

export interface TensorConfig {
  name: string;
  data_type: string; // TYPE_FP32 ...
  dims: number[]; // without the batch dimension when max_batch_size >= 1
}

export interface VersionPolicyConfig {
  latest?: { num_versions: number };
  all?: Record<string, never>;
  specific?: { versions: number[] };
}

// Triton's ModelTransactionPolicy: a decoupled model may send several
// answers per request (docs/protocol.md "Decoupled models").
export interface TransactionPolicyConfig {
  decoupled?: boolean;
}

// Triton's response cache switch; ttl_seconds is ours (docs/resilience.md).
export interface ResponseCacheConfig {
  enable?: boolean;
  ttl_seconds?: number;
}

// Ours: the per-version circuit breaker (docs/resilience.md).
export interface CircuitBreakerConfig {
  enable?: boolean;
  failure_threshold?: number;
  reset_timeout_ms?: number;
  timeout_ms?: number;
}

export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  input: TensorConfig[];
  output: TensorConfig[];
  dynamic_batching?: DynamicBatchingConfig;
  instance_group: InstanceGroupConfig[];
  version_policy?: VersionPolicyConfig;
  model_transaction_policy?: TransactionPolicyConfig;
  // Triton's free-form parameters; `precision` ('fp32' | 'fp16' | 'bf16') is
  // the GPU precision (docs/cuda.md).
  parameters?: Record<string, { string_value?: string }>;
  response_cache?: ResponseCacheConfig;
  circuit_breaker?: CircuitBreakerConfig;
}
