// `npm run bench`: the uWS hello baseline, then the real server (`maas serve`),
// each in its own child process, loaded by autocannon from this process.
//   BENCH_DURATION_S (default 10)  measured seconds per scenario
//   BENCH_WARMUP_S   (default 2)   unmeasured seconds per scenario before that
//   BENCH_CONNECTIONS (default 32) concurrent keep-alive connections
// Exits non-zero if any response was not 2xx or any request failed.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startChildServer, type ChildServer } from './child-server';
import { runLoad } from './load';
import { busyWarning, describeMachine, machineLine, sampleCpuBusy } from './machine';
import { formatTable, writeReport, type BenchReport, type ScenarioResult } from './report';
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
const MAAS_CLI = join(__dirname, '..', 'bin', 'maas.js'); // compiled beside this file's folder

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
    throw new Error(`preflight of '${scenario.name}' failed: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const durationS = envNumber('BENCH_DURATION_S', 10, 1);
  const warmupS = envNumber('BENCH_WARMUP_S', 2, 0);
  const connections = Math.round(envNumber('BENCH_CONNECTIONS', 32, 1));
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

  const scenarios = buildScenarios();
  const repository = await writeBenchRepository();
  const launchers: Record<Target, () => Promise<ChildServer>> = {
    baseline: () => startChildServer('uws-hello', [join(__dirname, 'uws-hello.js'), '0']),
    server: () =>
      startChildServer('maas serve', [
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
      ]),
  };
  let baselineRps = Number.NaN;
  try {
    for (const target of ['baseline', 'server'] as const) {
      const server = await launchers[target]();
      console.log(`${server.name} (pid ${server.pid}) on ${server.url}`);
      try {
        for (const scenario of scenarios.filter((s) => s.target === target)) {
          await preflight(server, scenario);
          const load = await runLoad({
            url: server.url + scenario.path,
            headers: scenario.headers,
            body: scenario.body,
            connections,
            durationS,
            warmupS,
          });
          if (target === 'baseline') baselineRps = load.requestsPerS;
          const result: ScenarioResult = {
            scenario: scenario.name,
            target,
            what: scenario.what,
            ...load,
            ratioToBaseline: load.requestsPerS / baselineRps,
          };
          report.results.push(result);
          console.log(
            `  ${scenario.name}: ${Math.round(load.requestsPerS)} req/s, p50 ${load.p50Ms.toFixed(2)} ms, ` +
              `p99 ${load.p99Ms.toFixed(2)} ms, non-2xx ${load.non2xx}, errors ${load.errors}`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rm(repository, { recursive: true, force: true });
  }

  console.log(`\n${formatTable(report.results)}\n`);
  console.log(`machine: ${machineLine(machine)}`);
  if (warning) console.warn(warning);
  console.log(`results: ${await writeReport(RESULTS_DIR, report)}`);
  const failed = report.results.filter((r) => r.non2xx > 0 || r.errors > 0);
  if (failed.length > 0) {
    for (const r of failed) {
      console.error(
        `FAIL ${r.scenario}: ${r.non2xx} non-2xx responses, ${r.errors} errors; status codes ${JSON.stringify(r.statusCodes)}`,
      );
    }
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
