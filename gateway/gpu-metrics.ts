// GPU metrics on /metrics with Triton's names, labelled by gpu_uuid:
// nv_gpu_memory_total_bytes, nv_gpu_memory_used_bytes, nv_gpu_utilization
// (0..1, from NVML), and our caching allocators' maas_gpu_allocator_*_bytes
// (docs/cuda.md, "Metrics"). A server without a GPU registers none of them.
//
// Owner: this sampler owns its one timer (unref'd; stop() clears it). It
// samples the engine every periodMs rather than per scrape, so a scrape
// never waits on the driver.
import { Gauge, type Registry } from 'prom-client';
import type { DeviceInfo, DeviceMemoryStats } from '../native/types';

export interface GpuSources {
  devices(): DeviceInfo[];
  deviceMemory(): DeviceMemoryStats[];
}

export const DEFAULT_GPU_SAMPLE_MS = 2000;

export class GpuMetrics {
  private readonly total: Gauge;
  private readonly used: Gauge;
  private readonly utilization: Gauge;
  private readonly allocator: Gauge;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    registry: Registry,
    private readonly sources: GpuSources,
  ) {
    const labelNames = ['gpu_uuid'];
    this.total = new Gauge({
      name: 'nv_gpu_memory_total_bytes',
      help: 'GPU total memory, in bytes',
      labelNames,
      registers: [registry],
    });
    this.used = new Gauge({
      name: 'nv_gpu_memory_used_bytes',
      help: 'GPU used memory, in bytes',
      labelNames,
      registers: [registry],
    });
    this.utilization = new Gauge({
      name: 'nv_gpu_utilization',
      help: 'GPU utilization rate [0.0 - 1.0)',
      labelNames,
      registers: [registry],
    });
    this.allocator = new Gauge({
      name: 'maas_gpu_allocator_bytes',
      help: "The engine's caching device allocator: in_use, reserved (in use plus cached), peak (of in_use), pinned_host (staging)",
      labelNames: ['gpu_uuid', 'kind'],
      registers: [registry],
    });
  }

  // Null (and nothing registered) when the engine sees no GPU.
  static start(registry: Registry, sources: GpuSources, periodMs = DEFAULT_GPU_SAMPLE_MS): GpuMetrics | null {
    if (sources.devices().length === 0) return null;
    const metrics = new GpuMetrics(registry, sources);
    metrics.sample();
    metrics.timer = setInterval(() => metrics.sample(), periodMs);
    metrics.timer.unref();
    return metrics;
  }

  sample(): void {
    const devices = this.sources.devices();
    for (const d of devices) {
      const labels = { gpu_uuid: d.uuid };
      this.total.set(labels, d.totalMemoryBytes);
      this.used.set(labels, d.memoryUsedBytes >= 0 ? d.memoryUsedBytes : d.totalMemoryBytes - d.freeMemoryBytes);
      if (d.utilizationPercent >= 0) this.utilization.set(labels, d.utilizationPercent / 100);
    }
    for (const s of this.sources.deviceMemory()) {
      const uuid = devices.find((d) => d.id === s.device)?.uuid ?? `cuda:${s.device}`;
      this.allocator.set({ gpu_uuid: uuid, kind: 'in_use' }, s.inUseBytes);
      this.allocator.set({ gpu_uuid: uuid, kind: 'reserved' }, s.reservedBytes);
      this.allocator.set({ gpu_uuid: uuid, kind: 'peak' }, s.peakInUseBytes);
      this.allocator.set({ gpu_uuid: uuid, kind: 'pinned_host' }, s.pinnedHostBytes);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
