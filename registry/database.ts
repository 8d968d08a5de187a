// The registry's PostgreSQL: a pg Pool, the schema migrations (node-pg-migrate,
// SQL files in registry/migrations) and, in all-in-one mode, the embedded
// server (embedded.ts). docs/registry.md "Storage".
//
// Migrations run at start-up under a blocking advisory lock taken on one
// connection, so replicas that start together migrate once: the first runs
// them, the others wait and then find nothing left to run. (node-pg-migrate's
// own lock is a try-lock that fails instead of waiting; ours replaces it.)
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { runner } from 'node-pg-migrate';
import { findPackageRoot } from '../common/package-root';
import type { Logger } from '../common/logger';

export const MIGRATIONS_TABLE = 'maas_migrations';
// Any constant; the same on every replica. ("maas" in ASCII, twice.)
const MIGRATION_LOCK_KEY = 0x6d616173;

export function migrationsDir(): string {
  const root = findPackageRoot(__dirname);
  if (!root) throw new Error(`no package.json above ${__dirname}`);
  return join(root, 'registry', 'migrations');
}

// Applies every migration not yet applied; returns the names it ran.
export async function migrate(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const ran = await runner({
        dbClient: client,
        dir: migrationsDir(),
        migrationsTable: MIGRATIONS_TABLE,
        direction: 'up',
        count: Infinity,
        noLock: true,
        singleTransaction: true,
        checkOrder: true,
        log: (message: string) => logger?.debug({ component: 'migrations' }, message),
      });
      const names = ran.map((m) => m.name);
      if (names.length > 0) logger?.info({ migrations: names }, 'applied database migrations');
      return names;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

export function createPool(databaseUrl: string, logger?: Logger): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max: 10, idleTimeoutMillis: 30_000 });
  // An idle client's connection dropping (a server restart) must not crash us.
  pool.on('error', (err) => logger?.warn({ err }, 'idle database connection failed'));
  return pool;
}
