// One loaded model version: its engine sessions (one per instance), its
// dynamic batcher, and the request path through them. A runtime is built
// once (runtime-loader.ts), serves until it is retired (a reload replaced
// it, or its model was unloaded), then drains and frees its sessions.
//
// Ownership: the runtime owns its sessions (native memory), its batcher
// (the batcher's timers) and its circuit breaker (breaker.ts). retire() is the only way they are released.
import { performance } from 'node:perf_hooks';
import { toMaasError, type ErrorCode } from '../../common/errors';
import type { FailureReason, VersionMeters } from '../../common/metrics';
import type { Session } from '../../native/types';
import { DynamicBatcher } from '../batching/batcher';
import type { ModelConfig } from '../catalog/config-types';
import type { TensorMetadata } from '../inference/model-types';
import type { InferInput, InferOutput, InferRequest, InferResult } from '../inference/types';
import { BREAKER_STATE_VALUE, ModelBreaker } from './breaker';
import { executeBatch, type ExecutionResult, type QueuedWork } from './execute';
import { JobWindow, jobWindowSize } from './job-window';
import { levelPlan, requestLevel, type LevelPlan, type TenantPriority } from './priority';
import { validateRequest } from './validate';

export interface RuntimeParts {
  name: string;
  version: string;
  config: ModelConfig; // completed from the engine's metadata
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  sessions: Session[]; // one per instance; the runtime owns them from here on
  meters: VersionMeters;
  modelSizeBytes: number;
  engineThreads: number; // what its sessions count against the thread budget
  fingerprint: string; // version bytes + config: equal fingerprints serve the same thing
}

export type RuntimeState = 'READY' | 'UNLOADING' | 'UNAVAILABLE';

export class VersionRuntime {
  readonly name: string;
  readonly version: string;
  readonly config: ModelConfig;
  readonly inputs: TensorMetadata[];
  readonly outputs: TensorMetadata[];
  readonly meters: VersionMeters;
  readonly modelSizeBytes: number;
  readonly engineThreads: number;
  readonly fingerprint: string;
  readonly decoupled: boolean; // several answers per request (decoupled.ts)
  state: RuntimeState = 'READY';
  reason = '';
  private sessions: Session[];
  private readonly batcher: DynamicBatcher<QueuedWork, ExecutionResult>;
  private readonly levels: LevelPlan;
  private readonly breaker: ModelBreaker;
  // Job work (CallContext.workClass 'job'): the lowest priority level (priority.ts), a window at a time.
  private readonly jobWindow: JobWindow;
  private retiring: Promise<void> | null = null;

  constructor(parts: RuntimeParts) {
    this.name = parts.name;
    this.version = parts.version;
    this.config = parts.config;
    this.inputs = parts.inputs;
    this.outputs = parts.outputs;
    this.meters = parts.meters;
    this.modelSizeBytes = parts.modelSizeBytes;
    this.engineThreads = parts.engineThreads;
    this.fingerprint = parts.fingerprint;
    this.decoupled = parts.config.model_transaction_policy?.decoupled === true;
    this.sessions = parts.sessions;
    this.jobWindow = new JobWindow(jobWindowSize(parts.config.max_batch_size));
    this.levels = levelPlan(parts.config.dynamic_batching);
    this.breaker = new ModelBreaker(`'${this.name}' version ${this.version}`, parts.config.circuit_breaker, (s) => {
      this.meters.circuitState = BREAKER_STATE_VALUE[s];
    });
    this.batcher = createBatcher(parts.config, this.levels, parts.sessions.length, (batch, instance) =>
      this.breaker.run(() =>
        executeBatch(
          { session: this.sessions[instance], inputs: this.inputs, outputs: this.outputs, meters: this.meters },
          batch,
        ),
      ),
    );
  }

  // Host memory the engine holds for this version: each instance's weights
  // (with what the backend derived from them) and its reserved run arenas.
  get memoryBytes(): number {
    let bytes = 0;
    for (const session of this.sessions) {
      const m = session.memory();
      bytes += m.weightsBytes + m.arenaReservedBytes;
    }
    return bytes;
  }

  // While the breaker is open the version is not ready (docs/resilience.md).
  get circuitOpen(): boolean {
    return this.breaker.isOpen;
  }

  // Validates and queues one request; resolves with its outputs. The
  // tenant's priority class picks its batcher level (priority.ts); job work
  // enters a window at a time so online work keeps the batcher.
  async infer(request: InferRequest, tenantPriority?: TenantPriority): Promise<InferResult> {
    if (request.call?.workClass !== 'job') return this.run(request, tenantPriority);
    const waiting = this.jobWindow.acquire();
    if (waiting) await waiting;
    try {
      return await this.run(request, tenantPriority);
    } finally {
      this.jobWindow.release();
    }
  }

  private async run(request: InferRequest, tenantPriority: TenantPriority | undefined): Promise<InferResult> {
    const startMs = performance.now();
    const m = this.meters;
    const batcher = this.batcher;
    try {
      if (this.breaker.isOpen) throw this.breaker.refusal();
      const { batchSize, shapeKey } = validateRequest(request, this.inputs, this.outputs, this.config.max_batch_size);
      const pending = batcher.submit(
        { inputs: request.inputs, batchSize },
        {
          batchSize,
          shapeKey,
          priority: requestLevel(this.levels, tenantPriority, request.call?.workClass, request.priority),
          timeoutUs: deadlineTimeoutUs(request, startMs),
          cancel: request.cancel,
        },
      );
      m.pendingRequests = batcher.pendingCount;
      const { result, queueUs } = await pending;
      const totalUs = (performance.now() - startMs) * 1000;
      m.recordSuccess(
        m.forProtocol(request.call?.protocol),
        totalUs,
        queueUs,
        result.computeInputUs,
        result.computeInferUs,
        result.computeOutputUs,
      );
      const outputs = request.outputs ? pickOutputs(result.outputs, request.outputs) : result.outputs;
      if (request.call) meterCall(request.call, this.version, request.inputs, outputs, queueUs, result);
      return {
        id: request.id,
        modelName: this.name,
        modelVersion: this.version,
        outputs,
        batchSize,
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
      m.recordFailure((performance.now() - startMs) * 1000, failureReason(e.code));
      // The GPU context is lost: every later run would fail the same way.
      // Routing and readiness skip this version until it is reloaded.
      if (e.code === 'ENGINE_DEVICE_FAULT' && this.state === 'READY') {
        this.state = 'UNAVAILABLE';
        this.reason = `device fault: ${e.message}`;
      }
      throw e;
    } finally {
      m.pendingRequests = batcher.pendingCount;
    }
  }

  // The server is shutting down: send what is queued without waiting for
  // more requests (requests already accepted may still arrive).
  flush(): void {
    this.batcher.drain();
  }

  // Stops taking requests, lets queued and running ones finish within
  // deadlineMs (what is left then fails with SHUTTING_DOWN), then frees
  // the sessions. Idempotent; resolves when the sessions are released.
  retire(deadlineMs: number, reason: string, onReleased?: (rt: VersionRuntime) => void): Promise<void> {
    this.retiring ??= (async () => {
      this.state = 'UNLOADING';
      this.reason = reason;
      await this.batcher.close(deadlineMs);
      this.breaker.shutdown(); // after the last batch: queued work still runs through it
      for (const s of this.sessions) s.release();
      this.sessions = [];
      this.state = 'UNAVAILABLE';
      onReleased?.(this);
    })();
    return this.retiring;
  }
}

function createBatcher(
  config: ModelConfig,
  levels: LevelPlan,
  instanceCount: number,
  execute: (batch: QueuedWork[], instance: number) => Promise<ExecutionResult[]>,
): DynamicBatcher<QueuedWork, ExecutionResult> {
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
      // Every model has levels: its own, or the gateway's premium/standard/jobs.
      priorityLevels: levels.levels,
      defaultPriorityLevel: levels.standard,
      instanceCount,
    },
    execute,
  );
}

// Requested outputs were checked to exist by validateRequest.
function pickOutputs(all: InferOutput[], wanted: NonNullable<InferRequest['outputs']>): InferOutput[] {
  const out = new Array<InferOutput>(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    const name = wanted[i].name;
    out[i] = all.find((o) => o.name === name) as InferOutput;
  }
  return out;
}

// The request's deadline as a timeout from now: its `timeout` parameter,
// counted from when the call arrived (the time its body took to arrive and
// decode is spent already), or what is left of the call's deadline (gRPC's
// grpc-timeout), the sooner; 0 = none (the model default then applies in
// the batcher).
function deadlineTimeoutUs(request: InferRequest, nowMs: number): number {
  const call = request.call;
  let own = request.timeoutUs;
  if (own > 0 && call) own = Math.max(1, own - Math.max(0, nowMs - call.startedMs) * 1000);
  const deadlineMs = call?.deadlineMs ?? 0;
  if (!(deadlineMs > 0)) return own;
  const leftUs = Math.max(1, (deadlineMs - nowMs) * 1000);
  return own > 0 ? Math.min(own, leftUs) : leftUs;
}

const REJECTED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'QUEUE_FULL',
  'QUEUE_TIMEOUT',
  'DEADLINE_UNMEETABLE',
  'MODEL_OVERLOADED',
  'MODEL_CIRCUIT_OPEN',
]);

function failureReason(code: ErrorCode): FailureReason {
  if (REJECTED_CODES.has(code)) return 'REJECTED';
  if (code === 'CANCELLED') return 'CANCELED';
  if (code.startsWith('ENGINE_')) return 'BACKEND';
  return 'OTHER';
}

// What this answer cost, added to the caller's pipeline call for its usage
// record (gateway/pipeline/usage.ts); plain additions, no allocation. Also
// used by a response-cache hit (model-service.ts), which runs nothing.
export function meterCall(
  call: NonNullable<InferRequest['call']>,
  version: string,
  inputs: readonly InferInput[],
  outputs: readonly InferOutput[],
  queueUs: number,
  compute: { computeInputUs: number; computeInferUs: number; computeOutputUs: number },
): void {
  let inBytes = 0;
  for (let i = 0; i < inputs.length; i++) inBytes += inputs[i].data.byteLength;
  let outBytes = 0;
  for (let i = 0; i < outputs.length; i++) outBytes += outputs[i].data.byteLength;
  call.servedVersion = version;
  call.inputBytes = (call.inputBytes ?? 0) + inBytes;
  call.outputBytes = (call.outputBytes ?? 0) + outBytes;
  call.queueUs = (call.queueUs ?? 0) + queueUs;
  call.computeUs = (call.computeUs ?? 0) + compute.computeInputUs + compute.computeInferUs + compute.computeOutputUs;
}
