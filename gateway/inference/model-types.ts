// What the front ends report about models, whatever the protocol: metadata,
// readiness states, the repository index and Triton's statistics
// (docs/protocol.md). The serving layer produces these.
import type { KServeDatatype } from './datatypes';

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

// Triton statistics extension; durations in ns.
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
