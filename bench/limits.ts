// The cost of the limits step (docs/limits.md "Cost"): one `maas serve` with
// the registry and a private Redis (`--redis-url`), two tenants' keys, the
// `identity` model; the same load with limits off (a tenant without limits)
// and on (a tenant with request and inference rates and a monthly quota,
// all far above the load, so every request is admitted and counted), in
// the order off, on, on, off so that drift in the machine's load falls on
// both. Reports requests/s, p50/p99 and the server's CPU µs per request.
// The load is offered at a fixed rate (BENCH_LIMITS_RATE, default 1000/s):
// a server's CPU per request falls as its throughput rises (more requests
// per event-loop turn), so on a busy machine a closed loop would compare
// throughputs, not the cost of the step.
//   node dist/bench/limits.js [--if-selected]
// `npm run bench` runs it last with --if-selected: it runs when
// BENCH_SCENARIOS is unset or names 'limits'. BENCH_DURATION_S, BENCH_WARMUP_S
// and BENCH_CONNECTIONS as for bench/run.ts.
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MODELS, writeDemoRepository } from '../models/demo';
import { startRedis } from '../test/support/services';
import { createLogger } from '../common/logger';
import type { CallContext } from '../gateway/inference/call';
import { TenantLimiter } from '../limits/limiter';
import { NO_LIMITS } from '../limits/policy';
import { RedisCounters } from '../limits/redis';
import { startChildServer } from './child-server';
import { processCpuUs } from './cpu';
import { runLoad } from './load';
import { busyWarning, describeMachine, machineLine, sampleCpuBusy } from './machine';

const LIMITS = { requestsPerSecond: 1e9, inferencesPerSecond: 1e9, monthlyInferences: 1e12 };

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

function selected(): boolean {
  if (!process.argv.includes('--if-selected')) return true;
  const only = (process.env.BENCH_SCENARIOS ?? '').split(',').map((s) => s.trim().toLowerCase());
  return only.every((o) => o === '') || only.includes('limits');
}

async function adminCall(
  url: string,
  key: string,
  method: string,
  route: string,
  body: unknown,
): Promise<{ key?: string }> {
  const r = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${route}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { key?: string };
}

// The step alone, in this process: acquire + release through the limiter and
// the Redis counters, CPU µs per call (process.cpuUsage), limits off and on.
// Steadier than the server's figure on a busy machine; it leaves out the two
// extra headers the front end writes.
async function stepAlone(redisUrl: string): Promise<{ off: number; on: number }> {
  const counters = new RedisCounters({ url: redisUrl, logger: createLogger('silent') });
  await counters.ready();
  const on = { ...NO_LIMITS, ...LIMITS };
  const limiter = new TenantLimiter(counters, {
    tenant: (name) => (name === 'on' ? on : undefined),
    keyOf: () => undefined,
  });
  const cpuUsPerCall = async (tenant: string, calls: number): Promise<number> => {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      const call = {
        operation: 'infer',
        principal: { subject: 'key:bench', tenant, roles: [] },
        responseHeaders: null,
      } as unknown as CallContext;
      const lease = limiter.acquire(call);
      (lease instanceof Promise ? await lease : lease).release(call, 1);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / calls;
  };
  try {
    await cpuUsPerCall('on', 50_000); // warm-up
    const offUs = await cpuUsPerCall('off', 200_000);
    const onUs = await cpuUsPerCall('on', 200_000);
    return { off: offUs, on: onUs };
  } finally {
    await counters.close();
  }
}

interface Row {
  limits: 'off' | 'on';
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  failed: number;
}

async function main(): Promise<void> {
  if (!selected()) {
    console.log('limits: not in BENCH_SCENARIOS, skipped');
    return;
  }
  const durationS = envNumber('BENCH_DURATION_S', 10);
  const warmupS = envNumber('BENCH_WARMUP_S', 2);
  const connections = envNumber('BENCH_CONNECTIONS', 64);
  const ratePerS = envNumber('BENCH_LIMITS_RATE', 1000);
  const machine = { ...describeMachine(), cpuBusyBeforeRun: await sampleCpuBusy() };
  console.log(`\nlimits step: machine ${machineLine(machine)}; ${ratePerS} req/s offered`);
  const warning = busyWarning(machine.cpuBusyBeforeRun);
  if (warning) console.warn(warning);
  const redis = await startRedis();
  const step = await stepAlone(redis.info.url);
  console.log(
    `  the step alone (in process, Redis counters): ${step.on.toFixed(2)} vs ${step.off.toFixed(2)} CPU µs/call, ` +
      `${(step.on - step.off).toFixed(2)} µs added`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'maas-bench-limits-'));
  // Searchable by the postgres user the embedded registry runs as under root.
  await chmod(dir, 0o755);
  const repo = join(dir, 'models');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { mode: 0o755 });
  await writeDemoRepository(repo);
  const server = await startChildServer('maas serve (limits)', [
    join(__dirname, '..', 'bin', 'maas.js'),
    'serve',
    ...['--model-repository', repo, '--data-dir', dataDir, '--redis-url', redis.info.url],
    ...['--http-port', '0', '--host', '127.0.0.1', '--grpc-port=-1', '--access-log-sample', '0'],
  ]);
  try {
    const admin = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const keys: Record<Row['limits'], string> = { off: '', on: '' };
    for (const which of ['off', 'on'] as const) {
      const tenant = `bench-${which}`;
      await adminCall(server.url, admin, 'POST', '/api/v1/tenants', { name: tenant });
      keys[which] = (await adminCall(server.url, admin, 'POST', `/api/v1/tenants/${tenant}/keys`, { role: 'viewer' }))
        .key as string;
    }
    await adminCall(server.url, admin, 'PUT', '/api/v1/tenants/bench-on/limits', LIMITS);
    const { input } = DEMO_MODELS.identity;
    const body = Buffer.from(
      JSON.stringify({
        inputs: [{ name: input.name, shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.5) }],
      }),
    );
    const url = `${server.url}/v2/models/identity/infer`;
    const check = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${keys.on}` }, body });
    if (check.status !== 200 || !check.headers.get('ratelimit')) throw new Error(`limits are not on: ${check.status}`);
    await check.arrayBuffer();
    const rows: Row[] = [];
    for (const which of ['off', 'on', 'on', 'off'] as const) {
      const load = { url, headers: { authorization: `Bearer ${keys[which]}` }, body, connections, ratePerS };
      if (warmupS > 0) await runLoad({ ...load, durationS: warmupS });
      const cpuBefore = processCpuUs(server.pid);
      const r = await runLoad({ ...load, durationS });
      const cpuUs = processCpuUs(server.pid) - cpuBefore;
      const row: Row = {
        limits: which,
        requestsPerS: r.requestsPerS,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        cpuUsPerRequest: cpuUs / r.completed,
        failed: r.non2xx + r.errors,
      };
      rows.push(row);
      console.log(
        `  limits ${which}: ${Math.round(row.requestsPerS)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, ` +
          `p99 ${row.p99Ms.toFixed(2)} ms, ${row.cpuUsPerRequest.toFixed(1)} CPU µs/req, failed ${row.failed}`,
      );
    }
    const mean = (which: Row['limits'], f: (r: Row) => number) => {
      const mine = rows.filter((r) => r.limits === which);
      return mine.reduce((s, r) => s + f(r), 0) / mine.length;
    };
    const cpuOff = mean('off', (r) => r.cpuUsPerRequest);
    const cpuOn = mean('on', (r) => r.cpuUsPerRequest);
    console.log(
      `limits step (Redis, leased tokens): ${cpuOn.toFixed(1)} vs ${cpuOff.toFixed(1)} CPU µs/req: ` +
        `${(cpuOn - cpuOff).toFixed(1)} µs added (target ≤ 10); ` +
        `${Math.round(mean('on', (r) => r.requestsPerS))} vs ${Math.round(mean('off', (r) => r.requestsPerS))} req/s`,
    );
    if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
  } finally {
    await server.stop();
    await redis.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench limits: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
