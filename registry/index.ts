// The registry, assembled: database (embedded or external) and migrations,
// store, artifact store, catalog adapter, authenticator, management API and
// the change listener. gateway/server.ts starts it for `maas serve`.
// docs/registry.md.
//
// Owner: the returned Registry owns the pool, the listener connection, the
// embedded PostgreSQL (if any), the artifact store and the Redis key cache (if
// any); close() ends them all.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from '../common/logger';
import { RegistryApi, DEFAULT_MAX_MODEL_BYTES } from './api';
import { FilesystemArtifactStore } from './artifacts/filesystem';
import type { ArtifactStore } from './artifacts/port';
import { S3ArtifactStore, type S3StoreOptions } from './artifacts/s3';
import { RegistryAuthenticator } from './auth';
import { RegistryCatalog } from './catalog';
import { createPool, migrate } from './database';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded';
import { JwtVerifier, type JwtOptions } from './jwt';
import { RedisKeyCache } from './keycache/redis';
import { TenantPriorities } from './tenant-priority';
import { makeKey } from './keys';
import { RegistryListener } from './notify';
import { RegistryStore } from './store';
import { engineValidator, type ModelValidator } from './validate';
import type { LifecycleSink } from '../events/port';

export { DEFAULT_MAX_MODEL_BYTES };

export interface RegistryOptions {
  dataDir: string; // default ./.maas: embedded PostgreSQL, artifacts, upload spool, admin.key
  databaseUrl?: string; // external PostgreSQL; else the embedded one
  s3?: S3StoreOptions; // else artifacts under <dataDir>/artifacts
  redisUrl?: string; // a key cache shared by the replicas; else in process only
  auth?: 'on' | 'none'; // default 'on'
  jwt?: JwtOptions;
  maxModelBytes?: number; // default 2 GiB
  validate?: ModelValidator; // default: the engine loads the model
  events?: LifecycleSink; // version ready/failed, alias moved (Kafka's maas.events.v1)
  logger: Logger;
}

export interface Registry {
  store: RegistryStore;
  catalog: RegistryCatalog;
  authenticator: RegistryAuthenticator;
  api: RegistryApi;
  artifacts: ArtifactStore;
  spoolDir: string; // <dataDir>/uploads: temporary files of uploads (and job chunks)
  tenantPriorities: TenantPriorities;
  databaseUrl: string;
  adminKeyFile: string | null; // written on the first start against an empty database
  close(): Promise<void>;
}

const BOOTSTRAP_LOCK_KEY = 0x6d616174;

export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  let embedded: EmbeddedDatabase | null = null;
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    if (!options.databaseUrl) {
      embedded = await startEmbeddedPostgres(dataDir, logger);
      cleanup.push(() => (embedded as EmbeddedDatabase).stop());
    }
    const databaseUrl = options.databaseUrl ?? (embedded as EmbeddedDatabase).url;
    await migrate(databaseUrl, logger.child({ component: 'migrations' }));
    const pool = createPool(databaseUrl, logger);
    cleanup.push(() => pool.end());
    const store = new RegistryStore(pool);
    const artifacts: ArtifactStore = options.s3
      ? new S3ArtifactStore(options.s3)
      : new FilesystemArtifactStore(path.join(dataDir, 'artifacts'));
    cleanup.push(() => artifacts.close());
    const spoolDir = path.join(dataDir, 'uploads');
    await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const catalog = new RegistryCatalog(store, artifacts, logger.child({ component: 'registry' }));
    await catalog.refreshIndex();
    const jwt = options.jwt ? new JwtVerifier(options.jwt) : null;
    let shared: RedisKeyCache | null = null;
    if (options.redisUrl) {
      const redis = new RedisKeyCache({
        url: options.redisUrl,
        logger: logger.child({ component: 'key-cache' }),
        onForgotten: (prefix) => authenticator.forgetLocalKey(prefix),
      });
      cleanup.push(() => redis.close());
      await redis.ready();
      shared = redis;
    }
    const authenticator: RegistryAuthenticator = new RegistryAuthenticator({
      store,
      catalog,
      jwt,
      shared,
      enabled: options.auth !== 'none',
      logger,
    });
    const listener = new RegistryListener(
      databaseUrl,
      (notice) => {
        if (notice.kind === 'key') authenticator.forgetKey(notice.prefix);
        else {
          if (notice.kind === 'resync') authenticator.forgetAllKeys();
          void catalog.onNotice(notice);
        }
      },
      logger.child({ component: 'registry-listener' }),
    );
    await listener.start();
    cleanup.push(() => listener.close());
    const tenantPriorities = new TenantPriorities(pool, logger.child({ component: 'tenant-priorities' }));
    await tenantPriorities.start();
    cleanup.push(() => Promise.resolve(tenantPriorities.close()));
    const api = new RegistryApi({
      tenantPriorities,
      store,
      catalog,
      artifacts,
      validate: options.validate ?? engineValidator,
      spoolDir,
      maxModelBytes: options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES,
      events: options.events,
      logger: logger.child({ component: 'registry-api' }),
    });
    const adminKeyFile = await bootstrapAdminKey(databaseUrl, store, dataDir, logger);
    return {
      store,
      catalog,
      authenticator,
      api,
      artifacts,
      spoolDir,
      tenantPriorities,
      databaseUrl,
      adminKeyFile,
      close: () => closeAll(cleanup),
    };
  } catch (err) {
    await closeAll(cleanup);
    throw err;
  }
}

async function closeAll(cleanup: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
}

// On the first start against an empty database: one admin key, written to
// <dataDir>/admin.key (0600). Replicas starting together make one (a lock).
async function bootstrapAdminKey(
  databaseUrl: string,
  store: RegistryStore,
  dataDir: string,
  logger: Logger,
): Promise<string | null> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [BOOTSTRAP_LOCK_KEY]);
    const file = path.join(dataDir, 'admin.key');
    if (await store.hasAdminKey()) {
      // Later starts say where the key is too (when this data dir holds it).
      const kept = await fs.stat(file).then(
        () => true,
        () => false,
      );
      if (kept) logger.info({ file }, `the admin API key is in ${file}`);
      return null;
    }
    const secret = makeKey();
    // The file first: a key nobody can read would lock everyone out.
    await fs.writeFile(file, `${secret.key}\n`, { mode: 0o600 });
    await fs.chmod(file, 0o600);
    await store.pool.query(
      `INSERT INTO api_keys (tenant_id, role, name, prefix, secret_sha256, created_by) VALUES (NULL, 'admin', 'bootstrap', $1, $2, 'bootstrap')`,
      [secret.prefix, secret.secretSha256],
    );
    await store.pool.query(
      "INSERT INTO audit_log (actor, action, target, source) VALUES ('bootstrap', 'key.create', $1, 'local')",
      [secret.prefix],
    );
    logger.info({ file }, `created the admin API key; it is in ${file} (mode 0600)`);
    return file;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [BOOTSTRAP_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
