#!/usr/bin/env node
// The `maas` command line.
//   maas serve [--model-repository DIR] [--http-port 8000] [--host 0.0.0.0] ...
//              [--model-control-mode none|explicit|poll] [--load-model NAME]... [--repository-poll-secs N]
//   maas models demo DIR
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from '../common/logger';
import { DEMO_MODELS, writeDemoRepository } from '../models/demo';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_REPOSITORY_POLL_SECS,
  startServer,
} from '../gateway/server';
import { DEFAULT_GRPC_PORT } from '../gateway/grpc/server';
import { DEFAULT_WS_MAX_IN_FLIGHT } from '../gateway/ws/front-end';
import type { ControlMode } from '../gateway/serving/types';
import { DEFAULT_MAX_MODEL_BYTES } from '../registry';
import { CLIENT_USAGE, runClient } from './client';
import { DEFAULT_KAFKA_PARTITIONS, parseBrokers } from '../events/kafka';
import { DEFAULT_USAGE_RETENTION_DAYS } from '../usage';

const USAGE = `usage:
  maas serve [--model-repository DIR] [--http-port PORT] [--grpc-port PORT] [--host ADDR]
             [--log-level LEVEL] [--max-body-bytes N] [--max-buffered-bytes N] [--threads N]
             [--model-control-mode none|explicit|poll] [--load-model NAME]... [--repository-poll-secs N]
             [--access-log-sample N] [--ws-max-in-flight N]
             [--data-dir DIR] [--database-url URL] [--redis-url URL] [--limits-fail-closed] [--auth on|none] [--max-model-bytes N]
             [--jwt-secret S | --jwt-jwks-url URL | --oidc-issuer URL] [--jwt-issuer I] [--jwt-audience A]
             [--jwt-tenant-claim C] [--jwt-role-claim C]
             [--s3-bucket B] [--s3-endpoint URL] [--s3-region R] [--s3-prefix P]
             [--usage on|off] [--usage-retention-days N] [--kafka-brokers HOST:PORT,...] [--kafka-partitions N]
             [--job-lease-secs N]
  maas models demo DIR
${CLIENT_USAGE}

Environment (flags win): MAAS_MODEL_REPOSITORY, MAAS_HTTP_PORT, MAAS_GRPC_PORT, MAAS_HOST, MAAS_LOG_LEVEL,
MAAS_DATA_DIR, DATABASE_URL, REDIS_URL, MAAS_AUTH, MAAS_JWT_SECRET, MAAS_JWT_JWKS_URL, MAAS_OIDC_ISSUER,
MAAS_JWT_ISSUER, MAAS_JWT_AUDIENCE, MAAS_S3_BUCKET, MAAS_S3_ENDPOINT, MAAS_S3_REGION, MAAS_S3_PREFIX,
MAAS_S3_ACCESS_KEY_ID, MAAS_S3_SECRET_ACCESS_KEY, KAFKA_BROKERS, MAAS_JOB_LEASE_SECS; clients: MAAS_URL, MAAS_KEY
Defaults: data dir ./.maas (embedded PostgreSQL, uploaded models, admin.key),
repository <data-dir>/models (demo models are written there when it is
empty), uploads up to 2 GiB, HTTP and WebSocket port 8000, gRPC port 8001 (-1: no gRPC; 0: any free port),
host 0.0.0.0, log level info, body limit 64 MiB, request
bodies held at once 1 GiB, model control mode none (every model loads at
start), one successful request in 100 logged, usage metered (raw records kept 90 days; docs/usage.md),
no Kafka (with --kafka-brokers: usage and lifecycle events on Kafka, topics made with 3 partitions).`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const CONTROL_MODES: readonly ControlMode[] = ['none', 'explicit', 'poll'];

function fail(message: string): never {
  process.stderr.write(`maas: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be an integer in [${min}, ${max}], got '${value}'`);
  return n;
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

async function serve(argv: string[]): Promise<void> {
  const options = {
    'model-repository': { type: 'string' },
    'http-port': { type: 'string' },
    'grpc-port': { type: 'string' },
    host: { type: 'string' },
    'log-level': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-buffered-bytes': { type: 'string' },
    threads: { type: 'string' },
    'model-control-mode': { type: 'string' },
    'load-model': { type: 'string', multiple: true },
    'repository-poll-secs': { type: 'string' },
    'access-log-sample': { type: 'string' },
    'ws-max-in-flight': { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'limits-fail-closed': { type: 'boolean' },
    auth: { type: 'string' },
    'max-model-bytes': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'jwt-jwks-url': { type: 'string' },
    'oidc-issuer': { type: 'string' },
    'jwt-issuer': { type: 'string' },
    'jwt-audience': { type: 'string' },
    'jwt-tenant-claim': { type: 'string' },
    'jwt-role-claim': { type: 'string' },
    's3-endpoint': { type: 'string' },
    's3-region': { type: 'string' },
    's3-bucket': { type: 'string' },
    's3-prefix': { type: 'string' },
    usage: { type: 'string' },
    'usage-retention-days': { type: 'string' },
    'kafka-brokers': { type: 'string' },
    'kafka-partitions': { type: 'string' },
    'job-lease-secs': { type: 'string' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options }));
  } catch (err) {
    fail((err as Error).message);
  }
  const env = process.env;
  const explicitRepo = values['model-repository'] ?? env.MAAS_MODEL_REPOSITORY;
  const dataDir = path.resolve(values['data-dir'] ?? env.MAAS_DATA_DIR ?? '.maas');
  const repo = path.resolve(explicitRepo ?? path.join(dataDir, 'models'));
  const logLevel = (values['log-level'] ?? env.MAAS_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const control = controlOptions(values['model-control-mode'], values['load-model'], values['repository-poll-secs']);
  const logger = createLogger(logLevel);
  if (!explicitRepo && (await isEmptyDir(repo))) {
    await writeDemoRepository(repo);
    logger.info({ repository: repo }, 'wrote the demo model repository');
  }
  const grpcPort = intOption('grpc-port', values['grpc-port'] ?? env.MAAS_GRPC_PORT, DEFAULT_GRPC_PORT, -1, 65535);
  const server = await startServer({
    modelRepository: repo,
    httpPort: intOption('http-port', values['http-port'] ?? env.MAAS_HTTP_PORT, 8000, 0, 65535),
    grpcPort: grpcPort === -1 ? undefined : grpcPort,
    host: values.host ?? env.MAAS_HOST ?? '0.0.0.0',
    logger,
    maxBodyBytes: intOption('max-body-bytes', values['max-body-bytes'], DEFAULT_MAX_BODY_BYTES, 1024, 2 ** 31 - 1),
    maxBufferedBodyBytes: intOption(
      'max-buffered-bytes',
      values['max-buffered-bytes'],
      DEFAULT_MAX_BUFFERED_BYTES,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
    intraOpThreads: values.threads === undefined ? undefined : intOption('threads', values.threads, 1, 1, 1024),
    ...control,
    accessLogSampleEvery: intOption('access-log-sample', values['access-log-sample'], 100, 0, 1_000_000_000),
    wsMaxInFlight: intOption('ws-max-in-flight', values['ws-max-in-flight'], DEFAULT_WS_MAX_IN_FLIGHT, 1, 1_000_000),
    registry: registryOptions(values, dataDir),
    jobs: jobsOptions(values['job-lease-secs'] ?? env.MAAS_JOB_LEASE_SECS),
    limitsFailClosed: values['limits-fail-closed'] === true,
    ...meteringOptions(values),
  });
  logger.info(
    {
      address: `http://${server.host}:${server.httpPort}`,
      grpcAddress: server.grpcPort === null ? null : `${server.host}:${server.grpcPort}`,
      repository: repo,
      controlMode: control.controlMode,
      models: await server.models.index(false),
    },
    `maas listening on http://${server.host}:${server.httpPort}`,
  );
  let signals = 0;
  const onSignal = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

// Asynchronous jobs (docs/jobs.md): the lease after which a silent worker's
// job is taken over (the sweep for such jobs runs every fifth of it, at most
// every 5 s). Their Kafka brokers are --kafka-brokers (meteringOptions).
function jobsOptions(leaseSecs: string | undefined) {
  const leaseMs = intOption('job-lease-secs', leaseSecs, 30, 1, 3600) * 1000;
  return { leaseMs, sweepIntervalMs: Math.min(5000, Math.ceil(leaseMs / 5)) };
}

// The registry's flags (docs/registry.md "Configuration"); secrets may come
// from the environment instead of the command line.
function registryOptions(values: Record<string, string | string[] | boolean | undefined>, dataDir: string) {
  const env = process.env;
  const str = (name: string, envName?: string): string | undefined =>
    (values[name] as string | undefined) ?? (envName ? env[envName] : undefined);
  const authFlag = str('auth', 'MAAS_AUTH') ?? 'on';
  if (authFlag !== 'on' && authFlag !== 'none') fail("--auth must be 'on' or 'none'");
  const auth: 'on' | 'none' = authFlag;
  const jwtSecret = str('jwt-secret', 'MAAS_JWT_SECRET');
  const jwksUrl = str('jwt-jwks-url', 'MAAS_JWT_JWKS_URL');
  const oidcIssuer = str('oidc-issuer', 'MAAS_OIDC_ISSUER');
  const jwt =
    jwtSecret || jwksUrl || oidcIssuer
      ? {
          secret: jwtSecret,
          jwksUrl,
          oidcIssuer,
          issuer: str('jwt-issuer', 'MAAS_JWT_ISSUER'),
          audience: str('jwt-audience', 'MAAS_JWT_AUDIENCE'),
          tenantClaim: str('jwt-tenant-claim'),
          roleClaim: str('jwt-role-claim'),
        }
      : undefined;
  const bucket = str('s3-bucket', 'MAAS_S3_BUCKET');
  const s3 = bucket
    ? {
        bucket,
        endpoint: str('s3-endpoint', 'MAAS_S3_ENDPOINT'),
        region: str('s3-region', 'MAAS_S3_REGION') ?? 'us-east-1',
        prefix: str('s3-prefix', 'MAAS_S3_PREFIX'),
        forcePathStyle: true,
        accessKeyId: env.MAAS_S3_ACCESS_KEY_ID,
        secretAccessKey: env.MAAS_S3_SECRET_ACCESS_KEY,
      }
    : undefined;
  return {
    dataDir,
    databaseUrl: str('database-url', 'DATABASE_URL'),
    redisUrl: str('redis-url', 'REDIS_URL'),
    auth,
    jwt,
    s3,
    maxModelBytes: intOption(
      'max-model-bytes',
      str('max-model-bytes'),
      DEFAULT_MAX_MODEL_BYTES,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

// Usage metering and Kafka (docs/usage.md "Configuration").
function meteringOptions(values: Record<string, string | string[] | boolean | undefined>) {
  const usageFlag = (values.usage as string | undefined) ?? 'on';
  if (usageFlag !== 'on' && usageFlag !== 'off') fail("--usage must be 'on' or 'off'");
  const brokers = (values['kafka-brokers'] as string | undefined) ?? process.env.KAFKA_BROKERS;
  let kafka;
  if (brokers) {
    try {
      kafka = {
        brokers: parseBrokers(brokers),
        partitions: intOption(
          'kafka-partitions',
          values['kafka-partitions'] as string | undefined,
          DEFAULT_KAFKA_PARTITIONS,
          1,
          10_000,
        ),
      };
    } catch (err) {
      fail(`--kafka-brokers: ${(err as Error).message}`);
    }
  } else if (values['kafka-partitions'] !== undefined) fail('--kafka-partitions needs --kafka-brokers');
  const retentionDays = intOption(
    'usage-retention-days',
    values['usage-retention-days'] as string | undefined,
    DEFAULT_USAGE_RETENTION_DAYS,
    1,
    36_500,
  );
  return { usage: { enabled: usageFlag === 'on', retentionDays }, kafka };
}

// Triton's model control flags: --load-model only with explicit, the poll
// interval only with poll.
function controlOptions(mode: string | undefined, loadModels: string[] | undefined, pollSecs: string | undefined) {
  const controlMode = (mode ?? 'none') as ControlMode;
  if (!CONTROL_MODES.includes(controlMode)) fail(`--model-control-mode must be one of ${CONTROL_MODES.join(', ')}`);
  if (loadModels && controlMode !== 'explicit') fail('--load-model needs --model-control-mode explicit');
  if (pollSecs !== undefined && controlMode !== 'poll') fail('--repository-poll-secs needs --model-control-mode poll');
  return {
    controlMode,
    loadModels: loadModels ?? [],
    repositoryPollSecs: intOption('repository-poll-secs', pollSecs, DEFAULT_REPOSITORY_POLL_SECS, 1, 86_400),
  };
}

async function models(argv: string[]): Promise<void> {
  const [sub, dir, ...rest] = argv;
  if (sub !== 'demo') return runClient(['models', ...argv], fail);
  if (!dir || rest.length > 0) fail('expected: maas models demo DIR');
  await writeDemoRepository(path.resolve(dir));
  process.stdout.write(`wrote demo models (${Object.keys(DEMO_MODELS).join(', ')}) to ${path.resolve(dir)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'models':
      return models(rest);
    case 'tenants':
    case 'keys':
      return runClient(argv, fail);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  // Start-up failures are the user's to fix (bad repository, port in use):
  // the message says what; the stack only with --log-level debug.
  const verbose = process.argv.includes('debug') || process.argv.includes('trace');
  process.stderr.write(`maas: ${err instanceof Error ? (verbose ? err.stack : err.message) : String(err)}\n`);
  process.exit(1);
});
