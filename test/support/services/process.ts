// One server process of the test support (docs/testing.md): spawned in its
// own process group with its output appended to a log file, stopped by PID,
// and never left behind. Three guards against orphans, because a test
// process may die in any way:
//   1. an 'exit' hook of the owning process SIGKILLs every group it still owns;
//   2. a watchdog (one small bash loop per owning process) SIGKILLs them and
//      removes their folders within a second of the owner's death, even a
//      SIGKILL that runs no hook;
//   3. cleanStaleServers() (run by every start) does the same for records
//      whose owner is gone, should a watchdog have died too.
// Each live server has a record file in STATE_DIR: "<ownerPid>.<pid>.svc"
// holding its PID (= process group) and its folder.
// Owner of the processes, records and folders: the ServerProcess that spawned them.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const STATE_DIR = join(tmpdir(), 'maas-test-services');
// Every server folder is made under this prefix; cleanup removes nothing else.
export const SERVER_DIR_PREFIX = join(tmpdir(), 'maas-svc-');

export interface SpawnSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  cwd?: string;
}

// Linux: a process's start time (clock ticks since boot), to tell a live
// process from a later one that reused its PID. null where /proc is missing.
function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

// A zombie (dead, not yet reaped) counts as gone.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

// Live (non-zombie) processes as [pid, parent pid, process group] (Linux /proc;
// empty elsewhere).
function processTable(): Array<[number, number, number]> {
  const table: Array<[number, number, number]> = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') table.push([Number(entry), Number(ppid), Number(pgrp)]);
    } catch {
      // gone while we looked
    }
  }
  return table;
}

// The live processes of a server: its process group and every descendant of
// its leader. PostgreSQL puts each backend in a process group of its own, so
// the group alone is not enough.
export function serverProcesses(pid: number): number[] {
  const table = processTable();
  const found = new Set<number>();
  let frontier = [pid];
  for (const [p, , pgrp] of table) if (pgrp === pid) found.add(p);
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [p, ppid] of table) {
      if (frontier.includes(ppid) && !found.has(p)) next.push(p);
    }
    for (const p of frontier) found.add(p);
    frontier = next;
  }
  return [...found].filter((p) => table.some(([q]) => q === p));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  const members = signal === 'SIGKILL' ? serverProcesses(pid) : [];
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
  for (const member of members) {
    try {
      process.kill(member, signal);
    } catch {
      // already gone
    }
  }
}

function removeServerDir(dir: string): void {
  if (resolve(dir).startsWith(SERVER_DIR_PREFIX)) rmSync(dir, { recursive: true, force: true });
}

function ownerTicks(): string {
  return startTicks(process.pid) ?? '0';
}

const live = new Set<ServerProcess>();
// Other guarded process groups (guardProcess): pid -> record file.
const guarded = new Map<number, string>();
let hooksInstalled = false;

function installOwnerHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  mkdirSync(STATE_DIR, { recursive: true });
  process.on('exit', () => {
    for (const server of live) server.killNowSync();
    for (const [pid, record] of guarded) {
      killGroup(pid, 'SIGKILL');
      rmSync(record, { force: true });
    }
  });
  // The watchdog: detached, so a signal to our terminal's process group does
  // not reach it before it has done its work; unref'd, so it never keeps us up.
  const script = [
    'owner=$1; state=$2; prefix=$3',
    // alive: kill -0 works and /proc does not call it a zombie
    'alive() { kill -0 "$1" 2>/dev/null || return 1; local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; s=${s##*) }; [ "${s%% *}" != Z ]; }',
    'while alive "$owner"; do sleep 1; done',
    'for f in "$state/$owner".*.svc; do',
    '  [ -f "$f" ] || continue',
    '  { read -r pid; read -r dir; } < "$f"',
    '  [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null',
    '  case "$dir" in "$prefix"*) rm -rf -- "$dir";; esac',
    '  rm -f -- "$f"',
    'done',
  ].join('\n');
  const watchdog = spawn(
    'bash',
    ['-c', script, 'maas-test-watchdog', String(process.pid), STATE_DIR, SERVER_DIR_PREFIX],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.on('error', () => undefined); // no bash: guards 1 and 3 remain
  watchdog.unref();
}

// Puts a child that leads its own process group (spawned detached) under the
// same guards as a server: killed with us, by the watchdog, or by the sweep.
// The test runner uses it for node --test. Returns the release to call once
// the child has exited.
export function guardProcess(pid: number): () => void {
  installOwnerHooks();
  const record = join(STATE_DIR, `${process.pid}.${pid}.svc`);
  writeFileSync(record, `${pid}\n\n${ownerTicks()}\n${startTicks(pid) ?? ''}\n`);
  guarded.set(pid, record);
  return () => {
    guarded.delete(pid);
    rmSync(record, { force: true });
  };
}

// Kills the servers of owners that are gone (a crashed test run) and removes
// their folders. Cheap; every start calls it.
export function cleanStaleServers(): void {
  let names: string[];
  try {
    names = readdirSync(STATE_DIR);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^(\d+)\.(\d+)\.svc$/.exec(name);
    if (!match) continue;
    const file = join(STATE_DIR, name);
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {
      continue;
    }
    const [pidText, dir, ownerStart, serverStart] = lines;
    const owner = Number(match[1]);
    const ownerGone =
      !alive(owner) || (ownerStart !== undefined && startTicks(owner) !== null && startTicks(owner) !== ownerStart);
    if (!ownerGone) continue;
    const pid = Number(pidText);
    if (pid > 0 && alive(pid) && (serverStart === undefined || startTicks(pid) === serverStart))
      killGroup(pid, 'SIGKILL');
    if (dir) removeServerDir(dir);
    rmSync(file, { force: true });
  }
}

// One spawned server. start() may be called again after the process ended
// (restart with the same arguments, so the same ports and data).
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private record: string | null = null;
  private exitNote = '';

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly logFile: string,
    private readonly spec: () => SpawnSpec,
    // The signal that asks this server for a quick clean shutdown (PostgreSQL: SIGINT).
    private readonly stopSignal: NodeJS.Signals = 'SIGTERM',
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  // Why the process ended, for error messages ('' while it runs).
  get exitReason(): string {
    return this.exitNote;
  }

  start(): void {
    if (this.child) throw new Error(`${this.name}: already running (pid ${this.child.pid})`);
    installOwnerHooks();
    cleanStaleServers();
    const spec = this.spec();
    const log = openSync(this.logFile, 'a');
    writeFileSync(log, `\n==== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        detached: true, // its own process group: we signal -pid, and a ^C to our group does not race our shutdown
        stdio: ['ignore', log, log],
        env: spec.env ?? process.env,
        cwd: spec.cwd ?? this.dir,
        uid: spec.uid,
        gid: spec.gid,
      });
    } finally {
      closeSync(log);
    }
    this.exitNote = '';
    this.exited = new Promise<void>((done) => {
      child.once('error', (err) => {
        this.exitNote = `could not start ${spec.command}: ${err.message}`;
        this.forget(child);
        done();
      });
      child.once('exit', (code, signal) => {
        this.exitNote = signal ? `killed by ${signal}` : `exited with code ${code}`;
        // The leader is gone; its children (PostgreSQL backends hold the
        // listening socket too) must not outlive it.
        if (child.pid) killGroup(child.pid, 'SIGKILL');
        this.forget(child);
        done();
      });
    });
    this.child = child;
    live.add(this);
    child.unref();
    if (child.pid) {
      this.record = join(STATE_DIR, `${process.pid}.${child.pid}.svc`);
      writeFileSync(this.record, `${child.pid}\n${this.dir}\n${ownerTicks()}\n${startTicks(child.pid) ?? ''}\n`);
    }
  }

  private forget(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = null;
    live.delete(this);
    if (this.record) {
      rmSync(this.record, { force: true });
      this.record = null;
    }
  }

  // A crash: SIGKILL to the whole group, resolved once the leader has exited.
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    killGroup(pid, 'SIGKILL');
    await this.waitExit(pid, 10_000);
  }

  // A clean stop: the server's stop signal, then SIGKILL to the group after graceMs.
  async stop(graceMs = 5000): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(pid, this.stopSignal);
    } catch {
      // already gone
    }
    await this.waitExit(pid, graceMs);
  }

  // The child is unref'd (a forgotten server must not keep a test process up),
  // so a timer holds the event loop open while we wait for its 'exit' event;
  // when it fires, the group gets SIGKILL.
  private async waitExit(pid: number, graceMs: number): Promise<void> {
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
      clearInterval(keepAlive);
    }
  }

  // The process ended (by itself or by kill/stop).
  whenExited(): Promise<void> {
    return this.exited;
  }

  // For the owner's 'exit' hook, where nothing asynchronous runs.
  killNowSync(): void {
    const pid = this.child?.pid;
    if (pid) killGroup(pid, 'SIGKILL');
    if (this.record && existsSync(this.record)) unlinkSync(this.record);
    removeServerDir(this.dir);
  }

  logTail(lines = 30): string {
    return logTailOf(this.logFile, lines);
  }
}

// The last lines of a log file, for error messages.
export function logTailOf(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// A fresh folder for one server, under SERVER_DIR_PREFIX (mode 0700).
export function makeServerDir(name: string): string {
  return mkdtempSync(`${SERVER_DIR_PREFIX}${name}-`);
}

export { removeServerDir };
