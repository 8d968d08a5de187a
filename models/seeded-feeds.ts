// Seeded inputs for any model from its input metadata, shared by the GPU
// parity suite (test/gpu/) and bench/gpu.ts.
import type { Tensor, TensorMetadata } from '../native/types';
import { seededRandom } from './seeded-random';

export type Feeds = Record<string, Tensor>;

// Seeded feeds for a model's inputs (its metadata; -1 dims become `batch`):
// floats in [0, 1), masks of ones, token ids below 100 (any vocabulary).
export function seededFeeds(inputs: TensorMetadata[], batch: number, seed: number): Feeds {
  const random = seededRandom(seed);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const dims = input.dims.map((d) => (d >= 0 ? d : batch));
    const count = dims.reduce((a, b) => a * b, 1);
    const id = () => (/mask/i.test(input.name) ? 1 : Math.floor(random() * 100));
    if (input.type === 'float32')
      feeds[input.name] = { type: 'float32', dims, data: Float32Array.from({ length: count }, random) };
    else if (input.type === 'int64')
      feeds[input.name] = { type: 'int64', dims, data: BigInt64Array.from({ length: count }, () => BigInt(id())) };
    else if (input.type === 'int32')
      feeds[input.name] = { type: 'int32', dims, data: Int32Array.from({ length: count }, id) };
    else throw new Error(`no generator for input ${input.name} of type ${input.type}`);
  }
  return feeds;
}
