// The three front ends on the same model in the same run (docs/grpc.md,
// docs/websocket.md): HTTP keep-alive JSON (autocannon, the baseline), gRPC
// unary and streaming (grpc-js client), WebSocket MessagePack with 1, 64
// and 1024 requests in flight on one socket. Reports requests/s, p50/p99
// and the server's CPU µs per request (utime+stime of the server process
// over the window ÷ answers), the figure that moves least on a shared
// 2-core machine. Model: `identity` [1,16] FP32, so the front end's own
// cost dominates.
//   node dist/bench/front-ends.js [--seconds N] [--if-selected]
// `npm run bench` runs it first with --if-selected: then it honours
// BENCH_SCENARIOS (runs when unset, or when one of its substrings occurs in
// FRONT_ENDS_KEYWORDS) and takes BENCH_DURATION_S as its seconds.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { findPackageRoot } from '../common/package-root';
import { writeDemoRepository } from '../models/demo';
import { WsClient } from '../test/support/ws-client';
import { startChildServer, type ChildServer } from './child-server';
import { processCpuUs } from './cpu';
import { LatencyRecorder } from './latency';
import { runLoad } from './load';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const WIDTH = 16;
const ROW = new Float32Array(WIDTH).map((_, i) => i / 7);

interface Row {
  name: string;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  probe.close();
  return port;
}

// Runs `worker` loops for `seconds`; each loop awaits one request at a time.
async function closedLoop(
  name: string,
  server: ChildServer,
  seconds: number,
  loops: number,
  one: () => Promise<void>,
): Promise<Row> {
  const latency = new LatencyRecorder();
  const endMs = performance.now() + seconds * 1000;
  const cpuBefore = processCpuUs(server.pid);
  const startedMs = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < endMs) {
        const t0 = performance.now();
        await one();
        latency.record(performance.now() - t0);
        done++;
      }
    }),
  );
  const elapsedS = (performance.now() - startedMs) / 1000;
  const cpuUs = processCpuUs(server.pid) - cpuBefore;
  const [p50Ms, p99Ms] = latency.percentilesMs([50, 99]);
  return { name, requestsPerS: done / elapsedS, p50Ms, p99Ms, cpuUsPerRequest: cpuUs / done };
}

interface InferenceClient extends grpc.Client {
  ModelInfer(request: unknown, callback: (err: grpc.ServiceError | null, res: unknown) => void): void;
  ModelStreamInfer(): grpc.ClientDuplexStream<unknown, { error_message: string; infer_response: { id: string } }>;
}

function grpcClient(port: number): InferenceClient {
  const root = findPackageRoot(__dirname) as string;
  const pkg = loadSync(join(root, 'gateway', 'grpc', 'inference.proto'), { keepCase: true, longs: Number });
  const service = grpc.loadPackageDefinition(pkg).inference as unknown as Record<string, grpc.ServiceClientConstructor>;
  return new service.GRPCInferenceService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as InferenceClient;
}

function grpcRequest(id = ''): unknown {
  return {
    model_name: 'identity',
    id,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, WIDTH] }],
    raw_input_contents: [Buffer.from(ROW.buffer)],
  };
}

const FRONT_ENDS_KEYWORDS = 'front-ends grpc websocket';

function selected(): boolean {
  if (!process.argv.includes('--if-selected')) return true;
  const only = (process.env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return only.length === 0 || only.some((o) => FRONT_ENDS_KEYWORDS.includes(o));
}

async function main(): Promise<void> {
  if (!selected()) {
    console.log('front ends: not in BENCH_SCENARIOS, skipped');
    return;
  }
  const at = process.argv.indexOf('--seconds');
  const seconds = (at >= 0 ? Number(process.argv[at + 1]) : Number(process.env.BENCH_DURATION_S)) || 5;
  const repo = await mkdtemp(join(tmpdir(), 'maas-bench-fe-'));
  await writeDemoRepository(repo);
  // Searchable by the postgres user the embedded registry runs as under root.
  await mkdir(`${repo}-data`, { mode: 0o755 });
  await chmod(`${repo}-data`, 0o755);
  const grpcPort = await freePort();
  const cli = join(__dirname, '..', 'bin', 'maas.js');
  const server = await startChildServer('maas serve', [
    cli,
    'serve',
    '--model-repository',
    repo,
    '--http-port',
    '0',
    '--grpc-port',
    String(grpcPort),
    '--host',
    '127.0.0.1',
    '--log-level',
    'info',
    // No API keys (the HTTP bench measures without them too); a throwaway data dir.
    '--auth',
    'none',
    '--data-dir',
    `${repo}-data`,
  ]);
  const rows: Row[] = [];
  try {
    const body = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, WIDTH], data: Array.from(ROW) }] }),
    );
    const url = `${server.url}/v2/models/identity/infer`;
    await runLoad({ url, headers: { 'content-type': 'application/json' }, body, connections: 64, durationS: 1 }); // warm-up
    const cpuBefore = processCpuUs(server.pid);
    const http = await runLoad({
      url,
      headers: { 'content-type': 'application/json' },
      body,
      connections: 64,
      durationS: seconds,
    });
    const httpCpu = processCpuUs(server.pid) - cpuBefore;
    rows.push({
      name: 'HTTP JSON keep-alive, c=64 (autocannon)',
      requestsPerS: http.requestsPerS,
      p50Ms: http.p50Ms,
      p99Ms: http.p99Ms,
      cpuUsPerRequest: httpCpu / http.completed,
    });

    const client = grpcClient(grpcPort);
    const unary = (): Promise<void> =>
      new Promise((resolve, reject) => client.ModelInfer(grpcRequest(), (err) => (err ? reject(err) : resolve())));
    await closedLoop('warm-up', server, 1, 64, unary);
    rows.push(await closedLoop('gRPC unary, 64 in flight', server, seconds, 64, unary));

    const stream = client.ModelStreamInfer();
    const waiting = new Map<string, () => void>();
    stream.on('data', (m: { infer_response: { id: string } }) => {
      const done = waiting.get(m.infer_response.id);
      waiting.delete(m.infer_response.id);
      done?.();
    });
    let next = 0;
    const streamed = (): Promise<void> =>
      new Promise((resolve) => {
        const id = String(next++);
        waiting.set(id, resolve);
        stream.write(grpcRequest(id));
      });
    rows.push(await closedLoop('gRPC stream, 64 in flight', server, seconds, 64, streamed));
    stream.end();
    client.close();

    const ws = await WsClient.connect(`${server.url.replace('http', 'ws')}/v2/stream`);
    const input = [{ name: 'input', datatype: 'FP32', shape: [1, WIDTH], data: new Uint8Array(ROW.buffer) }];
    const wsOne = async (): Promise<void> => {
      await ws.infer('identity', input);
    };
    await closedLoop('warm-up', server, 1, 64, wsOne);
    for (const inFlight of [1, 64, 1024]) {
      rows.push(await closedLoop(`WebSocket msgpack, ${inFlight} in flight`, server, seconds, inFlight, wsOne));
    }
    await ws.close();
  } finally {
    await server.stop();
  }
  const base = rows[0];
  console.log(`front ends on identity [1,16] FP32, ${seconds} s each, one machine (load generator shares it)`);
  console.log('| front end | req/s | × HTTP | p50 ms | p99 ms | server CPU µs/req | × HTTP |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.requestsPerS.toFixed(0)} | ${(r.requestsPerS / base.requestsPerS).toFixed(2)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.cpuUsPerRequest.toFixed(1)} | ${(r.cpuUsPerRequest / base.cpuUsPerRequest).toFixed(2)} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
