// The test runner behind `npm test` (docs/testing.md): starts the shared test
// servers (PostgreSQL, Redis, Kafka, S3) once, in parallel, runs Node's test
// runner on the compiled tests with their addresses in the environment,
// forwards its exit code, and always stops the servers (also on SIGINT/SIGTERM).
//   node dist/test/run.js [--build] [--services=postgres,redis,kafka,s3|none] [node --test options] [files...]
// --build compiles the project (tsc -p tsconfig.json) while the servers start;
// `npm test` runs this file from source through tsx with --build, so that the
// compile and the servers' start-up overlap.
// Without files: every dist/**/*.test.js whose .ts source still exists (a
// test deleted from the source tree is not run from a stale dist/).
// Owner of the servers and of the node --test child: this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findPackageRoot } from '../common/package-root';
import { guardProcess } from './support/services/process';
import {
  SERVICE_NAMES,
  cleanStaleServers,
  closeServices,
  servicesEnv,
  startServices,
  type ServiceName,
  type StartedServices,
} from './support/services';

interface RunArgs {
  build: boolean;
  services: ServiceName[];
  nodeOptions: string[];
  files: string[];
}

function parseArgs(argv: string[]): RunArgs {
  const args: RunArgs = { build: false, services: [...SERVICE_NAMES], nodeOptions: [], files: [] };
  for (const arg of argv) {
    if (arg === '--build') {
      args.build = true;
    } else if (arg.startsWith('--services=')) {
      const list = arg.slice('--services='.length);
      const names = list === 'none' || list === '' ? [] : list.split(',');
      for (const name of names) {
        if (!SERVICE_NAMES.includes(name as ServiceName))
          throw new Error(`unknown service '${name}' (known: ${SERVICE_NAMES.join(', ')}, or none)`);
      }
      args.services = names as ServiceName[];
    } else if (arg.startsWith('-')) {
      args.nodeOptions.push(arg);
    } else {
      args.files.push(arg);
    }
  }
  return args;
}

function compiledTests(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.test.js')) {
        const source = join(root, relative(join(root, 'dist'), path)).replace(/\.js$/, '.ts');
        if (existsSync(source)) found.push(relative(root, path));
      }
    }
  };
  walk(join(root, 'dist'));
  return found.sort();
}

// The children running now (tsc, node --test), for the signal handler.
const children = new Set<ChildProcess>();

// Runs a child with our stdio; resolves with its exit code. The child leads
// its own process group, guarded like the servers, so that it and its test
// processes die with us even if we die by SIGKILL; signals we get are
// forwarded to it (onSignal).
function runChild(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, argv, { cwd, env, stdio: 'inherit', detached: true });
    const release = child.pid ? guardProcess(child.pid) : () => undefined;
    children.add(child);
    child.once('error', (err) => {
      process.stderr.write(`test runner: could not start node ${argv[0]}: ${err.message}\n`);
      children.delete(child);
      release();
      resolve(1);
    });
    child.once('exit', (exitCode, signal) => {
      children.delete(child);
      release();
      resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 1));
    });
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<number> {
  const root = findPackageRoot(__dirname);
  if (!root) throw new Error('no package.json above ' + __dirname);
  const args = parseArgs(process.argv.slice(2));

  const logDir = join(root, '.services', 'logs');
  mkdirSync(logDir, { recursive: true });
  for (const name of SERVICE_NAMES) rmSync(join(logDir, `${name}.log`), { force: true });
  cleanStaleServers();

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130); // second signal: the exit hook SIGKILLs the servers
    stopping = true;
    process.stderr.write(`\ntest runner: ${signal}, stopping the tests and the servers\n`);
    for (const child of children) child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = performance.now();
  let compiled: Promise<number> = Promise.resolve(0);
  if (args.build) {
    compiled = runChild([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], root).then((code) => {
      if (code === 0) process.stderr.write(`test runner: compiled in ${seconds(performance.now() - t0)}\n`);
      return code;
    });
  }
  const servers = startServices(args.services, (name) => join(logDir, `${name}.log`));
  const [compileCode, serversResult] = await Promise.all([
    compiled,
    servers.then(
      (r) => r,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    ),
  ]);
  if (serversResult instanceof Error) {
    process.stderr.write(`test runner: ${serversResult.message}\n`);
    return 1;
  }
  const started: StartedServices = serversResult.started;
  if (args.services.length > 0) {
    const each = args.services.map((name) => `${name} ${seconds(serversResult.startupMs[name] ?? 0)}`).join(', ');
    process.stderr.write(
      `test runner: servers ${each} (all ready in ${seconds(performance.now() - t0)}); logs in ${relative(root, logDir)}/\n`,
    );
  }
  if (compileCode !== 0 || stopping) {
    await closeServices(started);
    return compileCode !== 0 ? compileCode : 130;
  }

  const files = args.files.length > 0 ? args.files : compiledTests(root);
  if (files.length === 0) {
    await closeServices(started);
    throw new Error('no compiled tests in dist/; run `npx tsc -p tsconfig.json` first');
  }
  const env = {
    ...process.env,
    ...servicesEnv(started),
    // The AWS SDK warns once per process that its 2027 releases need Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const code = await runChild(['--test', '--test-concurrency=1', ...args.nodeOptions, ...files], root, env);
  await closeServices(started);
  return stopping ? 130 : code;
}

// Under `node --test dist/` this file would be picked up as a test and start a
// second runner; it only runs when started directly.
if (require.main === module && !process.env.NODE_TEST_CONTEXT) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`test runner: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
