// Turns measured scenarios into the printed table, the targets of the
// serving-core issue, the one-line JSON summary and the results file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult } from './load';
import type { MachineInfo } from './machine';
import type { Target } from './scenarios';

export interface ScenarioResult extends LoadResult {
  scenario: string;
  target: Target;
  model: string | null;
  batching: boolean | null;
  connections: number;
  what: string;
  cpuUsPerRequest: number; // server process utime+stime over the measured window ÷ 2xx responses
  warmupNon2xx: number; // a wrong answer is wrong whenever it comes
  warmupErrors: number;
}

export interface BenchReport {
  startedAt: string;
  machine: MachineInfo;
  settings: { durationS: number; warmupS: number; connections: number };
  results: ScenarioResult[];
}

const COLUMNS = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'req/s vs fastify', 'non-2xx', 'errors'];

function peer(results: ScenarioResult[], r: ScenarioResult): ScenarioResult | undefined {
  return results.find((p) => p.target === 'fastify' && p.model === r.model);
}

function row(results: ScenarioResult[], r: ScenarioResult): string[] {
  const p = r.target === 'maas' ? peer(results, r) : undefined;
  return [
    r.scenario,
    Math.round(r.requestsPerS).toString(),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.cpuUsPerRequest.toFixed(1),
    p ? `${(r.requestsPerS / p.requestsPerS).toFixed(2)}x` : '',
    (r.non2xx + r.warmupNon2xx).toString(),
    (r.errors + r.warmupErrors).toString(),
  ];
}

// A Markdown table, so the output pastes straight into bench/README.md.
export function formatTable(results: ScenarioResult[]): string {
  const rows = [COLUMNS, ...results.map((r) => row(results, r))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  // Cells are padded by one space each side; ':' at the right end right-aligns a column.
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

interface Check {
  target: string;
  figure: string;
  met: boolean;
}

// The serving-core issue's targets (docs/architecture.md "Hot path"),
// judged on this run's figures.
export function checkTargets(results: ScenarioResult[]): Check[] {
  const find = (model: string, batching: boolean) =>
    results.find(
      (r) => r.target === 'maas' && r.model === model && r.batching === batching && !r.scenario.includes('binary'),
    );
  const fastify = (model: string) => results.find((r) => r.target === 'fastify' && r.model === model);
  const checks: Check[] = [];
  const idOn = find('identity', true);
  const idOff = find('identity', false);
  const mlpOn = find('mlp', true);
  const fId = fastify('identity');
  const fMlp = fastify('mlp');
  if (idOn)
    checks.push({
      target: 'identity, batching on: ≤ 25 µs/request',
      figure: `${idOn.cpuUsPerRequest.toFixed(1)} µs`,
      met: idOn.cpuUsPerRequest <= 25,
    });
  if (idOff && fId) {
    checks.push({
      target: "identity, batching off: ≤ the fastify peer's µs/request",
      figure: `${idOff.cpuUsPerRequest.toFixed(1)} vs ${fId.cpuUsPerRequest.toFixed(1)} µs`,
      met: idOff.cpuUsPerRequest <= fId.cpuUsPerRequest,
    });
  }
  if (mlpOn)
    checks.push({
      target: 'mlp, batching on: ≤ 60 µs/request',
      figure: `${mlpOn.cpuUsPerRequest.toFixed(1)} µs`,
      met: mlpOn.cpuUsPerRequest <= 60,
    });
  if (mlpOn && fMlp) {
    const ratio = mlpOn.requestsPerS / fMlp.requestsPerS;
    checks.push({
      target: "mlp, batching on: ≥ 2.5x the fastify peer's req/s",
      figure: `${ratio.toFixed(2)}x`,
      met: ratio >= 2.5,
    });
  }
  const unmetered = results.find((r) => r.target === 'maas-unmetered');
  if (idOff && unmetered) {
    const costUs = idOff.cpuUsPerRequest - unmetered.cpuUsPerRequest;
    checks.push({
      target: 'usage metering (identity, batching off, on − off): ≤ 5 µs/request',
      figure: `${costUs.toFixed(1)} µs (${idOff.cpuUsPerRequest.toFixed(1)} vs ${unmetered.cpuUsPerRequest.toFixed(1)})`,
      met: costUs <= 5,
    });
  }
  if (mlpOn)
    checks.push({
      target: 'mlp, batching on: p99 ≤ 8 ms',
      figure: `${mlpOn.p99Ms.toFixed(2)} ms`,
      met: mlpOn.p99Ms <= 8,
    });
  return checks;
}

export function formatTargets(checks: Check[]): string {
  return checks.map((c) => `${c.met ? 'met   ' : 'MISSED'}  ${c.target}: ${c.figure}`).join('\n');
}

// The summary `npm run bench -- --json` prints as its last stdout line.
export function jsonSummary(report: BenchReport): string {
  const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  return JSON.stringify({
    rows: report.results.map((r) => ({
      scenario: r.scenario,
      model: r.model,
      batching: r.batching,
      connections: r.connections,
      rps: round(r.requestsPerS, 1),
      p50Ms: round(r.p50Ms, 3),
      p99Ms: round(r.p99Ms, 3),
      cpuUsPerRequest: round(r.cpuUsPerRequest, 2),
    })),
    machine: report.machine,
  });
}

export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ ...report, targets: checkTargets(report.results) }, null, 2)}\n`);
  return file;
}
