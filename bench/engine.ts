// The engine against onnxruntime-node, in one process and one run (issue
// 12's benchmark): mlp, bert-mini and cnn-small at batch 1, 8 and 32 with the
// same intra-op thread count on both sides, both warmed up; median latency
// of sequential runs and the ratio ours/ort. Then SGEMM GFLOP/s at 256, 512
// and 1024 squared (a MatMul of two fed matrices through our engine, so
// packing is included) against the machine's peak estimate, and the
// per-call cost of the identity model on both sides.
//   npm run bench:engine                     human-readable table
//   npm run bench:engine -- --json           the same, then one JSON line
//   BENCH_THREADS=1 npm run bench:engine     threads for both engines (default: cores)
// Runs of the two engines alternate in rounds, so a burst of load elsewhere
// hits both. Timings are medians; bench/README.md explains how to read them.
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../models/onnx-writer';
import { buildIdentityModel, DEMO_BUILDERS, seededRandom } from '../models/demo';
import { loadModel, type Session, type Tensor } from '../native/index';
import type { TensorMetadata } from '../native/types';
import { describeMachine, machineLine, sampleCpuBusy, busyWarning } from './machine';
import { estimatePeakGflops } from './peak';

const MODELS = ['mlp', 'bert-mini', 'cnn-small'] as const;
const BATCHES = [1, 8, 32] as const;
const GEMM_SIZES = [256, 512, 1024] as const;
// Per engine and case: at least this many timed runs and this much time.
const MIN_RUNS = 7;
const MIN_SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const WARMUP_RUNS = 3;
// A dim the model leaves open other than the batch (none of the demo models has one).
const OPEN_DIM = 128;

type Feeds = Record<string, Tensor>;

interface Engine {
  run(): Promise<unknown>;
  release(): Promise<void> | void;
}

interface ModelRow {
  name: string;
  batch: number;
  oursMs: number | null;
  ortMs: number | null;
  ratio: number | null;
  oursCpuUs: number | null; // process CPU µs per run (every thread), mean
  ortCpuUs: number | null;
}

interface Timing {
  ms: number; // median wall milliseconds per run
  cpuUs: number; // mean process CPU microseconds per run
}

// Seeded inputs from the graph's metadata: images and features in [0, 1),
// token ids small enough for any vocabulary, masks all ones, segment ids 0.
function feedsFor(inputs: TensorMetadata[], batch: number, seed: number): Feeds {
  const random = seededRandom(seed);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const dims = input.dims.map((d, i) => (d >= 0 ? d : i === 0 ? batch : OPEN_DIM));
    const count = dims.reduce((a, b) => a * b, 1);
    const name = input.name.toLowerCase();
    const integer = () => (/mask/.test(name) ? 1 : /type|segment/.test(name) ? 0 : Math.floor(random() * 100));
    switch (input.type) {
      case 'float32':
        feeds[input.name] = { type: 'float32', dims, data: Float32Array.from({ length: count }, () => random()) };
        break;
      case 'int64':
        feeds[input.name] = {
          type: 'int64',
          dims,
          data: BigInt64Array.from({ length: count }, () => BigInt(integer())),
        };
        break;
      case 'int32':
        feeds[input.name] = { type: 'int32', dims, data: Int32Array.from({ length: count }, () => integer()) };
        break;
      default:
        throw new Error(`bench: no generator for input ${input.name} of type ${input.type}`);
    }
  }
  return feeds;
}

async function ourEngine(bytes: Uint8Array, threads: number, feeds: Feeds): Promise<Engine> {
  const session: Session = await loadModel(bytes, { intraOpThreads: threads });
  return { run: () => session.run(feeds), release: () => session.release() };
}

async function ortEngine(bytes: Uint8Array, threads: number, feeds: Feeds): Promise<Engine> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    // The demo models take no bfloat16 input; onnxruntime-node has no such tensor type.
    if (t.type === 'bfloat16') throw new Error(`input ${name}: onnxruntime-node takes no bfloat16 tensors`);
    ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  return { run: () => session.run(ortFeeds), release: () => session.release() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Median milliseconds per run of each engine, runs alternating in rounds of
// a few each until both have MIN_RUNS and MIN_SECONDS; beside it the
// process's CPU time (utime + stime of every thread) over that engine's
// rounds per run. Runs are sequential, so the CPU spent in a round is that
// engine's, except what a previous round's worker threads still burn
// (onnxruntime's threads spin a little after a run) when the rounds switch.
async function timeEngines(engines: Engine[]): Promise<Timing[]> {
  for (const e of engines) for (let i = 0; i < WARMUP_RUNS; i++) await e.run();
  const samples: number[][] = engines.map(() => []);
  const spent = engines.map(() => 0);
  const cpuUs = engines.map(() => 0);
  while (samples.some((s, i) => s.length < MIN_RUNS || spent[i] < MIN_SECONDS * 1000)) {
    for (let e = 0; e < engines.length; e++) {
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < 3; i++) {
        const start = process.hrtime.bigint();
        await engines[e].run();
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        samples[e].push(ms);
        spent[e] += ms;
      }
      const cpu = process.cpuUsage(cpu0);
      cpuUs[e] += cpu.user + cpu.system;
    }
  }
  return samples.map((s, e) => ({ ms: median(s), cpuUs: cpuUs[e] / s.length }));
}

async function benchModel(name: string, bytes: Uint8Array, batch: number, threads: number): Promise<ModelRow> {
  const probe = await loadModel(bytes, { intraOpThreads: threads });
  const feeds = feedsFor(probe.inputMetadata, batch, batch * 7919);
  probe.release();
  const engines = [await ourEngine(bytes, threads, feeds), await ortEngine(bytes, threads, feeds)];
  try {
    const [ours, theirs] = await timeEngines(engines);
    return {
      name,
      batch,
      oursMs: ours.ms,
      ortMs: theirs.ms,
      ratio: ours.ms / theirs.ms,
      oursCpuUs: ours.cpuUs,
      ortCpuUs: theirs.cpuUs,
    };
  } finally {
    for (const e of engines) await e.release();
  }
}

function matMulModel(n: number): Uint8Array {
  return encodeModel({
    opset: 13,
    graphName: 'gemm',
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    inputs: [
      { name: 'a', dataType: 'FLOAT', shape: [n, n] },
      { name: 'b', dataType: 'FLOAT', shape: [n, n] },
    ],
    outputs: [{ name: 'c', dataType: 'FLOAT', shape: [n, n] }],
  });
}

async function benchGemm(n: number, threads: number): Promise<{ n: number; gflops: number; ortGflops: number }> {
  const bytes = matMulModel(n);
  const random = seededRandom(n);
  const matrix = () => ({
    type: 'float32' as const,
    dims: [n, n],
    data: Float32Array.from({ length: n * n }, () => random() - 0.5),
  });
  const feeds = { a: matrix(), b: matrix() };
  const engines = [await ourEngine(bytes, threads, feeds), await ortEngine(bytes, threads, feeds)];
  try {
    const [ours, theirs] = await timeEngines(engines);
    const flop = 2 * n ** 3;
    return { n, gflops: flop / (ours.ms * 1e6), ortGflops: flop / (theirs.ms * 1e6) };
  } finally {
    for (const e of engines) await e.release();
  }
}

// Microseconds per call of the identity model [1, 16], sequential awaits:
// wall and process CPU.
interface IdentityCost {
  oursUs: number;
  ortUs: number;
  ratio: number;
  oursCpuUs: number;
  ortCpuUs: number;
}
async function benchIdentity(): Promise<IdentityCost> {
  const bytes = buildIdentityModel();
  const feeds: Feeds = { input: { type: 'float32', dims: [1, 16], data: new Float32Array(16).fill(0.5) } };
  const engines = [await ourEngine(bytes, 1, feeds), await ortEngine(bytes, 1, feeds)];
  try {
    const batchOf = (e: Engine) => ({
      run: async () => {
        for (let i = 0; i < 200; i++) await e.run();
      },
      release: () => e.release(),
    });
    const [ours, theirs] = await timeEngines(engines.map(batchOf));
    return {
      oursUs: (ours.ms * 1000) / 200,
      ortUs: (theirs.ms * 1000) / 200,
      ratio: ours.ms / theirs.ms,
      oursCpuUs: ours.cpuUs / 200,
      ortCpuUs: theirs.cpuUs / 200,
    };
  } finally {
    for (const e of engines) await e.release();
  }
}

const fmt = (v: number | null, digits = 3) => (v === null ? 'missing' : v.toFixed(digits));

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const threads = Number(process.env.BENCH_THREADS ?? 0) || describeMachine().cores;
  const busy = await sampleCpuBusy();
  const machine = { ...describeMachine(), cpuBusyBeforeRun: busy };
  console.log(
    `engine benchmark: ours vs onnxruntime-node ${ort.env.versions.node ?? ''}, ${threads} intra-op thread(s) each`,
  );
  console.log(machineLine(machine));
  const warning = busyWarning(busy);
  if (warning) console.log(warning);

  const rows: ModelRow[] = [];
  console.log('\nmodel        batch    ours ms     ort ms   ours/ort  ours CPU us  ort CPU us');
  for (const name of MODELS) {
    // The bytes `maas models demo` writes (models/demo.ts).
    const bytes = DEMO_BUILDERS[name]();
    for (const batch of BATCHES) {
      const row = await benchModel(name, bytes, batch, threads);
      rows.push(row);
      console.log(
        `${name.padEnd(12)} ${String(batch).padStart(5)} ${fmt(row.oursMs).padStart(10)} ${fmt(row.ortMs).padStart(10)} ` +
          `${fmt(row.ratio, 2).padStart(10)} ${fmt(row.oursCpuUs, 0).padStart(12)} ${fmt(row.ortCpuUs, 0).padStart(11)}`,
      );
    }
  }

  const peak = estimatePeakGflops();
  console.log(
    `\nSGEMM (MatMul of two fed n x n matrices), ${threads} thread(s); peak estimate ${peak.gflops.toFixed(1)} GFLOP/s = ${peak.formula}`,
  );
  console.log('    n    ours GFLOP/s   % of peak    ort GFLOP/s');
  const gemm: Array<{ n: number; gflops: number }> = [];
  for (const n of GEMM_SIZES) {
    const r = await benchGemm(n, threads);
    gemm.push({ n, gflops: r.gflops });
    console.log(
      `${String(n).padStart(5)} ${r.gflops.toFixed(1).padStart(15)} ${((100 * r.gflops) / peak.gflops).toFixed(0).padStart(10)}% ${r.ortGflops.toFixed(1).padStart(14)}`,
    );
  }

  const identity = await benchIdentity();
  console.log(
    `\nidentity [1,16], 1 thread, per call: ours ${identity.oursUs.toFixed(1)} us, ort ${identity.ortUs.toFixed(1)} us, ` +
      `ours/ort ${identity.ratio.toFixed(2)}; CPU per call: ours ${identity.oursCpuUs.toFixed(1)} us, ort ${identity.ortCpuUs.toFixed(1)} us`,
  );
  console.log(`load average after the run: ${describeMachine().loadAverage1m}`);
  if (json) console.log(JSON.stringify({ models: rows, gemm, peakGflops: peak.gflops, identity, threads, machine }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
