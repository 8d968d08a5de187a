// A started test server: its addresses (info), its process, and what a test
// may do to it (kill, stop, restart on the same port with the same data,
// close). Start-up waits for a real client round trip (the probe), bounded by
// a timeout whose error carries the tail of the server's log.
// Owner of the process and the folder: the TestServer; close() releases both.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { findPackageRoot } from '../../../common/package-root';
import { ServerProcess, logTailOf, makeServerDir, removeServerDir, type SpawnSpec } from './process';

export type ServiceName = 'postgres' | 'redis' | 'kafka' | 's3';

export interface StartOptions {
  // Longest wait for the first successful probe (default per service).
  startTimeoutMs?: number;
  // Where the server's output goes (default: server.log in its folder, which
  // close() removes; the test runner keeps the shared servers' logs in .services/logs).
  logFile?: string;
}

export class ServiceStartError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
    readonly addressInUse: boolean,
  ) {
    super(`${message}\n---- last lines of the server log ----\n${logTail}\n----`);
    this.name = 'ServiceStartError';
  }
}

const ADDRESS_IN_USE = /address already in use|EADDRINUSE|bind: address|Address in use|could not bind/i;

export interface ServerSetup<Info> {
  name: ServiceName;
  dir: string;
  info: Info;
  spawn: () => SpawnSpec;
  probe: () => Promise<void>;
  startTimeoutMs: number;
  logFile?: string;
  stopSignal?: NodeJS.Signals;
  // Extra clean-up after the process is gone (files it leaves outside dir).
  afterClose?: () => void;
}

export class TestServer<Info> {
  readonly name: ServiceName;
  readonly info: Info;
  readonly dir: string;
  readonly logFile: string;
  private readonly process: ServerProcess;
  private closed = false;

  constructor(private readonly setup: ServerSetup<Info>) {
    this.name = setup.name;
    this.info = setup.info;
    this.dir = setup.dir;
    this.logFile = setup.logFile ?? `${setup.dir}/server.log`;
    this.process = new ServerProcess(setup.name, setup.dir, this.logFile, setup.spawn, setup.stopSignal);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  logTail(lines = 30): string {
    return this.process.logTail(lines);
  }

  // Starts the process and waits for the probe. Used once by the start*
  // functions; tests call restart().
  async start(): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: closed`);
    this.process.start();
    const deadline = Date.now() + this.setup.startTimeoutMs;
    let lastError: string;
    for (;;) {
      if (!this.process.running) {
        const tail = this.logTail();
        const reason = this.process.exitReason;
        const hint = reason.includes('ENOENT') ? `; ${INSTALL_HINT}` : '';
        throw new ServiceStartError(
          `${this.name}: ${reason} during start-up${hint} (log: ${this.logFile})`,
          tail,
          ADDRESS_IN_USE.test(tail),
        );
      }
      try {
        await this.setup.probe();
        return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        await this.process.kill();
        throw new ServiceStartError(
          `${this.name} not ready after ${this.setup.startTimeoutMs} ms; last probe error: ${lastError} (log: ${this.logFile})`,
          this.logTail(),
          false,
        );
      }
      await sleep(150);
    }
  }

  // Simulates a crash: SIGKILL to the server's process group. Port, data and
  // folder stay; restart() brings the same server back.
  async kill(): Promise<void> {
    await this.process.kill();
  }

  // A clean shutdown (the server's own stop signal), SIGKILL after graceMs.
  async stop(graceMs = 10_000): Promise<void> {
    await this.process.stop(graceMs);
  }

  // Starts the same server again (same port, same data folder) and waits
  // until it serves; stops it first if it still runs. Retries for a few
  // seconds while the old process's port is still held.
  async restart(): Promise<void> {
    if (this.process.running) await this.stop();
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await this.start();
        return;
      } catch (err) {
        if (!(err instanceof ServiceStartError && err.addressInUse) || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  }

  // Stops the server (quickly: its data is thrown away) and removes its folder.
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.process.stop(graceMs);
    this.setup.afterClose?.();
    removeServerDir(this.dir);
  }
}

// Runs setup for a fresh server on fresh ports; when the server could not
// bind a port that another process took in the meantime, tries again with
// new ports (ports are picked free, then released, then bound by the server).
export async function startFresh<Info>(
  name: ServiceName,
  create: (dir: string) => Promise<TestServer<Info>>,
  attempts = 3,
): Promise<TestServer<Info>> {
  for (let attempt = 1; ; attempt++) {
    const dir = makeServerDir(name);
    let server: TestServer<Info> | undefined;
    try {
      server = await create(dir);
      await server.start();
      return server;
    } catch (err) {
      if (server) await server.close(0);
      else removeServerDir(dir);
      if (!(err instanceof ServiceStartError && err.addressInUse) || attempt >= attempts) throw err;
    }
  }
}

// count distinct free TCP ports on 127.0.0.1, held open together while
// chosen so that no two are equal, then released for the server to bind.
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

// Runs a one-shot helper (initdb, Kafka's storage format) with its output in
// the server's log; rejects with the log's tail when it fails.
export async function runTool(name: string, spec: SpawnSpec, logFile: string, timeoutMs: number): Promise<void> {
  const log = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(spec.command, spec.args, {
      stdio: ['ignore', log, log],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
  } finally {
    closeSync(log);
  }
  const result = await new Promise<string | null>((resolve) => {
    child.once('error', (err) =>
      resolve(
        `could not run ${spec.command}: ${err.message}${err.message.includes('ENOENT') ? `; ${INSTALL_HINT}` : ''}`,
      ),
    );
    child.once('exit', (code, signal) =>
      resolve(
        code === 0 ? null : signal ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exited with code ${code}`,
      ),
    );
  });
  if (result !== null) {
    throw new ServiceStartError(`${name}: ${spec.command} ${result} (log: ${logFile})`, logTailOf(logFile), false);
  }
}

// Where .ci/services.sh puts what it downloads (.services/ in the checkout).
export function servicesHome(): string {
  const root = findPackageRoot(__dirname);
  if (!root) throw new Error('test support: no package.json above ' + __dirname);
  return `${root}/.services`;
}

export const INSTALL_HINT =
  'run `bash .ci/services.sh install` (npm test does it in its pretest step); see docs/testing.md';
