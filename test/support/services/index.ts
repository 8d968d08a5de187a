// Real servers for tests (docs/testing.md).
//
// Shared servers: the test runner (test/run.ts) starts PostgreSQL, Redis,
// Kafka and S3 once per `npm test` and hands their addresses to every test
// file through the environment; a test file reads them with testServices().
// Tests share these servers, so each test makes its own names
// (uniqueName(), createDatabase()).
//
// Private servers: a test that kills or restarts a server starts its own with
// startPostgres() / startRedis() / startKafka() / startS3() and closes it at
// the end; the shared ones must stay up for the other files.
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { startKafka, type KafkaInfo } from './kafka';
import { startPostgres, type PostgresInfo } from './postgres';
import { startRedis, type RedisInfo } from './redis';
import { s3ClientConfig, startS3, type S3Info } from './s3';
import type { ServiceName, StartOptions, TestServer } from './server';

export { startKafka, startPostgres, startRedis, startS3, s3ClientConfig };
export type { KafkaInfo, PostgresInfo, RedisInfo, S3Info, ServiceName, StartOptions, TestServer };
export { ServiceStartError } from './server';
export { cleanStaleServers } from './process';

export const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 'redis', 'kafka', 's3'];

// What test files get: each getter throws (never skips) when the runner did
// not start that server.
export interface TestServices {
  // postgres://postgres:<password>@127.0.0.1:<port>/postgres
  readonly databaseUrl: string;
  // redis://127.0.0.1:<port>
  readonly redisUrl: string;
  // ['127.0.0.1:<port>']
  readonly kafkaBrokers: string[];
  readonly s3: S3Info;
}

export const ENV = {
  databaseUrl: 'MAAS_TEST_DATABASE_URL',
  redisUrl: 'MAAS_TEST_REDIS_URL',
  kafkaBrokers: 'MAAS_TEST_KAFKA_BROKERS',
  s3Endpoint: 'MAAS_TEST_S3_ENDPOINT',
  s3Region: 'MAAS_TEST_S3_REGION',
  s3Bucket: 'MAAS_TEST_S3_BUCKET',
  s3AccessKeyId: 'MAAS_TEST_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'MAAS_TEST_S3_SECRET_ACCESS_KEY',
} as const;

export interface StartedServices {
  postgres?: TestServer<PostgresInfo>;
  redis?: TestServer<RedisInfo>;
  kafka?: TestServer<KafkaInfo>;
  s3?: TestServer<S3Info>;
}

// The environment variables that carry the started servers' addresses.
export function servicesEnv(started: StartedServices): Record<string, string> {
  const env: Record<string, string> = {};
  if (started.postgres) env[ENV.databaseUrl] = started.postgres.info.url;
  if (started.redis) env[ENV.redisUrl] = started.redis.info.url;
  if (started.kafka) env[ENV.kafkaBrokers] = started.kafka.info.brokers.join(',');
  if (started.s3) {
    const s3 = started.s3.info;
    Object.assign(env, {
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.s3Region]: s3.region,
      [ENV.s3Bucket]: s3.bucket,
      [ENV.s3AccessKeyId]: s3.accessKeyId,
      [ENV.s3SecretAccessKey]: s3.secretAccessKey,
    });
  }
  return env;
}

export const HOW_TO_RUN =
  'Run tests through the runner, which starts the servers: `npm test` for all, or ' +
  '`npx tsc -p tsconfig.json && node dist/test/run.js dist/path/to/file.test.js` for one file ' +
  '(add `--services=redis,postgres` to start only some). See docs/testing.md.';

function required(name: string, service: ServiceName): string {
  const value = process.env[name];
  if (!value) throw new Error(`This test needs the shared ${service} server, but ${name} is not set. ${HOW_TO_RUN}`);
  return value;
}

export function testServices(): TestServices {
  return {
    get databaseUrl() {
      return required(ENV.databaseUrl, 'postgres');
    },
    get redisUrl() {
      return required(ENV.redisUrl, 'redis');
    },
    get kafkaBrokers() {
      return required(ENV.kafkaBrokers, 'kafka').split(',');
    },
    get s3(): S3Info {
      return {
        endpoint: required(ENV.s3Endpoint, 's3'),
        region: required(ENV.s3Region, 's3'),
        bucket: required(ENV.s3Bucket, 's3'),
        accessKeyId: required(ENV.s3AccessKeyId, 's3'),
        secretAccessKey: required(ENV.s3SecretAccessKey, 's3'),
        forcePathStyle: true,
      };
    },
  };
}

// A name no other test uses: lower-case letters, digits and '-' (valid as a
// Kafka topic, an S3 bucket, a Redis key prefix), at most 63 characters.
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40);
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

// Creates an empty database on the server of databaseUrl and returns its URL.
export async function createDatabase(databaseUrl: string, prefix = 'test'): Promise<string> {
  const name = uniqueName(prefix).replace(/-/g, '_');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const STARTERS: { [K in ServiceName]: (options: StartOptions) => Promise<NonNullable<StartedServices[K]>> } = {
  postgres: startPostgres,
  redis: startRedis,
  kafka: startKafka,
  s3: startS3,
};

export interface StartAllResult {
  started: StartedServices;
  // Start-up time of each server (ms), from the call to ready.
  startupMs: Partial<Record<ServiceName, number>>;
}

// Starts the named servers in parallel. If one fails, closes the others and
// throws one error naming every failure.
export async function startServices(
  names: readonly ServiceName[],
  logFile?: (name: ServiceName) => string,
): Promise<StartAllResult> {
  const started: StartedServices = {};
  const startupMs: StartAllResult['startupMs'] = {};
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const t0 = performance.now();
      const server = await STARTERS[name]({ logFile: logFile?.(name) });
      (started as Record<ServiceName, unknown>)[name] = server;
      startupMs[name] = Math.round(performance.now() - t0);
    }),
  );
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${names[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : [],
  );
  if (failures.length > 0) {
    await closeServices(started);
    throw new Error(`could not start the test servers:\n${failures.join('\n')}`);
  }
  return { started, startupMs };
}

export async function closeServices(started: StartedServices): Promise<void> {
  await Promise.all(Object.values(started).map((server: TestServer<unknown>) => server.close()));
}
