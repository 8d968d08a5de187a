// The GPU benchmark (issue 13; bench/README.md "GPU"): per demo model and
// batch size, median latency and throughput on cuda:0 (fp32 and fp16)
// against the CPU backend in the same run; the share of a GPU run spent
// moving bytes (H2D + D2H, estimated with Identity models moving the same
// bytes); and GEMM TFLOP/s, cuBLAS through our CUDA backend against our CPU
// GEMM. Without a GPU it says so and exits 0: there is nothing to measure.
//   npm run bench:gpu                 human-readable tables
//   npm run bench:gpu -- --json       the same, then one JSON line
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { encodeModel } from '../models/onnx-writer';
import { DEMO_BUILDERS, DEMO_MODELS, seededRandom, type DemoModelName } from '../models/demo';
import { seededFeeds, type Feeds } from '../models/seeded-feeds';
import { devices, loadModel } from '../native/index';
import type { LoadOptions } from '../native/types';
import { describeMachine, machineLine } from './machine';

const MIN_RUNS = 20;
const MIN_MS = 500;
const BATCHES = [1, 8, 32];
const MODELS: DemoModelName[] = ['mlp', 'bert-mini', 'cnn-small'];

interface Row {
  model: string;
  batch: number;
  target: string; // cpu | cuda:0 fp32 | cuda:0 fp16
  p50Ms: number;
  itemsPerS: number;
  copyShare?: number; // GPU rows: estimated H2D + D2H share of the latency
}

// Median ms of sequential runs after a warm-up (plans built, pools warm).
async function medianMs(bytes: Uint8Array, feeds: Feeds, options: LoadOptions): Promise<number> {
  const session = await loadModel(bytes, options);
  try {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    const start = performance.now();
    while (times.length < MIN_RUNS || performance.now() - start < MIN_MS) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    session.release();
  }
}

function identityModel(elements: number): Uint8Array {
  return encodeModel({
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', dataType: 'FLOAT', shape: [elements] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: [elements] }],
  });
}

// Milliseconds a GPU run spends moving `inBytes` in and `outBytes` out: an
// Identity run moves its bytes both ways, so half of each (bandwidth is
// about symmetric); launch and sync overheads are included.
async function copyMs(inBytes: number, outBytes: number): Promise<number> {
  const probe = async (bytes: number) => {
    const n = Math.max(1, Math.ceil(bytes / 4));
    const feeds: Feeds = { x: { type: 'float32', dims: [n], data: new Float32Array(n) } };
    return medianMs(identityModel(n), feeds, { device: 'cuda:0' });
  };
  return ((await probe(inBytes)) + (await probe(outBytes))) / 2;
}

const bytesOf = (feeds: Feeds) => Object.values(feeds).reduce((n, t) => n + t.data.byteLength, 0);

async function benchModel(name: DemoModelName, batch: number, threads: number): Promise<Row[]> {
  const bytes = DEMO_BUILDERS[name]();
  const probe = await loadModel(bytes);
  const feeds = seededFeeds(probe.inputMetadata, batch, batch * 7919);
  const outputs = await probe.run(feeds);
  probe.release();
  const rows: Row[] = [];
  const add = (target: string, p50Ms: number, copyShare?: number) =>
    rows.push({ model: name, batch, target, p50Ms, itemsPerS: (batch * 1000) / p50Ms, copyShare });
  add(`cpu (${threads} threads)`, await medianMs(bytes, feeds, { intraOpThreads: threads }));
  const copy = await copyMs(bytesOf(feeds), bytesOf(outputs));
  for (const precision of ['fp32', 'fp16'] as const) {
    const ms = await medianMs(bytes, feeds, { device: 'cuda:0', precision });
    add(`cuda:0 ${precision}`, ms, Math.min(1, copy / ms));
  }
  return rows;
}

// `depth` chained MatMuls by one N x N weight (fed once, so one H2D and one
// D2H for depth x 2N^3 flops); the weight is scaled so values stay bounded.
function gemmChain(n: number, depth: number): { bytes: Uint8Array; feeds: Feeds; flops: number } {
  const random = seededRandom(n);
  const scale = 1 / Math.sqrt(n);
  const w = Float32Array.from({ length: n * n }, () => (random() * 2 - 1) * scale);
  const nodes = Array.from({ length: depth }, (_, i) => ({
    opType: 'MatMul',
    inputs: [i === 0 ? 'a' : `h${i}`, 'W'],
    outputs: [i === depth - 1 ? 'y' : `h${i + 1}`],
  }));
  const bytes = encodeModel({
    nodes,
    inputs: [{ name: 'a', dataType: 'FLOAT', shape: [n, n] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: [n, n] }],
    initializers: [{ name: 'W', dataType: 'FLOAT', dims: [n, n], values: w }],
  });
  const feeds: Feeds = { a: { type: 'float32', dims: [n, n], data: Float32Array.from({ length: n * n }, random) } };
  return { bytes, feeds, flops: 2 * n * n * n * depth };
}

interface GemmRow {
  n: number;
  target: string;
  tflops: number;
}

async function benchGemm(threads: number): Promise<GemmRow[]> {
  const rows: GemmRow[] = [];
  for (const n of [1024, 4096]) {
    const gpu = gemmChain(n, 16);
    for (const precision of ['fp32', 'fp16', 'bf16'] as const) {
      const ms = await medianMs(gpu.bytes, gpu.feeds, { device: 'cuda:0', precision });
      rows.push({ n, target: `cuda:0 ${precision} (cuBLASLt)`, tflops: gpu.flops / ms / 1e9 });
    }
    const cpu = gemmChain(n, n >= 4096 ? 1 : 4);
    const ms = await medianMs(cpu.bytes, cpu.feeds, { intraOpThreads: threads });
    rows.push({ n, target: `cpu fp32 (ours, ${threads} threads)`, tflops: cpu.flops / ms / 1e9 });
  }
  return rows;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const list = devices();
  if (list.length === 0) {
    console.log(
      'bench:gpu: no GPU here (devices() is empty: no CUDA driver or device, or an addon built without CUDA). ' +
        'Nothing to measure; bench/README.md ("GPU") says how to run it on a GPU machine.',
    );
    return;
  }
  const gpu = list[0];
  const threads = availableParallelism();
  console.log(machineLine(describeMachine()));
  console.log(
    `GPU: ${gpu.name} (compute ${gpu.computeCapability}, ${(gpu.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB, ` +
      `driver ${gpu.driverVersion}, runtime ${gpu.runtimeVersion})\n`,
  );
  const rows: Row[] = [];
  for (const name of MODELS)
    for (const batch of BATCHES.filter((b) => b <= DEMO_MODELS[name].maxBatchSize))
      rows.push(...(await benchModel(name, batch, threads)));
  console.log('| model | batch | target | p50 ms | items/s | H2D+D2H share |\n|---|---|---|---|---|---|');
  for (const r of rows) {
    const share = r.copyShare === undefined ? '' : `${(r.copyShare * 100).toFixed(0)} %`;
    console.log(
      `| ${r.model} | ${r.batch} | ${r.target} | ${r.p50Ms.toFixed(3)} | ${r.itemsPerS.toFixed(0)} | ${share} |`,
    );
  }
  const gemm = await benchGemm(threads);
  console.log('\n| GEMM N | target | TFLOP/s |\n|---|---|---|');
  for (const g of gemm) console.log(`| ${g.n} | ${g.target} | ${g.tflops.toFixed(2)} |`);
  if (json) console.log(JSON.stringify({ gpu, rows, gemm, machine: describeMachine() }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
