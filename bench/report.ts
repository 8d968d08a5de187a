// Turns measured scenarios into the printed table and the JSON results file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult } from './load';
import type { MachineInfo } from './machine';
import type { Target } from './scenarios';

export interface ScenarioResult extends LoadResult {
  scenario: string;
  target: Target;
  what: string;
  ratioToBaseline: number; // requests/s over the uWS hello baseline's
}

export interface BenchReport {
  startedAt: string;
  machine: MachineInfo;
  settings: { durationS: number; warmupS: number; connections: number };
  results: ScenarioResult[];
}

const COLUMNS = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'non-2xx', 'errors'];

function row(r: ScenarioResult): string[] {
  return [
    r.scenario,
    Math.round(r.requestsPerS).toString(),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    `${(r.ratioToBaseline * 100).toFixed(1)}%`,
    r.non2xx.toString(),
    r.errors.toString(),
  ];
}

// A Markdown table, so the output pastes straight into bench/README.md.
export function formatTable(results: ScenarioResult[]): string {
  const rows = [COLUMNS, ...results.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  // Cells are padded by one space each side; ':' at the right end right-aligns a column.
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
