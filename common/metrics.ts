// Prometheus metrics: Triton's `nv_*` names and labels (PROTOCOL.md 4) so
// existing dashboards keep working, plus real latency and batch-size
// histograms, which Triton lacks. One registry per server instance so tests
// can run several servers in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

// Latency buckets in seconds: 50 µs .. 10 s, roughly ×2.5 apart.
const LATENCY_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

type CounterChild = ReturnType<Counter<'model' | 'version'>['labels']>;
type GaugeChild = ReturnType<Gauge<'model' | 'version'>['labels']>;
type HistogramChild = ReturnType<Histogram<'model' | 'version'>['labels']>;

export interface VersionMetrics {
  requestSuccess: CounterChild;
  requestFailure: (reason: FailureReason) => void;
  inferenceCount: CounterChild;
  execCount: CounterChild;
  pendingRequests: GaugeChild;
  requestDurationUs: CounterChild;
  queueDurationUs: CounterChild;
  computeInputDurationUs: CounterChild;
  computeInferDurationUs: CounterChild;
  computeOutputDurationUs: CounterChild;
  modelLoadDurationSecs: GaugeChild;
  requestSeconds: HistogramChild;
  queueSeconds: HistogramChild;
  computeSeconds: HistogramChild;
  batchSize: HistogramChild;
}

export class InferenceMetrics {
  readonly registry = new Registry();
  private readonly labels = ['model', 'version'] as const;

  readonly requestSuccess = this.counter(
    'nv_inference_request_success',
    'Number of successful inference requests, all batch sizes',
  );
  readonly requestFailure = new Counter({
    name: 'nv_inference_request_failure',
    help: 'Number of failed inference requests, all batch sizes',
    labelNames: ['model', 'version', 'reason'],
    registers: [this.registry],
  });
  readonly inferenceCount = this.counter(
    'nv_inference_count',
    'Number of inferences performed (a batch of n counts n)',
  );
  readonly execCount = this.counter('nv_inference_exec_count', 'Number of model executions performed (one per batch)');
  readonly pendingRequests = new Gauge({
    name: 'nv_inference_pending_request_count',
    help: 'Instantaneous number of requests waiting in the scheduler queue',
    labelNames: this.labels,
    registers: [this.registry],
  });
  readonly requestDurationUs = this.counter(
    'nv_inference_request_duration_us',
    'Cumulative inference request duration in microseconds',
  );
  readonly queueDurationUs = this.counter(
    'nv_inference_queue_duration_us',
    'Cumulative inference queuing duration in microseconds',
  );
  readonly computeInputDurationUs = this.counter(
    'nv_inference_compute_input_duration_us',
    'Cumulative compute input duration in microseconds',
  );
  readonly computeInferDurationUs = this.counter(
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute inference duration in microseconds',
  );
  readonly computeOutputDurationUs = this.counter(
    'nv_inference_compute_output_duration_us',
    'Cumulative inference compute output duration in microseconds',
  );
  readonly modelLoadDurationSecs = new Gauge({
    name: 'nv_model_load_duration_secs',
    help: 'Model load time in seconds',
    labelNames: this.labels,
    registers: [this.registry],
  });

  readonly requestSeconds = this.histogram(
    'maas_inference_request_duration_seconds',
    'End-to-end inference request duration',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly queueSeconds = this.histogram(
    'maas_inference_queue_duration_seconds',
    'Time a request waited in the batcher queue',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly computeSeconds = this.histogram(
    'maas_inference_compute_duration_seconds',
    'Time of one batch execution (input, infer, output)',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly batchSize = this.histogram(
    'maas_inference_batch_size',
    'Batch size of each model execution',
    BATCH_SIZE_BUCKETS,
  );
  readonly httpClosedConnections = new Counter({
    name: 'maas_http_closed_connections_total',
    help: 'HTTP connections closed because of what arrived on them (bad framing, pipelining uWS refuses, oversized or over-budget bodies)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'maas_' });
  }

  // Metrics bound to one model version's labels once at load, so the
  // per-request path builds no label objects (prom-client still hashes the
  // bound labels on each update).
  forVersion(model: string, version: string): VersionMetrics {
    const labels = { model, version };
    return {
      requestSuccess: this.requestSuccess.labels(labels),
      requestFailure: (reason) => this.requestFailure.inc({ ...labels, reason }),
      inferenceCount: this.inferenceCount.labels(labels),
      execCount: this.execCount.labels(labels),
      pendingRequests: this.pendingRequests.labels(labels),
      requestDurationUs: this.requestDurationUs.labels(labels),
      queueDurationUs: this.queueDurationUs.labels(labels),
      computeInputDurationUs: this.computeInputDurationUs.labels(labels),
      computeInferDurationUs: this.computeInferDurationUs.labels(labels),
      computeOutputDurationUs: this.computeOutputDurationUs.labels(labels),
      modelLoadDurationSecs: this.modelLoadDurationSecs.labels(labels),
      requestSeconds: this.requestSeconds.labels(labels),
      queueSeconds: this.queueSeconds.labels(labels),
      computeSeconds: this.computeSeconds.labels(labels),
      batchSize: this.batchSize.labels(labels),
    };
  }

  // For the HTTP front end (gateway/http/app.ts ClosedBy reasons).
  closedConnection(reason: string): void {
    this.httpClosedConnections.inc({ reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private counter(name: string, help: string): Counter<'model' | 'version'> {
    return new Counter({ name, help, labelNames: this.labels, registers: [this.registry] });
  }

  private histogram(name: string, help: string, buckets: number[]): Histogram<'model' | 'version'> {
    return new Histogram({ name, help, buckets, labelNames: this.labels, registers: [this.registry] });
  }
}
