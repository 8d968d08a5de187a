// `npm run bench:jobs`: online latency beside an asynchronous job
// (docs/jobs.md "Priority"). One `maas serve` child (embedded PostgreSQL,
// --auth none, in-process job queue); this process first measures online
// requests alone, then the same online load while a 10,000-request job runs
// on the same model (identity with dynamic batching), and prints both p99s,
// their ratio (target: at most 2), the job's throughput and the server's CPU
// µs per job request.
//   BENCH_JOB_REQUESTS  (default 10000)  requests in the job
//   BENCH_ONLINE_CLIENTS (default 4)     concurrent online clients (closed loop)
//   BENCH_ONLINE_S      (default 5)      seconds of the unloaded measurement
import { chmod, mkdir, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DEMO_MODELS } from '../models/demo';
import { startChildServer } from './child-server';
import { processCpuUs } from './cpu';
import { describeMachine, machineLine } from './machine';
import { IDENTITY_BATCHED_MODEL, writeBenchRepository } from './repository';

const JOB_REQUESTS = Number(process.env.BENCH_JOB_REQUESTS ?? 10_000);
const CLIENTS = Number(process.env.BENCH_ONLINE_CLIENTS ?? 4);
const ONLINE_S = Number(process.env.BENCH_ONLINE_S ?? 5);
const IDENTITY = DEMO_MODELS.identity;
const WIDTH = IDENTITY.input.dims[1];

function body(i: number): string {
  const data = Array.from({ length: WIDTH }, (_, k) => ((i + k) % 1000) / 1000);
  return JSON.stringify({ inputs: [{ name: IDENTITY.input.name, datatype: 'FP32', shape: [1, WIDTH], data }] });
}

// CLIENTS closed-loop clients until stop(); latencies in ms and failures.
async function online(url: string, stop: () => boolean): Promise<{ latenciesMs: number[]; failures: number }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const payload = body(7);
  const client = async () => {
    while (!stop()) {
      const t0 = performance.now();
      const r = await fetch(`${url}/v2/models/${IDENTITY_BATCHED_MODEL}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
      });
      await r.arrayBuffer();
      latenciesMs.push(performance.now() - t0);
      if (r.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { latenciesMs, failures };
}

function p(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
}

async function main(): Promise<void> {
  console.log(machineLine(describeMachine()));
  const repository = await writeBenchRepository();
  const dataDir = `${repository}-data`;
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755); // searchable by the embedded PostgreSQL's user
  const server = await startChildServer('maas serve', [
    `${__dirname}/../bin/maas.js`,
    'serve',
    ...['--model-repository', repository, '--data-dir', dataDir, '--auth', 'none'],
    ...['--host', '127.0.0.1', '--http-port', '0', '--grpc-port=-1', '--access-log-sample', '0'],
  ]);
  try {
    // Warm-up, then online alone.
    let until = performance.now() + 1000;
    await online(server.url, () => performance.now() > until);
    until = performance.now() + ONLINE_S * 1000;
    const alone = await online(server.url, () => performance.now() > until);

    let jsonl = '';
    for (let i = 0; i < JOB_REQUESTS; i++) jsonl += `${body(i)}\n`;
    const cpu0 = processCpuUs(server.pid);
    const t0 = performance.now();
    const created = await fetch(`${server.url}/api/v1/jobs?model=${IDENTITY_BATCHED_MODEL}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: jsonl,
    });
    const { id } = (await created.json()) as { id: string };
    if (created.status !== 202) throw new Error(`job refused: ${created.status}`);
    let status = 'queued';
    const watching = (async () => {
      while (!['succeeded', 'failed', 'cancelled'].includes(status)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = ((await (await fetch(`${server.url}/api/v1/jobs/${id}`)).json()) as { status: string }).status;
      }
    })();
    const during = await online(server.url, () => status !== 'queued' && status !== 'running');
    await watching;
    const jobS = (performance.now() - t0) / 1000;
    const cpuUs = processCpuUs(server.pid) - cpu0;
    if (status !== 'succeeded') throw new Error(`the job ended ${status}`);
    const p99Alone = p(alone.latenciesMs, 99);
    const p99During = p(during.latenciesMs, 99);
    console.log(
      `online (${CLIENTS} clients) alone:      p50 ${p(alone.latenciesMs, 50).toFixed(2)} ms, p99 ${p99Alone.toFixed(2)} ms, ${alone.latenciesMs.length} requests, ${alone.failures} failed`,
    );
    console.log(
      `online (${CLIENTS} clients) during job: p50 ${p(during.latenciesMs, 50).toFixed(2)} ms, p99 ${p99During.toFixed(2)} ms, ${during.latenciesMs.length} requests, ${during.failures} failed`,
    );
    console.log(
      `job: ${JOB_REQUESTS} requests in ${jobS.toFixed(2)} s (${Math.round(JOB_REQUESTS / jobS)} req/s); server CPU ${(cpuUs / (JOB_REQUESTS + during.latenciesMs.length)).toFixed(1)} µs per request (job and online together)`,
    );
    console.log(`online p99 during the job / alone: ${(p99During / p99Alone).toFixed(2)}x (target <= 2)`);
    if (alone.failures + during.failures > 0) process.exitCode = 1;
  } finally {
    await server.stop();
    await rm(repository, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
