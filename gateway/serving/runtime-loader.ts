// Builds a VersionRuntime from a checked config and a catalog version: reads
// the bytes, loads one engine session per instance, completes the config
// from the engine's metadata. On any failure every session loaded so far is
// released before the error propagates.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import type { InferenceMetrics } from '../../common/metrics';
import type { LoadOptions, Session } from '../../native/types';
import type { ModelConfig } from '../catalog/config-types';
import { configPrecision } from '../catalog/model-config';
import type { CatalogVersion } from '../catalog/port';
import { completeConfig } from './complete-config';
import { placeInstances, type GpuView } from './placement';
import { VersionRuntime } from './version-runtime';

export type LoadModelFn = (bytes: Uint8Array, options?: LoadOptions) => Promise<Session>;

// Engine threads all loaded models may ask for together (instances x
// intra-op threads): a bound on what a repository can make the server spawn.
export const MAX_ENGINE_THREADS = 1024;

// The engine threads of every runtime alive (loaded and not yet released).
// Owned by the serving layer; runtimes take their share when they load and
// give it back when their sessions are released.
export class ThreadBudget {
  private used = 0;
  constructor(readonly limit = MAX_ENGINE_THREADS) {}

  get inUse(): number {
    return this.used;
  }

  take(instanceCount: number, threadsEach: number): number {
    const threads = instanceCount * threadsEach;
    if (this.used + threads > this.limit) {
      throw new MaasError(
        'INVALID_REQUEST',
        `${instanceCount} instance(s) x ${threadsEach} engine thread(s) = ${threads} threads; ` +
          `with the ${this.used} already started that passes the server's limit of ${this.limit} (lower instance_group.count or --threads)`,
      );
    }
    this.used += threads;
    return threads;
  }

  give(threads: number): void {
    this.used -= threads;
  }
}

// Engine threads per instance when --threads is not given: the cores left
// once the event loop has one, shared among the model's instances, so that
// its instances running at once (each on a run thread that works too) and
// the JS thread do not oversubscribe the CPU. At least 1.
export function defaultIntraOpThreads(instanceCount: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor((cores - 1) / instanceCount));
}

export interface LoaderDeps {
  loadModel: LoadModelFn;
  metrics: InferenceMetrics;
  threads: ThreadBudget;
  intraOpThreads?: number; // --threads; default: the cores shared among a model's instances
  gpus?: () => GpuView[]; // the engine's devices(); default: none (no KIND_GPU placement)
}

export async function loadRuntime(
  deps: LoaderDeps,
  config: ModelConfig,
  source: CatalogVersion,
  configText: string,
): Promise<VersionRuntime> {
  const startMs = performance.now();
  const bytes = await source.read();
  // GPU instances run on the device: one engine thread each (the run
  // worker that feeds the stream), against the budget like the CPU's.
  const placement = placeInstances(config.instance_group, deps.gpus?.() ?? [], bytes.byteLength);
  const cpuCount = placement.filter((d) => d === 'cpu').length;
  const intraOpThreads = deps.intraOpThreads ?? defaultIntraOpThreads(Math.max(1, cpuCount));
  const engineThreads = deps.threads.take(placement.length, cpuCount > 0 ? intraOpThreads : 1);
  const precision = configPrecision(config);
  const sessions: Session[] = [];
  try {
    for (const device of placement) {
      const options: LoadOptions =
        device === 'cpu' ? { intraOpThreads } : { intraOpThreads: 1, device: device as `cuda:${number}`, precision };
      sessions.push(await deps.loadModel(bytes, options));
    }
    const completed = completeConfig(config, sessions[0].inputMetadata, sessions[0].outputMetadata);
    const meters = deps.metrics.forVersion(config.name, source.version);
    meters.loadDurationSecs = (performance.now() - startMs) / 1000;
    return new VersionRuntime({
      name: config.name,
      version: source.version,
      config: completed.config,
      inputs: completed.inputs,
      outputs: completed.outputs,
      sessions,
      meters,
      modelSizeBytes: bytes.byteLength,
      engineThreads,
      fingerprint: `${source.fingerprint}|${configText}`,
    });
  } catch (err) {
    for (const s of sessions) s.release();
    deps.threads.give(engineThreads);
    throw err;
  }
}
