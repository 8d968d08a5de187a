// Where each instance of a model runs: a pure decision over the config's
// instance groups, the GPUs the engine sees and the model's size (docs/cuda.md,
// "Placement"). Triton's meaning: a KIND_GPU group puts `count` instances on
// each GPU it lists, or on every GPU when it lists none; KIND_CPU (and
// KIND_AUTO, which this server keeps on the CPU) puts `count` on the CPU.
import { MaasError } from '../../common/errors';
import type { InstanceGroupConfig } from '../catalog/config-types';

export interface GpuView {
  id: number;
  freeMemoryBytes: number;
  totalMemoryBytes: number;
}

// One device name per instance ('cpu' or 'cuda:N'), GPUs interleaved so that
// the batcher's first free instances spread over the GPUs. Throws
// ENGINE_UNSUPPORTED when a group needs a GPU this server lacks, and
// ENGINE_OUT_OF_MEMORY, with the numbers, when a GPU's free memory cannot
// hold its instances' weights (`weightsBytes` each; the ONNX file's size is
// the caller's estimate).
export function placeInstances(groups: InstanceGroupConfig[], gpus: GpuView[], weightsBytes: number): string[] {
  const cpu: string[] = [];
  const perGpu = new Map<number, number>(); // instances per GPU id, in first-listed order
  groups.forEach((g, i) => {
    const count = g.count ?? 1;
    if (g.kind !== 'KIND_GPU') {
      for (let n = 0; n < count; n++) cpu.push('cpu');
      return;
    }
    if (gpus.length === 0) {
      throw new MaasError(
        'ENGINE_UNSUPPORTED',
        `instance_group[${i}] is KIND_GPU but this server sees no GPU (no CUDA driver or device, or an engine built without CUDA)`,
      );
    }
    const listed = g.gpus && g.gpus.length > 0 ? g.gpus : gpus.map((d) => d.id);
    for (const id of listed) {
      if (!gpus.some((d) => d.id === id)) {
        throw new MaasError(
          'ENGINE_UNSUPPORTED',
          `instance_group[${i}] lists gpu ${id}, but this server has ${gpus.length} GPU(s): ${gpus.map((d) => d.id).join(', ')}`,
        );
      }
      perGpu.set(id, (perGpu.get(id) ?? 0) + count);
    }
  });
  for (const [id, instances] of perGpu) {
    const gpu = gpus.find((d) => d.id === id) as GpuView;
    const needBytes = instances * weightsBytes;
    if (needBytes > gpu.freeMemoryBytes) {
      throw new MaasError(
        'ENGINE_OUT_OF_MEMORY',
        `the model does not fit cuda:${id}: ${instances} instance(s) x ${weightsBytes} bytes of weights = ${needBytes} bytes, ` +
          `but the GPU has ${gpu.freeMemoryBytes} bytes free of ${gpu.totalMemoryBytes}`,
      );
    }
  }
  return [...interleave(perGpu), ...cpu];
}

function interleave(perGpu: Map<number, number>): string[] {
  const out: string[] = [];
  const left = new Map(perGpu);
  while (left.size > 0) {
    for (const [id, n] of left) {
      out.push(`cuda:${id}`);
      if (n === 1) left.delete(id);
      else left.set(id, n - 1);
    }
  }
  return out;
}
