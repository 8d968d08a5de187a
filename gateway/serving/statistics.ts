// Triton's statistics extension (docs/protocol.md "Statistics") from one
// model version's meters (common/metrics.ts VersionMeters): the same
// numbers /metrics exports, cumulative for the server's life.
import type { DurationTotal, VersionMeters } from '../../common/metrics';
import type { DurationStat, ModelStatistics } from '../inference/model-types';

function copy(d: DurationTotal): DurationStat {
  return { count: d.count, ns: d.ns };
}

const ZERO: DurationTotal = { count: 0, ns: 0 };

export function statisticsSnapshot(m: VersionMeters, memoryBytes: number): ModelStatistics {
  return {
    name: m.model,
    version: m.version,
    last_inference: m.lastInferenceMs,
    inference_count: m.inferenceCount,
    execution_count: m.executionCount,
    inference_stats: {
      success: copy(m.success),
      fail: copy(m.fail),
      queue: copy(m.queue),
      compute_input: copy(m.computeInput),
      compute_infer: copy(m.computeInfer),
      compute_output: copy(m.computeOutput),
      cache_hit: copy(ZERO),
      cache_miss: copy(ZERO),
    },
    response_stats: {},
    batch_stats: [...m.batches.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([size, b]) => ({
        batch_size: size,
        compute_input: copy(b.input),
        compute_infer: copy(b.infer),
        compute_output: copy(b.output),
      })),
    memory_usage: [{ type: 'CPU', id: 0, byte_size: memoryBytes }],
  };
}
