// `npm run bench:overload`: load shedding by deadline (docs/resilience.md).
// Starts `maas serve` (a child process) with one batched model of tens of
// milliseconds per batch, measures its capacity with a closed loop (the
// baseline of this run), then offers OVERLOAD_FACTOR × that rate open-loop,
// every request with a deadline (the KServe `timeout` parameter), and reports
// goodput (answers within the deadline per second) as a share of capacity,
// the p99 latency of accepted requests against the deadline, and refusals by
// code. Timings are this machine's, noisy where other work shares its cores.
//   OVERLOAD_FACTOR (default 3), OVERLOAD_DEADLINE_MS (default 1000),
//   OVERLOAD_DURATION_S (default 8) per phase.
import http from 'node:http';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeModel } from '../models/onnx-writer';
import { startChildServer } from './child-server';
import { processCpuUs } from './cpu';
import { describeMachine, machineLine } from './machine';

const MODEL = 'overload_mlp';
const WIDTH = 1024;
const LAYERS = 8;

function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? '');
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

// x [batch, WIDTH] through LAYERS MatMul+Relu layers: tens of ms per batch of 4.
function modelBytes(): Uint8Array {
  const nodes = [];
  const initializers = [];
  let prev = 'x';
  for (let i = 0; i < LAYERS; i++) {
    const w = new Float32Array(WIDTH * WIDTH).map((_, j) => (((j * 7919 + i) % 17) - 8) / 1024);
    initializers.push({ name: `w${i}`, dataType: 'FLOAT' as const, dims: [WIDTH, WIDTH], values: w });
    const out = i === LAYERS - 1 ? 'y' : `h${i}`;
    nodes.push({ opType: 'MatMul', inputs: [prev, `w${i}`], outputs: [`m${i}`] });
    nodes.push({ opType: 'Relu', inputs: [`m${i}`], outputs: [out] });
    prev = out;
  }
  return encodeModel({
    nodes,
    inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['batch', WIDTH] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['batch', WIDTH] }],
    initializers,
  });
}

interface Outcome {
  status: number;
  code: string;
  latencyMs: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function post(url: URL, body: Buffer): Promise<Outcome> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code = 'OK';
          if (res.statusCode !== 200) {
            try {
              code = (JSON.parse(Buffer.concat(chunks).toString()) as { code?: string }).code ?? 'UNKNOWN';
            } catch {
              code = 'UNPARSED';
            }
          }
          resolve({ status: res.statusCode ?? 0, code, latencyMs: performance.now() - start });
        });
      },
    );
    req.on('error', (err) => resolve({ status: 0, code: err.message, latencyMs: performance.now() - start }));
    req.end(body);
  });
}

function body(timeoutUs: number): Buffer {
  const data = Array.from({ length: WIDTH }, (_, i) => (i % 10) / 10);
  const parameters = timeoutUs > 0 ? { timeout: timeoutUs } : undefined;
  return Buffer.from(
    JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, WIDTH], data }], parameters }),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Closed loop: `concurrency` callers, each sending the next when answered.
async function capacity(url: URL, concurrency: number, durationS: number): Promise<number> {
  const endAt = performance.now() + durationS * 1000;
  let ok = 0;
  const payload = body(0);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endAt) if ((await post(url, payload)).status === 200) ok += 1;
    }),
  );
  return ok / durationS;
}

// Open loop: `rate` requests per second in ticks of 5 ms, whatever the answers.
async function offer(url: URL, rate: number, durationS: number, timeoutUs: number): Promise<Outcome[]> {
  const payload = body(timeoutUs);
  const pending: Promise<Outcome>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) pending.push(post(url, payload));
    await new Promise((r) => setTimeout(r, 5));
  }
  return Promise.all(pending);
}

async function main(): Promise<void> {
  const factor = envNumber('OVERLOAD_FACTOR', 3);
  const deadlineMs = envNumber('OVERLOAD_DEADLINE_MS', 1000);
  const durationS = envNumber('OVERLOAD_DURATION_S', 8);
  const repo = await mkdtemp(join(tmpdir(), 'maas-overload-'));
  const dataDir = `${repo}-data`;
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755);
  await mkdir(join(repo, MODEL, '1'), { recursive: true });
  const config = { max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: 500 } };
  await writeFile(join(repo, MODEL, 'config.json'), JSON.stringify(config));
  await writeFile(join(repo, MODEL, '1', 'model.onnx'), modelBytes());
  console.log(`machine: ${machineLine(describeMachine())}`);
  const server = await startChildServer('maas serve', [
    join(__dirname, '..', 'bin', 'maas.js'),
    'serve',
    ...['--model-repository', repo, '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'info'],
    ...['--auth', 'none', '--data-dir', dataDir, '--grpc-port=-1', '--threads', '1'],
  ]);
  try {
    const url = new URL(`${server.url}/v2/models/${MODEL}/infer`);
    await capacity(url, 16, 1); // warm-up
    const capacityRps = await capacity(url, 16, durationS);
    const rate = capacityRps * factor;
    console.log(`capacity (closed loop, 16 callers): ${capacityRps.toFixed(0)} req/s`);
    console.log(`offering ${rate.toFixed(0)} req/s (${factor}x) for ${durationS} s, deadline ${deadlineMs} ms`);
    const cpuBeforeUs = processCpuUs(server.pid);
    const outcomes = await offer(url, rate, durationS, deadlineMs * 1000);
    const cpuUs = processCpuUs(server.pid) - cpuBeforeUs;
    const accepted = outcomes.filter((o) => o.status === 200);
    const lat = accepted.map((o) => o.latencyMs).sort((a, b) => a - b);
    const late = accepted.filter((o) => o.latencyMs > deadlineMs).length;
    const goodRps = (accepted.length - late) / durationS;
    const codes = new Map<string, number>();
    for (const o of outcomes) if (o.status !== 200) codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
    const refusedLat = outcomes
      .filter((o) => o.code === 'DEADLINE_UNMEETABLE')
      .map((o) => o.latencyMs)
      .sort((a, b) => a - b);
    const summary = {
      capacityRps: Math.round(capacityRps),
      offeredRps: Math.round(outcomes.length / durationS),
      goodputRps: Math.round(goodRps),
      goodputOfCapacityPct: Math.round((100 * goodRps) / capacityRps),
      acceptedP50Ms: +percentile(lat, 50).toFixed(1),
      acceptedP99Ms: +percentile(lat, 99).toFixed(1),
      deadlineMs,
      acceptedLate: late,
      refusals: Object.fromEntries(codes),
      refusalP99Ms: +percentile(refusedLat, 99).toFixed(1),
      serverCpuUsPerRequest: Math.round(cpuUs / outcomes.length),
    };
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    agent.destroy();
    await server.stop();
    await rm(repo, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
