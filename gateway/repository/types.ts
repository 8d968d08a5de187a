// What the front ends may ask of the model side: lookup, metadata, config,
// readiness, statistics and inference. Implemented by ModelManager
// (gateway/repository/model-manager.ts); front ends depend only on this.
import type { KServeDatatype } from '../tensors/datatypes';
import type { InferRequest, InferResult } from '../inference/types';

// Triton's model configuration, JSON form with proto field names
// (PROTOCOL.md 3.1-3.4). Only the fields we act on are typed.
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
  // Shorthands accepted at this level too (the config names them here).
  max_queue_size?: number;
  default_timeout_microseconds?: number;
}

export interface InstanceGroupConfig {
  name?: string;
  kind?: 'KIND_CPU' | 'KIND_GPU' | 'KIND_AUTO' | 'cpu' | 'gpu' | 'auto';
  count?: number;
  gpus?: number[];
}

export interface TensorConfig {
  name: string;
  data_type: string; // TYPE_FP32 ...
  dims: number[]; // without the batch dimension when max_batch_size >= 1
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
  version_policy?: {
    latest?: { num_versions: number };
    all?: Record<string, never>;
    specific?: { versions: number[] };
  };
}

export interface TensorMetadata {
  name: string;
  datatype: KServeDatatype;
  shape: number[]; // -1 for variable dims, leading -1 when the model batches
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export type ModelState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: ModelState;
  reason: string;
}

// Triton statistics extension (PROTOCOL.md 1.11); durations in ns.
export interface DurationStat {
  count: number;
  ns: number;
}
export interface ModelStatistics {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: {
    success: DurationStat;
    fail: DurationStat;
    queue: DurationStat;
    compute_input: DurationStat;
    compute_infer: DurationStat;
    compute_output: DurationStat;
    cache_hit: DurationStat;
    cache_miss: DurationStat;
  };
  response_stats: Record<string, never>;
  batch_stats: Array<{
    batch_size: number;
    compute_input: DurationStat;
    compute_infer: DurationStat;
    compute_output: DurationStat;
  }>;
  memory_usage: Array<{ type: string; id: number; byte_size: number }>;
}

export interface ModelService {
  // true when every model in the repository is ready (strict readiness).
  isReady(): boolean;
  // Throws MaasError MODEL_NOT_FOUND / MODEL_VERSION_NOT_FOUND.
  metadata(name: string, version?: string): ModelMetadata;
  config(name: string, version?: string): ModelConfig;
  // false (never throws) for an unknown or unready model/version.
  isModelReady(name: string, version?: string): boolean;
  index(readyOnly: boolean): RepositoryIndexEntry[];
  // name undefined = all models; throws MODEL_NOT_FOUND for an unknown name.
  statistics(name?: string, version?: string): ModelStatistics[];
  // Validates inputs against the model (names, datatypes, shapes, batch size)
  // and runs them through the model's batcher. Rejects with MaasError.
  infer(request: InferRequest): Promise<InferResult>;
}
