// Loads the models of a repository into the engine and serves them: one
// dynamic batcher per model version, one engine session per instance. The
// front ends reach it only through the ModelService interface.
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MaasError, toMaasError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { FailureReason, InferenceMetrics, VersionMetrics } from '../../common/metrics';
import type { Session, Tensor } from '../../native/types';
import { DynamicBatcher } from '../batching/batcher';
import { concatInputs, splitOutputs } from '../batching/assemble';
import { DATATYPES, kserveFromEngineType } from '../tensors/datatypes';
import type { InferInput, InferOutput, InferRequest, InferResult } from '../inference/types';
import { completeConfig, parseModelConfig } from './config';
import { MODEL_FILE_NAME, scanRepository, selectVersions, type ModelDirectory } from './scan';
import { VersionStatistics } from './stats';
import { validateRequest } from './validate';
import type {
  ModelConfig,
  ModelMetadata,
  ModelService,
  ModelState,
  ModelStatistics,
  RepositoryIndexEntry,
  TensorMetadata,
} from './types';

export type LoadModelFn = (bytes: Uint8Array, options?: { intraOpThreads?: number }) => Promise<Session>;

export interface ModelManagerOptions {
  repositoryDir: string;
  loadModel: LoadModelFn;
  metrics: InferenceMetrics;
  logger: Logger;
  intraOpThreads?: number;
}

// What one batch execution reports back to each of its requests.
interface ExecutionResult {
  outputs: InferOutput[];
  batchSize: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
}

interface QueuedWork {
  inputs: InferInput[];
  batchSize: number;
}

interface ModelVersion {
  version: string;
  state: ModelState;
  reason: string;
  config?: ModelConfig;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  sessions: Session[];
  batcher?: DynamicBatcher<QueuedWork, ExecutionResult>;
  stats: VersionStatistics;
  metrics: VersionMetrics;
  modelSizeBytes: number;
  engineThreads: number; // what its sessions count against MAX_ENGINE_THREADS
}

interface ModelEntry {
  name: string;
  config?: ModelConfig; // absent when config.json itself is broken
  reason: string; // why the model as a whole is unavailable, if it is
  versions: Map<string, ModelVersion>;
}

function elapsedUs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1000;
}

function failureReason(code: string): FailureReason {
  if (code === 'QUEUE_FULL' || code === 'QUEUE_TIMEOUT') return 'REJECTED';
  if (code === 'CANCELLED') return 'CANCELED';
  if (code.startsWith('ENGINE_')) return 'BACKEND';
  return 'OTHER';
}

// Engine threads all loaded models may start together (instances x
// intra-op threads): a bound on what a repository can make the server spawn.
export const MAX_ENGINE_THREADS = 1024;

export class ModelManager implements ModelService {
  private readonly models = new Map<string, ModelEntry>();
  private engineThreads = 0;

  constructor(private readonly options: ModelManagerOptions) {}

  // Loads every model found; a broken model is logged and reported in the
  // index as UNAVAILABLE without stopping the others.
  async loadAll(): Promise<void> {
    const dirs = await scanRepository(this.options.repositoryDir);
    for (const dir of dirs) {
      let entry: ModelEntry;
      try {
        entry = await this.loadModelDirectory(dir);
      } catch (err) {
        // One model's surprise must not stop the others (nor leak their sessions).
        entry = { name: dir.name, reason: toMaasError(err).message, versions: new Map() };
        this.options.logger.error({ model: dir.name, reason: entry.reason }, 'model failed to load');
      }
      this.models.set(entry.name, entry);
    }
  }

  private async loadModelDirectory(dir: ModelDirectory): Promise<ModelEntry> {
    const entry: ModelEntry = { name: dir.name, reason: '', versions: new Map() };
    const log = this.options.logger.child({ model: dir.name });
    try {
      const raw = dir.configPath ? JSON.parse(await fs.readFile(dir.configPath, 'utf8')) : undefined;
      entry.config = parseModelConfig(dir.name, raw);
    } catch (err) {
      entry.reason =
        err instanceof SyntaxError ? `config.json is not valid JSON: ${err.message}` : toMaasError(err).message;
      log.error({ reason: entry.reason }, 'model config rejected');
      return entry;
    }
    if (dir.ambiguity) {
      entry.reason = dir.ambiguity;
      log.error({ reason: entry.reason }, 'model versions are ambiguous');
      return entry;
    }
    const selected = selectVersions(dir.versions, entry.config.version_policy);
    if (selected.length === 0) {
      entry.reason = `no version directory with ${MODEL_FILE_NAME} found`;
      log.error({ reason: entry.reason }, 'model has no versions');
      return entry;
    }
    for (const v of selected) {
      const version = await this.loadVersion(entry.config, v.version, v.modelPath);
      entry.versions.set(v.version, version);
      if (version.state === 'READY') log.info({ version: v.version }, 'model version ready');
      else log.error({ version: v.version, reason: version.reason }, 'model version failed to load');
    }
    return entry;
  }

  private async loadVersion(baseConfig: ModelConfig, version: string, modelPath: string): Promise<ModelVersion> {
    const mv: ModelVersion = {
      version,
      state: 'LOADING',
      reason: '',
      inputs: [],
      outputs: [],
      sessions: [],
      engineThreads: 0,
      stats: new VersionStatistics(baseConfig.name, version),
      metrics: this.options.metrics.forVersion(baseConfig.name, version),
      modelSizeBytes: 0,
    };
    const startNs = process.hrtime.bigint();
    try {
      const groups = baseConfig.instance_group;
      if (groups.some((g) => g.kind === 'KIND_GPU')) {
        throw new MaasError(
          'ENGINE_UNSUPPORTED',
          'KIND_GPU instance groups need the CUDA execution backend, which this build does not run yet',
        );
      }
      const instanceCount = groups.reduce((n, g) => n + (g.count ?? 1), 0);
      const intraOpThreads = this.threadsPerInstance(instanceCount);
      const threads = instanceCount * intraOpThreads;
      if (this.engineThreads + threads > MAX_ENGINE_THREADS) {
        throw new MaasError(
          'INVALID_REQUEST',
          `${instanceCount} instance(s) x ${intraOpThreads} engine thread(s) = ${threads} threads; ` +
            `with the ${this.engineThreads} already started that passes the server's limit of ${MAX_ENGINE_THREADS} (lower instance_group.count or --threads)`,
        );
      }
      const bytes = await fs.readFile(modelPath);
      mv.modelSizeBytes = bytes.byteLength;
      this.engineThreads += threads;
      mv.engineThreads = threads;
      for (let i = 0; i < instanceCount; i++) {
        mv.sessions.push(await this.options.loadModel(bytes, { intraOpThreads }));
      }
      const first = mv.sessions[0];
      const completed = completeConfig(baseConfig, first.inputMetadata, first.outputMetadata);
      mv.config = completed.config;
      mv.inputs = completed.inputs;
      mv.outputs = completed.outputs;
      mv.batcher = this.createBatcher(mv, completed.config);
      mv.state = 'READY';
      mv.metrics.modelLoadDurationSecs.set(elapsedUs(startNs) / 1e6);
    } catch (err) {
      this.releaseSessions(mv);
      mv.state = 'UNAVAILABLE';
      mv.reason = toMaasError(err).message;
    }
    return mv;
  }

  // Engine threads for each instance of a model: --threads when given, else
  // the cores shared among the instances, so that a model's instances
  // running at once do not oversubscribe the CPU.
  private threadsPerInstance(instanceCount: number): number {
    return this.options.intraOpThreads ?? Math.max(1, Math.floor(availableParallelism() / instanceCount));
  }

  private releaseSessions(mv: ModelVersion): void {
    for (const s of mv.sessions) s.release();
    mv.sessions = [];
    this.engineThreads -= mv.engineThreads;
    mv.engineThreads = 0;
  }

  private createBatcher(mv: ModelVersion, config: ModelConfig): DynamicBatcher<QueuedWork, ExecutionResult> {
    const db = config.dynamic_batching;
    const policy = db?.default_queue_policy;
    return new DynamicBatcher<QueuedWork, ExecutionResult>(
      {
        // Without dynamic_batching every request runs alone (Triton's default scheduler).
        maxBatchSize: db ? config.max_batch_size : 0,
        preferredBatchSizes: db?.preferred_batch_size ?? [],
        maxQueueDelayUs: db?.max_queue_delay_microseconds ?? 0,
        maxQueueSize: policy?.max_queue_size ?? 0,
        defaultTimeoutUs: policy?.default_timeout_microseconds ?? 0,
        allowTimeoutOverride: policy?.allow_timeout_override ?? true,
        priorityLevels: db?.priority_levels ?? 0,
        defaultPriorityLevel: db?.default_priority_level ?? 0,
        instanceCount: mv.sessions.length,
      },
      (batch, instanceIndex) => this.execute(mv, config, batch, instanceIndex),
    );
  }

  // Runs one batch on one instance: concatenate inputs along the batch
  // dimension, run the engine, slice the outputs back per request.
  private async execute(
    mv: ModelVersion,
    config: ModelConfig,
    batch: QueuedWork[],
    instanceIndex: number,
  ): Promise<ExecutionResult[]> {
    const m = mv.metrics;
    m.pendingRequests.set(mv.batcher?.pendingCount ?? 0);
    const inputStartNs = process.hrtime.bigint();
    const batchSizes = batch.map((w) => w.batchSize);
    const totalBatch = batchSizes.reduce((a, b) => a + b, 0);
    const feeds: Record<string, Tensor> = {};
    if (batch.length === 1) {
      for (const input of batch[0].inputs)
        feeds[input.name] = this.toEngineTensor(input.name, input.datatype, input.shape, input.data);
    } else {
      const merged = concatInputs(
        batch.map((w) => w.inputs),
        mv.inputs.map((t) => t.name),
      );
      for (const meta of mv.inputs) {
        const m = merged.get(meta.name)!;
        feeds[meta.name] = this.toEngineTensor(meta.name, meta.datatype, m.shape, m.data);
      }
    }
    const inferStartNs = process.hrtime.bigint();
    const computeInputUs = Number(inferStartNs - inputStartNs) / 1000;
    const results = await mv.sessions[instanceIndex].run(feeds);
    const outputStartNs = process.hrtime.bigint();
    const computeInferUs = Number(outputStartNs - inferStartNs) / 1000;
    const outputs: InferOutput[] = mv.outputs.map((meta) => {
      const t = results[meta.name];
      if (!t) throw new MaasError('ENGINE_INTERNAL', `the engine returned no output '${meta.name}'`);
      return { name: meta.name, datatype: kserveFromEngineType(t.type), shape: t.dims, data: t.data };
    });
    const perRequest = batch.length === 1 ? [outputs] : splitOutputs(outputs, batchSizes);
    const computeOutputUs = elapsedUs(outputStartNs);
    mv.stats.recordExecution(totalBatch, computeInputUs, computeInferUs, computeOutputUs);
    m.execCount.inc();
    m.inferenceCount.inc(totalBatch);
    m.batchSize.observe(totalBatch);
    m.computeSeconds.observe((computeInputUs + computeInferUs + computeOutputUs) / 1e6);
    return perRequest.map((o) => ({
      outputs: o,
      batchSize: totalBatch,
      computeInputUs,
      computeInferUs,
      computeOutputUs,
    }));
  }

  private toEngineTensor(
    name: string,
    datatype: InferInput['datatype'],
    shape: number[],
    data: InferInput['data'],
  ): Tensor {
    const type = DATATYPES[datatype].engineType;
    if (!type)
      throw new MaasError('INVALID_DATATYPE', `input '${name}': datatype ${datatype} is not supported by the engine`);
    return { type, dims: shape, data };
  }

  // --- lookup --------------------------------------------------------------

  private entry(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (!entry) throw new MaasError('MODEL_NOT_FOUND', `Request for unknown model: '${name}' is not found`);
    return entry;
  }

  // The requested version, or the latest ready one.
  private readyVersion(name: string, version?: string): { entry: ModelEntry; mv: ModelVersion } {
    const entry = this.entry(name);
    if (version !== undefined && version !== '') {
      const mv = entry.versions.get(String(Number(version)));
      if (!mv)
        throw new MaasError(
          'MODEL_VERSION_NOT_FOUND',
          `Request for unknown model: '${name}' version ${version} is not found`,
        );
      if (mv.state !== 'READY')
        throw new MaasError('MODEL_NOT_READY', `model '${name}' version ${version} is not ready: ${mv.reason}`);
      return { entry, mv };
    }
    const ready = [...entry.versions.values()].filter((v) => v.state === 'READY');
    if (ready.length === 0) {
      throw new MaasError(
        'MODEL_NOT_READY',
        `model '${name}' has no ready version${entry.reason ? `: ${entry.reason}` : ''}`,
      );
    }
    return { entry, mv: ready.reduce((a, b) => (Number(b.version) > Number(a.version) ? b : a)) };
  }

  isReady(): boolean {
    for (const entry of this.models.values()) {
      if (entry.versions.size === 0) return false;
      for (const mv of entry.versions.values()) if (mv.state !== 'READY') return false;
    }
    return true;
  }

  isModelReady(name: string, version?: string): boolean {
    try {
      this.readyVersion(name, version);
      return true;
    } catch {
      return false;
    }
  }

  metadata(name: string, version?: string): ModelMetadata {
    const { entry, mv } = this.readyVersion(name, version);
    const versions = version
      ? [mv.version]
      : [...entry.versions.values()].filter((v) => v.state === 'READY').map((v) => v.version);
    return { name, versions, platform: mv.config!.platform, inputs: mv.inputs, outputs: mv.outputs };
  }

  config(name: string, version?: string): ModelConfig {
    return this.readyVersion(name, version).mv.config!;
  }

  index(readyOnly: boolean): RepositoryIndexEntry[] {
    const out: RepositoryIndexEntry[] = [];
    for (const entry of [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.versions.size === 0) {
        if (!readyOnly) out.push({ name: entry.name, state: 'UNAVAILABLE', reason: entry.reason });
        continue;
      }
      for (const mv of entry.versions.values()) {
        if (readyOnly && mv.state !== 'READY') continue;
        out.push({ name: entry.name, version: mv.version, state: mv.state, reason: mv.reason });
      }
    }
    return out;
  }

  statistics(name?: string, version?: string): ModelStatistics[] {
    const entries = name === undefined ? [...this.models.values()] : [this.entry(name)];
    const out: ModelStatistics[] = [];
    for (const entry of entries) {
      for (const mv of entry.versions.values()) {
        if (mv.state !== 'READY') continue;
        if (version !== undefined && version !== '' && mv.version !== String(Number(version))) continue;
        out.push(mv.stats.snapshot(mv.modelSizeBytes * mv.sessions.length));
      }
    }
    if (name !== undefined && version !== undefined && version !== '' && out.length === 0) {
      throw new MaasError(
        'MODEL_VERSION_NOT_FOUND',
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    }
    return out;
  }

  // --- inference -----------------------------------------------------------

  async infer(request: InferRequest): Promise<InferResult> {
    const startNs = process.hrtime.bigint();
    const { mv } = this.readyVersion(request.modelName, request.modelVersion);
    const config = mv.config!;
    const m = mv.metrics;
    try {
      const { batchSize, shapeKey } = validateRequest(request, mv.inputs, mv.outputs, config.max_batch_size);
      const pending = mv.batcher!.submit(
        { inputs: request.inputs, batchSize },
        {
          batchSize,
          shapeKey,
          priority: request.priority,
          timeoutUs: request.timeoutUs,
          signal: request.signal,
        },
      );
      m.pendingRequests.set(mv.batcher!.pendingCount);
      const { result, queueUs } = await pending;
      const wanted = request.outputs?.map((o) => o.name);
      const outputs = wanted ? wanted.map((n) => result.outputs.find((o) => o.name === n)!) : result.outputs;
      const totalUs = elapsedUs(startNs);
      mv.stats.recordSuccess(totalUs, queueUs, result.computeInputUs, result.computeInferUs, result.computeOutputUs);
      m.requestSuccess.inc();
      m.requestDurationUs.inc(totalUs);
      m.queueDurationUs.inc(queueUs);
      m.computeInputDurationUs.inc(result.computeInputUs);
      m.computeInferDurationUs.inc(result.computeInferUs);
      m.computeOutputDurationUs.inc(result.computeOutputUs);
      m.requestSeconds.observe(totalUs / 1e6);
      m.queueSeconds.observe(queueUs / 1e6);
      return {
        id: request.id,
        modelName: config.name,
        modelVersion: mv.version,
        outputs,
        timing: {
          queueUs,
          computeInputUs: result.computeInputUs,
          computeInferUs: result.computeInferUs,
          computeOutputUs: result.computeOutputUs,
          totalUs,
        },
      };
    } catch (err) {
      const e = toMaasError(err);
      mv.stats.recordFailure(elapsedUs(startNs));
      m.requestFailure(failureReason(e.code));
      throw e;
    } finally {
      m.pendingRequests.set(mv.batcher!.pendingCount);
    }
  }

  // The server is shutting down: every batcher sends what it holds without
  // waiting for more (requests already accepted are still taken).
  drain(): void {
    for (const entry of this.models.values()) for (const mv of entry.versions.values()) mv.batcher?.drain();
  }

  // Stops accepting work, lets queued and running batches finish within the
  // deadline, then frees every engine session.
  async close(deadlineMs = 10_000): Promise<void> {
    const all = [...this.models.values()].flatMap((e) => [...e.versions.values()]);
    await Promise.all(all.map((mv) => mv.batcher?.close(deadlineMs)));
    for (const mv of all) {
      this.releaseSessions(mv);
      mv.state = 'UNAVAILABLE';
      mv.reason = 'server shut down';
    }
  }
}
