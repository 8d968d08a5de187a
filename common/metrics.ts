// Prometheus metrics: Triton's `nv_*` names and labels (docs/protocol.md
// "Metrics") so existing dashboards keep working, plus latency and
// batch-size histograms, which Triton lacks. One registry per server
// instance so tests can run several servers in one process.
//
// The per-model figures are plain numbers in a VersionMeters, updated on
// the hot path with field increments; they become Prometheus families only
// when /metrics is scraped (ScrapedFamily). prom-client's own metric objects
// would hash their labels on every update. The same meters feed Triton's
// statistics extension (gateway/serving/statistics.ts), so the two always agree.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { Histogram as Buckets, LATENCY_BUCKETS_SECONDS, BATCH_SIZE_BUCKETS } from './histogram';

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';
const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

// Triton's duration stat: a count and a total in nanoseconds.
export interface DurationTotal {
  count: number;
  ns: number;
}

function duration(): DurationTotal {
  return { count: 0, ns: 0 };
}

export interface BatchTotals {
  input: DurationTotal;
  infer: DurationTotal;
  output: DurationTotal;
}

// The front end a request came through, as the `protocol` label says it;
// 'internal' for in-process callers without a front end.
export type ProtocolLabel = 'http' | 'grpc' | 'websocket' | 'internal';
const PROTOCOL_LABELS: readonly ProtocolLabel[] = ['http', 'grpc', 'websocket', 'internal'];

// The per-request histograms of one model version and one protocol. Made
// once per version for every protocol, so the hot path picks one by a
// switch and never builds a label set.
export class ProtocolMeters {
  readonly requestSeconds = new Buckets(LATENCY_BUCKETS_SECONDS);
  readonly queueSeconds = new Buckets(LATENCY_BUCKETS_SECONDS);
  constructor(readonly protocol: ProtocolLabel) {}
}

// Everything counted for one model version. Owned by InferenceMetrics, one
// per (model, version) for the server's life: runtimes that replace each
// other (a reload, a hot swap) share it, so counters never go backwards and
// no series is exported twice.
export class VersionMeters {
  lastInferenceMs = 0;
  inferenceCount = 0; // a batch of n counts n
  executionCount = 0;
  pendingRequests = 0; // set by the serving runtime as its queue moves
  loadDurationSecs = 0;
  readonly success = duration();
  readonly fail = duration();
  readonly queue = duration();
  readonly computeInput = duration();
  readonly computeInfer = duration();
  readonly computeOutput = duration();
  readonly failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  // Response cache (docs/resilience.md): a hit's and a miss's look-up time.
  readonly cacheHit = duration();
  readonly cacheMiss = duration();
  circuitState = 0; // the version's breaker: 0 closed, 1 half-open, 2 open (gateway/serving/breaker.ts)
  readonly batches = new Map<number, BatchTotals>();
  // Per-request figures by front end; per-execution ones (compute, batch
  // size) have no protocol: one batch mixes requests from several.
  readonly protocols: readonly ProtocolMeters[] = PROTOCOL_LABELS.map((p) => new ProtocolMeters(p));
  readonly computeSeconds = new Buckets(LATENCY_BUCKETS_SECONDS);
  readonly batchSize = new Buckets(BATCH_SIZE_BUCKETS);

  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  // One model execution of `batchSize` inferences.
  recordExecution(batchSize: number, inputUs: number, inferUs: number, outputUs: number): void {
    this.executionCount += 1;
    this.inferenceCount += batchSize;
    this.lastInferenceMs = Date.now();
    let b = this.batches.get(batchSize);
    if (!b) {
      b = { input: duration(), infer: duration(), output: duration() };
      this.batches.set(batchSize, b);
    }
    add(b.input, inputUs);
    add(b.infer, inferUs);
    add(b.output, outputUs);
    this.computeSeconds.observe((inputUs + inferUs + outputUs) / 1e6);
    this.batchSize.observe(batchSize);
  }

  // A request's own view of the batch it ran in (Triton counts compute
  // timers once per request).
  recordSuccess(
    protocol: ProtocolMeters,
    totalUs: number,
    queueUs: number,
    inputUs: number,
    inferUs: number,
    outputUs: number,
  ): void {
    add(this.success, totalUs);
    add(this.queue, queueUs);
    add(this.computeInput, inputUs);
    add(this.computeInfer, inferUs);
    add(this.computeOutput, outputUs);
    protocol.requestSeconds.observe(totalUs / 1e6);
    protocol.queueSeconds.observe(queueUs / 1e6);
  }

  // The gateway's protocol names (gateway/inference/call.ts Protocol).
  forProtocol(protocol: string | undefined): ProtocolMeters {
    switch (protocol) {
      case 'http':
        return this.protocols[0];
      case 'grpc':
        return this.protocols[1];
      case 'ws':
        return this.protocols[2];
      default:
        return this.protocols[3];
    }
  }

  recordCacheLookup(hit: boolean, lookupUs: number): void {
    add(hit ? this.cacheHit : this.cacheMiss, lookupUs);
  }

  recordFailure(totalUs: number, reason: FailureReason): void {
    add(this.fail, totalUs);
    this.failures[reason] += 1;
  }
}

function add(stat: DurationTotal, us: number): void {
  stat.count += 1;
  stat.ns += Math.round(us * 1000);
}

// What prom-client's Registry reads from a metric when it is scraped
// (Registry.getMetricsAsString: name, help, type, and get() resolving to
// {values: [{labels, value, metricName?}]}).
interface FamilyValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

class ScrapedFamily {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly read: () => FamilyValue[],
  ) {}

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: FamilyValue[] }> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.read(),
    });
  }

  reset(): void {
    // The meters are cumulative for the server's life; nothing to reset here.
  }
}

type Field = (m: VersionMeters) => number;

export class InferenceMetrics {
  readonly registry = new Registry();
  private readonly meters = new Map<string, VersionMeters>();
  readonly httpClosedConnections = new Counter({
    name: 'maas_http_closed_connections_total',
    help: 'HTTP connections closed because of what arrived on them (bad framing, pipelining uWS refuses, oversized or over-budget bodies)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'maas_' });
    this.perVersion(
      'nv_inference_request_success',
      'Number of successful inference requests, all batch sizes',
      'counter',
      (m) => m.success.count,
    );
    this.family(
      'nv_inference_request_failure',
      'Number of failed inference requests, all batch sizes',
      'counter',
      () => {
        const values: FamilyValue[] = [];
        for (const m of this.meters.values()) {
          for (const reason of FAILURE_REASONS) {
            const value = m.failures[reason];
            if (value > 0) values.push({ labels: { model: m.model, version: m.version, reason }, value });
          }
        }
        return values;
      },
    );
    this.perVersion(
      'nv_inference_count',
      'Number of inferences performed (a batch of n counts n)',
      'counter',
      (m) => m.inferenceCount,
    );
    this.perVersion(
      'nv_inference_exec_count',
      'Number of model executions performed (one per batch)',
      'counter',
      (m) => m.executionCount,
    );
    this.perVersion(
      'nv_inference_pending_request_count',
      'Instantaneous number of requests waiting in the scheduler queue',
      'gauge',
      (m) => m.pendingRequests,
    );
    this.perVersion(
      'nv_inference_request_duration_us',
      'Cumulative inference request duration in microseconds',
      'counter',
      (m) => m.success.ns / 1000,
    );
    this.perVersion(
      'nv_inference_queue_duration_us',
      'Cumulative inference queuing duration in microseconds',
      'counter',
      (m) => m.queue.ns / 1000,
    );
    this.perVersion(
      'nv_inference_compute_input_duration_us',
      'Cumulative compute input duration in microseconds',
      'counter',
      (m) => m.computeInput.ns / 1000,
    );
    this.perVersion(
      'nv_inference_compute_infer_duration_us',
      'Cumulative compute inference duration in microseconds',
      'counter',
      (m) => m.computeInfer.ns / 1000,
    );
    this.perVersion(
      'nv_inference_compute_output_duration_us',
      'Cumulative inference compute output duration in microseconds',
      'counter',
      (m) => m.computeOutput.ns / 1000,
    );
    this.perVersion(
      'nv_cache_num_hits_per_model',
      'Number of response cache hits per model',
      'counter',
      (m) => m.cacheHit.count,
    );
    this.perVersion(
      'nv_cache_num_misses_per_model',
      'Number of response cache misses per model',
      'counter',
      (m) => m.cacheMiss.count,
    );
    this.perVersion(
      'nv_cache_hit_duration_per_model',
      'Cumulative time requests spend looking up responses found in the cache, in microseconds',
      'counter',
      (m) => m.cacheHit.ns / 1000,
    );
    this.perVersion(
      'nv_cache_miss_duration_per_model',
      'Cumulative time requests spend looking up responses missing from the cache, in microseconds',
      'counter',
      (m) => m.cacheMiss.ns / 1000,
    );
    this.perVersion(
      'maas_model_circuit_state',
      "The version's circuit breaker: 0 closed, 1 half-open, 2 open",
      'gauge',
      (m) => m.circuitState,
    );
    this.perVersion('nv_model_load_duration_secs', 'Model load time in seconds', 'gauge', (m) => m.loadDurationSecs);
    this.protocolHistogram(
      'maas_inference_request_duration_seconds',
      'End-to-end inference request duration, by front end',
      (p) => p.requestSeconds,
    );
    this.protocolHistogram(
      'maas_inference_queue_duration_seconds',
      'Time a request waited in the batcher queue, by front end',
      (p) => p.queueSeconds,
    );
    this.histogram(
      'maas_inference_compute_duration_seconds',
      'Time of one batch execution (input, infer, output)',
      (m) => m.computeSeconds,
    );
    this.histogram('maas_inference_batch_size', 'Batch size of each model execution', (m) => m.batchSize);
  }

  // The meters of one model version, made on first use and kept for the
  // server's life (see VersionMeters).
  forVersion(model: string, version: string): VersionMeters {
    const key = `${model}\u0000${version}`;
    let m = this.meters.get(key);
    if (!m) {
      m = new VersionMeters(model, version);
      this.meters.set(key, m);
    }
    return m;
  }

  // For the HTTP front end (gateway/http ClosedBy reasons).
  closedConnection(reason: string): void {
    this.httpClosedConnections.inc({ reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private family(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', read: () => FamilyValue[]): void {
    // Registry reads families by duck type (see ScrapedFamily).
    this.registry.registerMetric(new ScrapedFamily(name, help, type, read) as unknown as Counter);
  }

  private perVersion(name: string, help: string, type: 'counter' | 'gauge', field: Field): void {
    this.family(name, help, type, () => {
      const values: FamilyValue[] = [];
      for (const m of this.meters.values())
        values.push({ labels: { model: m.model, version: m.version }, value: field(m) });
      return values;
    });
  }

  private histogram(name: string, help: string, pick: (m: VersionMeters) => Buckets): void {
    this.family(name, help, 'histogram', () => {
      const values: FamilyValue[] = [];
      for (const m of this.meters.values())
        pushHistogram(values, name, pick(m), { model: m.model, version: m.version });
      return values;
    });
  }

  private protocolHistogram(name: string, help: string, pick: (p: ProtocolMeters) => Buckets): void {
    this.family(name, help, 'histogram', () => {
      const values: FamilyValue[] = [];
      for (const m of this.meters.values()) {
        for (const p of m.protocols) {
          pushHistogram(values, name, pick(p), { model: m.model, version: m.version, protocol: p.protocol });
        }
      }
      return values;
    });
  }
}

// One histogram series (its buckets, sum and count); none while it is empty.
function pushHistogram(values: FamilyValue[], name: string, h: Buckets, labels: Record<string, string>): void {
  if (h.count === 0) return;
  h.forEachCumulative((le, count) => {
    values.push({ labels: { le, ...labels }, value: count, metricName: `${name}_bucket` });
  });
  values.push({ labels, value: h.sum, metricName: `${name}_sum` });
  values.push({ labels, value: h.count, metricName: `${name}_count` });
}
