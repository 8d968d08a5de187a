// The serving layer behind the front ends: routes each request by model name
// and version to the runtime that serves it (model-table.ts), answers the
// metadata, readiness and statistics questions, and exposes the model
// lifecycle (lifecycle.ts) as Triton's repository extension. Front ends
// reach it only through the ModelService and ModelRepository interfaces.
import { performance } from 'node:perf_hooks';
import { MaasError, toMaasError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { InferenceMetrics } from '../../common/metrics';
import type { ModelConfig } from '../catalog/config-types';
import { DEFAULT_CACHE_TTL_SECONDS } from '../catalog/resilience-config';
import type { ModelCatalog } from '../catalog/port';
import type { ModelMetadata, ModelStatistics, RepositoryIndexEntry } from '../inference/model-types';
import type { InferRequest, InferResult } from '../inference/types';
import { runDecoupled, type AnswerSink } from './decoupled';
import { ModelLifecycle } from './lifecycle';
import { ModelTable, canonicalVersion } from './model-table';
import type { GpuView } from './placement';
import type { TenantPriority } from './priority';
import { type ResponseCache, responseCacheKey } from './response-cache';
import { ThreadBudget, type LoadModelFn } from './runtime-loader';
import { statisticsSnapshot } from './statistics';
import { meterCall, type VersionRuntime } from './version-runtime';
import type { ControlMode, LoadRequest, ModelRepository, ModelService } from './types';
import type { LifecycleSink } from '../../events/port';

export interface ModelServingOptions {
  catalog: ModelCatalog;
  loadModel: LoadModelFn;
  metrics: InferenceMetrics;
  logger: Logger;
  intraOpThreads?: number; // --threads
  controlMode?: ControlMode; // default 'none'
  startupModels?: readonly string[]; // explicit mode: --load-model
  drainDeadlineMs?: number; // a replaced or unloaded runtime's time to finish; default 30 s
  threadBudget?: ThreadBudget; // default: MAX_ENGINE_THREADS
  gpus?: () => GpuView[]; // the engine's devices() for KIND_GPU placement; default: none
  events?: LifecycleSink; // model loaded/unloaded on this node (Kafka's maas.events.v1)
  // A tenant's priority class (registry/tenant-priority.ts); absent: every
  // caller is standard unless it asks for a `priority`.
  tenantPriority?: (tenant: string | null) => TenantPriority | undefined;
  // For models whose config enables it; absent: no response cache.
  responseCache?: ResponseCache;
}

const DEFAULT_DRAIN_DEADLINE_MS = 30_000;
const NOTHING_COMPUTED = { computeInputUs: 0, computeInferUs: 0, computeOutputUs: 0 };

export class ModelServing implements ModelService, ModelRepository {
  readonly controlMode: ControlMode;
  private readonly table = new ModelTable();
  private readonly lifecycle: ModelLifecycle;

  constructor(private readonly options: ModelServingOptions) {
    this.controlMode = options.controlMode ?? 'none';
    this.lifecycle = new ModelLifecycle({
      catalog: options.catalog,
      table: this.table,
      loader: {
        loadModel: options.loadModel,
        metrics: options.metrics,
        threads: options.threadBudget ?? new ThreadBudget(),
        intraOpThreads: options.intraOpThreads,
        gpus: options.gpus,
      },
      logger: options.logger,
      controlMode: this.controlMode,
      startupModels: options.startupModels,
      drainDeadlineMs: options.drainDeadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS,
      events: options.events,
    });
  }

  // Loads what the control mode says at start; a model that fails is logged
  // and listed UNAVAILABLE with its reason, and the others serve.
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  // --- data plane ------------------------------------------------------------

  infer(request: InferRequest): Promise<InferResult> {
    let runtime;
    try {
      runtime = this.table.slot(request.modelName).route(request.modelVersion);
      if (runtime.decoupled) throw decoupledRefused(request);
    } catch (err) {
      return Promise.reject(toMaasError(err));
    }
    const tenant = request.call?.principal.tenant ?? null;
    const priority = this.options.tenantPriority?.(tenant);
    const cache = this.options.responseCache;
    if (cache && runtime.config.response_cache?.enable)
      return this.inferCached(cache, runtime, request, tenant, priority);
    return runtime.infer(request, priority);
  }

  // docs/resilience.md "Response cache": a hit answers without running (and
  // counts as a successful request, as in Triton); a miss runs and stores.
  private async inferCached(
    cache: ResponseCache,
    runtime: VersionRuntime,
    request: InferRequest,
    tenant: string | null,
    priority: TenantPriority | undefined,
  ): Promise<InferResult> {
    const startMs = performance.now();
    const key = responseCacheKey(tenant, runtime.version, request);
    const outputs = await cache.lookup(key);
    const lookupUs = (performance.now() - startMs) * 1000;
    const m = runtime.meters;
    m.recordCacheLookup(outputs !== undefined, lookupUs);
    if (outputs === undefined) {
      const result = await runtime.infer(request, priority);
      cache.insert(key, result.outputs, runtime.config.response_cache?.ttl_seconds ?? DEFAULT_CACHE_TTL_SECONDS);
      return result;
    }
    const totalUs = (performance.now() - startMs) * 1000;
    m.recordSuccess(m.forProtocol(request.call?.protocol), totalUs, 0, 0, 0, 0);
    if (request.call) meterCall(request.call, runtime.version, request.inputs, outputs, 0, NOTHING_COMPUTED);
    const first = request.inputs[0];
    return {
      id: request.id,
      modelName: runtime.name,
      modelVersion: runtime.version,
      outputs,
      batchSize: runtime.config.max_batch_size > 0 && first ? (first.shape[0] ?? 1) : 1,
      timing: { queueUs: 0, computeInputUs: 0, computeInferUs: 0, computeOutputUs: 0, totalUs },
    };
  }

  // The streaming front ends (WebSocket, gRPC ModelStreamInfer): the same
  // tenant priority and response cache as infer().
  async inferStream(request: InferRequest, onAnswer: AnswerSink): Promise<void> {
    const runtime = this.table.slot(request.modelName).route(request.modelVersion);
    if (runtime.decoupled) {
      const priority = this.options.tenantPriority?.(request.call?.principal.tenant ?? null);
      return runDecoupled(request, (step) => runtime.infer(step, priority), onAnswer);
    }
    onAnswer(await this.infer(request), true);
  }

  isReady(): boolean {
    for (const slot of this.table.all()) if (!slot.isReady()) return false;
    return true;
  }

  // A version whose circuit breaker is open is not ready (docs/resilience.md).
  isModelReady(name: string, version?: string): boolean {
    try {
      return !this.table.slot(name).route(version).circuitOpen;
    } catch {
      return false;
    }
  }

  metadata(name: string, version?: string): ModelMetadata {
    const slot = this.table.slot(name);
    const rt = slot.route(version);
    const versions = version ? [rt.version] : slot.readyVersions();
    return { name, versions, platform: rt.config.platform, inputs: rt.inputs, outputs: rt.outputs };
  }

  config(name: string, version?: string): ModelConfig {
    return this.table.slot(name).route(version).config;
  }

  statistics(name?: string, version?: string): ModelStatistics[] {
    const slots = name === undefined ? this.table.all() : [this.table.slot(name)];
    const wanted = version === undefined || version === '' ? undefined : canonicalVersion(version);
    const out: ModelStatistics[] = [];
    for (const slot of slots) {
      for (const rt of slot.runtimes()) {
        if (rt.state !== 'READY' || (wanted !== undefined && rt.version !== wanted)) continue;
        out.push(statisticsSnapshot(rt.meters, rt.memoryBytes));
      }
    }
    if (name !== undefined && wanted !== undefined && out.length === 0) {
      throw new MaasError(
        'MODEL_VERSION_NOT_FOUND',
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    }
    return out;
  }

  // --- control plane (repository extension) ------------------------------------

  async index(readyOnly: boolean): Promise<RepositoryIndexEntry[]> {
    const out: RepositoryIndexEntry[] = [];
    const listed = new Set<string>();
    for (const slot of this.table.all()) {
      listed.add(slot.name);
      out.push(...slot.indexEntries(readyOnly));
    }
    if (!readyOnly) {
      // Models the catalog holds that were never loaded (explicit mode).
      let names: string[] = [];
      try {
        names = await this.options.catalog.listModels();
      } catch {
        // The catalog is unreachable: list what is loaded.
      }
      for (const name of names) if (!listed.has(name)) out.push({ name, state: 'UNAVAILABLE', reason: 'not loaded' });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async load(name: string, request: LoadRequest = {}): Promise<void> {
    this.checkExplicit('load');
    let configOverride: unknown;
    if (request.configJson !== undefined) {
      try {
        configOverride = JSON.parse(request.configJson);
      } catch (err) {
        throw new MaasError('INVALID_PARAMETER', `the 'config' parameter is not valid JSON: ${(err as Error).message}`);
      }
    }
    await this.lifecycle.load(name, { configOverride });
  }

  async unload(name: string): Promise<void> {
    this.checkExplicit('unload');
    await this.lifecycle.unload(name);
  }

  // --- shutdown ------------------------------------------------------------------

  // The server is shutting down: every batcher sends what it holds without
  // waiting for more (requests already accepted are still taken).
  drain(): void {
    this.lifecycle.flush();
  }

  // Stops following the catalog, lets queued and running batches finish
  // within the deadline, then frees every engine session.
  close(deadlineMs = 10_000): Promise<void> {
    return this.lifecycle.close(deadlineMs);
  }

  private checkExplicit(what: string): void {
    if (this.controlMode !== 'explicit') {
      throw new MaasError(
        'MODEL_CONTROL_DISABLED',
        `explicit model ${what} is not allowed in model control mode '${this.controlMode}' (start with --model-control-mode explicit)`,
      );
    }
  }
}

// Triton's words for the same refusal, so its clients see what they know.
function decoupledRefused(request: InferRequest): MaasError {
  const where = request.call?.protocol === 'grpc' ? 'ModelInfer RPC' : 'HTTP end point';
  return new MaasError(
    'DECOUPLED_NOT_SUPPORTED',
    `${where} doesn't support models with decoupled transaction policy; use gRPC ModelStreamInfer or the WebSocket /v2/stream`,
  );
}
