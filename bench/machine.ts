// What the benchmark ran on, so numbers are never quoted without their machine.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number; // what the process may use (nproc), not the host's socket count
  logicalCpus: number; // processors listed in /proc/cpuinfo (or os.cpus())
  memoryGiB: number;
  platform: string;
  node: string;
  loadAverage1m: number;
  cpuBusyBeforeRun?: number; // fraction of all CPUs busy in the second before the run
}

function cpuinfoModel(): { model?: string; processors: number } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
    const processors = (text.match(/^processor\s*:/gm) ?? []).length;
    return { model, processors };
  } catch {
    return { processors: 0 }; // not Linux
  }
}

export function describeMachine(): MachineInfo {
  const info = cpuinfoModel();
  const cpus = os.cpus();
  return {
    cpuModel: info.model ?? cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    logicalCpus: info.processors || cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

export function machineLine(m: MachineInfo): string {
  return (
    `${m.cpuModel}, ${m.cores} cores (nproc), ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, load average ${m.loadAverage1m}` +
    (m.cpuBusyBeforeRun === undefined ? '' : `, CPUs ${(m.cpuBusyBeforeRun * 100).toFixed(0)}% busy before the run`)
  );
}

interface CpuTimes {
  busy: number;
  total: number;
}

function readCpuTimes(): CpuTimes | undefined {
  try {
    // First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ..."
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + fields[4];
    return { busy: total - idle, total };
  } catch {
    return undefined; // not Linux
  }
}

// Fraction of all CPUs busy over `sampleMs`, measured now. Unlike the load
// average it does not remember the previous minute (e.g. our own last run).
export async function sampleCpuBusy(sampleMs = 1000): Promise<number | undefined> {
  const before = readCpuTimes();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = readCpuTimes();
  if (!before || !after || after.total === before.total) return undefined;
  return (after.busy - before.busy) / (after.total - before.total);
}

// Other work on the box (compilers, another benchmark) makes every number low
// and noisy; say so rather than print numbers that look authoritative.
export function busyWarning(cpuBusy: number | undefined): string | undefined {
  if (cpuBusy === undefined || cpuBusy <= 0.2) return undefined;
  return `WARNING: CPUs were ${(cpuBusy * 100).toFixed(0)}% busy before the run; results will be low and noisy`;
}
