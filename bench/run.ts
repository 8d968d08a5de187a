// `npm run bench [-- --json]` runs bench/front-ends.ts (HTTP vs gRPC and
// WebSocket on one server), then this: the bare uWS baseline, the fastify +
// onnxruntime-node peer and the real server (`maas serve`), each in its own
// child process, loaded by autocannon from this process, with the server's
// CPU time per request read from /proc around each measured window.
//   BENCH_DURATION_S (default 10)  measured seconds per scenario
//   BENCH_WARMUP_S   (default 2)   unmeasured seconds per scenario before that
//   BENCH_CONNECTIONS (default 64) concurrent keep-alive connections
//   BENCH_SCENARIOS  (optional)    comma-separated substrings: run only matching scenarios
//                                  ('front-ends', 'grpc' or 'websocket' selects bench/front-ends.ts)
//   BENCH_MAAS_CLI   (optional)    another build's dist/bin/maas.js, to compare builds on one machine
// --json prints the summary as one JSON object on the last stdout line.
// Exits non-zero if any response was not 2xx or any request failed.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startChildServer, type ChildServer } from './child-server';
import { processCpuUs } from './cpu';
import { runLoad } from './load';
import { busyWarning, describeMachine, machineLine, sampleCpuBusy } from './machine';
import {
  checkTargets,
  formatTable,
  formatTargets,
  jsonSummary,
  writeReport,
  type BenchReport,
  type ScenarioResult,
} from './report';
import { writeBenchRepository } from './repository';
import { buildScenarios, type Scenario, type Target } from './scenarios';

// The nearest folder above this file with a package.json (dist/bench/ → repo root).
function packageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

const RESULTS_DIR = join(packageRoot(__dirname), 'bench', 'results');
// Compiled beside this file's folder, unless another build is named.
const MAAS_CLI = process.env.BENCH_MAAS_CLI || join(__dirname, '..', 'bin', 'maas.js');
const TARGETS: readonly Target[] = ['uws', 'fastify', 'maas-unmetered', 'maas'];

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got '${raw}'`);
  return value;
}

// One request before the load: a scenario that answers wrongly fails here,
// with the server's own message, instead of producing a fast, meaningless number.
async function preflight(server: ChildServer, scenario: Scenario): Promise<void> {
  const response = await fetch(server.url + scenario.path, {
    method: 'POST',
    headers: scenario.headers,
    body: scenario.body,
    signal: AbortSignal.timeout(10_000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  try {
    scenario.check(response.status, response.headers, body);
  } catch (err) {
    throw new Error(`preflight of '${scenario.name}' failed: ${(err as Error).message}`, { cause: err });
  }
}

async function measure(
  server: ChildServer,
  scenario: Scenario,
  connections: number,
  durationS: number,
  warmupS: number,
): Promise<ScenarioResult> {
  const load = { url: server.url + scenario.path, headers: scenario.headers, body: scenario.body, connections };
  const warmup = warmupS > 0 ? await runLoad({ ...load, durationS: warmupS }) : undefined;
  const cpuBeforeUs = processCpuUs(server.pid);
  const measured = await runLoad({ ...load, durationS });
  const cpuUs = processCpuUs(server.pid) - cpuBeforeUs;
  return {
    scenario: scenario.name,
    target: scenario.target,
    model: scenario.model,
    batching: scenario.batching,
    connections,
    what: scenario.what,
    ...measured,
    cpuUsPerRequest: measured.completed > 0 ? cpuUs / measured.completed : Number.NaN,
    warmupNon2xx: warmup?.non2xx ?? 0,
    warmupErrors: warmup?.errors ?? 0,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const durationS = envNumber('BENCH_DURATION_S', 10, 1);
  const warmupS = envNumber('BENCH_WARMUP_S', 2, 0);
  const connections = Math.round(envNumber('BENCH_CONNECTIONS', 64, 1));
  const only = (process.env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const machine = { ...describeMachine(), cpuBusyBeforeRun: await sampleCpuBusy() };
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    machine,
    settings: { durationS, warmupS, connections },
    results: [],
  };
  console.log(`machine: ${machineLine(machine)}`);
  const warning = busyWarning(machine.cpuBusyBeforeRun);
  if (warning) console.warn(warning);
  console.log(`load: autocannon, ${connections} connections, ${warmupS} s warm-up + ${durationS} s per scenario\n`);

  const scenarios = buildScenarios().filter(
    (s) => only.length === 0 || only.some((o) => s.name.toLowerCase().includes(o)),
  );
  if (scenarios.length === 0) {
    console.log('no HTTP scenario matches BENCH_SCENARIOS'); // e.g. only the front ends were asked for
    return;
  }
  const repository = await writeBenchRepository();
  // Searchable by the postgres user the embedded registry runs as under root.
  const dataDir = `${repository}-data`;
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755);
  // The served gRPC port: any free one (builds without gRPC ignore this).
  process.env.MAAS_GRPC_PORT ??= '0';
  const launchers: Record<Target, () => Promise<ChildServer>> = {
    uws: () => startChildServer('uws-hello', [join(__dirname, 'uws-hello.js'), '0']),
    fastify: () => startChildServer('fastify-ort', [join(__dirname, 'fastify-ort.js'), repository, 'identity', 'mlp']),
    'maas-unmetered': () => startMaas('maas serve --usage off', ['--usage', 'off']),
    maas: () => startMaas('maas serve', []),
  };
  function startMaas(name: string, extra: string[]): Promise<ChildServer> {
    return startChildServer(name, [
      MAAS_CLI,
      'serve',
      '--model-repository',
      repository,
      '--http-port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'info',
      // The gateway's own cost, as the baselines have none: no API keys, a
      // throwaway data dir for the embedded registry, no gRPC listener.
      '--auth',
      'none',
      '--data-dir',
      dataDir,
      '--grpc-port=-1',
      ...extra,
    ]);
  }
  try {
    for (const target of TARGETS) {
      const mine = scenarios.filter((s) => s.target === target);
      if (mine.length === 0) continue;
      const server = await launchers[target]();
      console.log(`${server.name} (pid ${server.pid}) on ${server.url}`);
      try {
        for (const scenario of mine) {
          await preflight(server, scenario);
          const result = await measure(server, scenario, connections, durationS, warmupS);
          report.results.push(result);
          console.log(
            `  ${scenario.name}: ${Math.round(result.requestsPerS)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
              `p99 ${result.p99Ms.toFixed(2)} ms, ${result.cpuUsPerRequest.toFixed(1)} CPU µs/req, non-2xx ${result.non2xx}, errors ${result.errors}`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rm(repository, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log(`\n${formatTable(report.results)}\n`);
  console.log(`targets (this run):\n${formatTargets(checkTargets(report.results))}\n`);
  console.log(`machine: ${machineLine(machine)}`);
  if (warning) console.warn(warning);
  console.log(`results: ${await writeReport(RESULTS_DIR, report)}`);
  const failed = report.results.filter((r) => r.non2xx + r.warmupNon2xx > 0 || r.errors + r.warmupErrors > 0);
  if (failed.length > 0) {
    for (const r of failed) {
      console.error(
        `FAIL ${r.scenario}: ${r.non2xx + r.warmupNon2xx} non-2xx responses, ${r.errors + r.warmupErrors} errors; status codes ${JSON.stringify(r.statusCodes)}`,
      );
    }
    process.exitCode = 1;
  }
  if (json) console.log(jsonSummary(report));
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
