#!/usr/bin/env node
// The `maas` command line.
//   maas serve [--model-repository DIR] [--http-port 8000] [--host 0.0.0.0] ...
//              [--model-control-mode none|explicit|poll] [--load-model NAME]... [--repository-poll-secs N]
//   maas models demo DIR
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from '../common/logger';
import { writeDemoRepository } from '../models/demo';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_REPOSITORY_POLL_SECS,
  startServer,
} from '../gateway/server';
import type { ControlMode } from '../gateway/serving/types';

const USAGE = `usage:
  maas serve [--model-repository DIR] [--http-port PORT] [--host ADDR]
             [--log-level LEVEL] [--max-body-bytes N] [--max-buffered-bytes N] [--threads N]
             [--model-control-mode none|explicit|poll] [--load-model NAME]... [--repository-poll-secs N]
             [--access-log-sample N]
  maas models demo DIR

Environment (flags win): MAAS_MODEL_REPOSITORY, MAAS_HTTP_PORT, MAAS_HOST, MAAS_LOG_LEVEL
Defaults: repository ./.maas/models (demo models are written there when it is
empty), port 8000, host 0.0.0.0, log level info, body limit 64 MiB, request
bodies held at once 1 GiB, model control mode none (every model loads at
start), one successful request in 100 logged.`;

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
    host: { type: 'string' },
    'log-level': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-buffered-bytes': { type: 'string' },
    threads: { type: 'string' },
    'model-control-mode': { type: 'string' },
    'load-model': { type: 'string', multiple: true },
    'repository-poll-secs': { type: 'string' },
    'access-log-sample': { type: 'string' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options }));
  } catch (err) {
    fail((err as Error).message);
  }
  const env = process.env;
  const explicitRepo = values['model-repository'] ?? env.MAAS_MODEL_REPOSITORY;
  const repo = path.resolve(explicitRepo ?? path.join('.maas', 'models'));
  const logLevel = (values['log-level'] ?? env.MAAS_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const control = controlOptions(values['model-control-mode'], values['load-model'], values['repository-poll-secs']);
  const logger = createLogger(logLevel);
  if (!explicitRepo && (await isEmptyDir(repo))) {
    await writeDemoRepository(repo);
    logger.info({ repository: repo }, 'wrote the demo model repository');
  }
  const server = await startServer({
    modelRepository: repo,
    httpPort: intOption('http-port', values['http-port'] ?? env.MAAS_HTTP_PORT, 8000, 0, 65535),
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
  });
  logger.info(
    {
      address: `http://${server.host}:${server.httpPort}`,
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
  if (sub !== 'demo' || !dir || rest.length > 0) fail('expected: maas models demo DIR');
  await writeDemoRepository(path.resolve(dir));
  process.stdout.write(`wrote demo models (mlp, identity) to ${path.resolve(dir)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'models':
      return models(rest);
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
