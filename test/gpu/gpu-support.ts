// What the GPU suites share: whether a GPU is there (and why not), the
// per-precision tolerances, and the demo models with seeded feeds.
// The addon is the one MAAS_ADDON_PATH names (bench/gpu-machine.sh points it
// at the CUDA build), else build/Release/maas_addon.node.
import { devices } from '../../native';
import type { DeviceInfo, Precision, Tensor, TensorMetadata } from '../../native/types';
import { seededRandom } from '../../models/seeded-random';

export type Feeds = Record<string, Tensor>;

export interface GpuState {
  gpu: DeviceInfo | null;
  reason: string; // why there is no GPU; '' when there is one
}

export function gpuState(): GpuState {
  let list: DeviceInfo[];
  try {
    list = devices();
  } catch (err) {
    return { gpu: null, reason: `no GPU: the engine addon does not load (${(err as Error).message})` };
  }
  if (list.length > 0) return { gpu: list[0], reason: '' };
  return {
    gpu: null,
    reason:
      'no GPU: devices() is empty (no CUDA driver or device on this machine, or an addon built without CUDA; ' +
      'bench/README.md says how to run this suite on a GPU machine)',
  };
}

export const PRECISIONS: Precision[] = ['fp32', 'fp16', 'bf16'];

// Float outputs agree when |gpu - cpu| <= tolerance * max(1, |cpu|). fp32:
// different summation orders (cuBLAS, tree reductions); fp16/bf16: math in
// 16 bits with float32 accumulation, over the depth of a demo model.
export const PARITY_TOLERANCE: Record<Precision, number> = { fp32: 1e-4, fp16: 2e-2, bf16: 8e-2 };

// Seeded feeds for a model's inputs (its metadata; -1 dims become `batch`):
// floats in [0, 1), masks of ones, token ids below 100 (any vocabulary).
export function seededFeeds(inputs: TensorMetadata[], batch: number, seed: number): Feeds {
  const random = seededRandom(seed);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const dims = input.dims.map((d) => (d >= 0 ? d : batch));
    const count = dims.reduce((a, b) => a * b, 1);
    const id = () => (/mask/i.test(input.name) ? 1 : Math.floor(random() * 100));
    if (input.type === 'float32') feeds[input.name] = { type: 'float32', dims, data: Float32Array.from({ length: count }, random) };
    else if (input.type === 'int64')
      feeds[input.name] = { type: 'int64', dims, data: BigInt64Array.from({ length: count }, () => BigInt(id())) };
    else if (input.type === 'int32') feeds[input.name] = { type: 'int32', dims, data: Int32Array.from({ length: count }, id) };
    else throw new Error(`no generator for input ${input.name} of type ${input.type}`);
  }
  return feeds;
}
