// The machine's peak FP32 FLOP/s, estimated as
//   cores x clock x FP32 lanes per vector x 2 (an FMA is two FLOPs) x 2 FMA units
// from /proc/cpuinfo and the vector ISA the engine uses: cores are physical
// cores (unique physical id / core id pairs, at most what the process may
// use), the clock is cpufreq's maximum when the kernel exposes it, else the
// highest "cpu MHz" listed (under a hypervisor: the nominal clock, so boost
// makes the real peak higher), lanes are 16 with AVX-512, 8 with AVX2+FMA,
// else 4 (MAAS_CPU_ISA caps the ISA as it does for the engine).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface PeakEstimate {
  gflops: number;
  formula: string; // how the number was made, for the report
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function physicalCores(cpuinfo: string): number {
  const pairs = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (physical !== undefined && core !== undefined) pairs.add(`${physical}/${core}`);
  }
  const usable = os.availableParallelism();
  return pairs.size > 0 ? Math.min(pairs.size, usable) : usable;
}

function clockGHz(cpuinfo: string): { ghz: number; source: string } {
  const maxKHz = Number(read('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'));
  if (maxKHz > 0) return { ghz: maxKHz / 1e6, source: 'cpufreq max' };
  const mhz = [...cpuinfo.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  if (mhz.length > 0) return { ghz: Math.max(...mhz) / 1000, source: '/proc/cpuinfo cpu MHz' };
  return { ghz: (os.cpus()[0]?.speed ?? 0) / 1000, source: 'os.cpus()' };
}

function floatLanes(cpuinfo: string): { lanes: number; isa: string } {
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  const cap = process.env.MAAS_CPU_ISA;
  if (flags.has('avx512f') && flags.has('avx2') && flags.has('fma') && (cap === undefined || cap === 'avx512'))
    return { lanes: 16, isa: 'AVX-512' };
  if (flags.has('avx2') && flags.has('fma') && cap !== 'portable') return { lanes: 8, isa: 'AVX2+FMA' };
  return { lanes: 4, isa: '128-bit' };
}

export function estimatePeakGflops(): PeakEstimate {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const cores = physicalCores(cpuinfo);
  const { ghz, source } = clockGHz(cpuinfo);
  const { lanes, isa } = floatLanes(cpuinfo);
  const gflops = cores * ghz * lanes * 2 * 2;
  return {
    gflops,
    formula: `${cores} cores x ${ghz.toFixed(3)} GHz (${source}) x ${lanes} lanes (${isa}) x 2 (FMA) x 2 FMA units`,
  };
}
