// What the GPU suites share: whether a GPU is there (and why not), the
// per-precision tolerances, and the demo models with seeded feeds.
// The addon is the one MAAS_ADDON_PATH names (bench/gpu-machine.sh points it
// at the CUDA build), else build/Release/maas_addon.node.
import { devices } from '../../native';
import type { DeviceInfo, Precision } from '../../native/types';

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
