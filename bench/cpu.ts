// Server CPU time, the figure the benchmarks compare: user + system time of
// a whole process (every thread: JS, engine, libuv) from /proc/<pid>/stat,
// read before and after a measured window. On this 2-core machine the load
// generator competes with the server, so requests/s moves with whatever else
// runs; CPU microseconds per request do much less.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // Linux's USER_HZ nearly everywhere
    }
  }
  return ticksPerSecond;
}

// utime + stime of `pid` in microseconds; NaN where /proc is missing.
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]); // field 14 of the whole line
    const stime = Number(fields[12]); // field 15
    return ((utime + stime) / clockTicks()) * 1e6;
  } catch {
    return Number.NaN;
  }
}
