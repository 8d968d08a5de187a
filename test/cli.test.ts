// The `maas` command as a user runs it: a child process, real HTTP, signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CLI = path.join(__dirname, '..', 'bin', 'maas.js');

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'maas-cli-'));
}

test('maas models demo DIR writes the demo repository', async () => {
  const dir = await tempDir();
  const run = spawnSync(process.execPath, [CLI, 'models', 'demo', path.join(dir, 'repo')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /wrote demo models \(mlp, identity, counter, bert-mini, cnn-small\)/);
  for (const model of ['mlp', 'identity', 'counter', 'bert-mini', 'cnn-small']) {
    const config = JSON.parse(await fs.readFile(path.join(dir, 'repo', model, 'config.json'), 'utf8'));
    assert.equal(config.name, model);
    assert.ok((await fs.stat(path.join(dir, 'repo', model, '1', 'model.onnx'))).size > 0);
  }
  await fs.rm(dir, { recursive: true, force: true });
});

test('bad arguments exit 2 with usage', () => {
  for (const args of [['serve', '--http-port', 'abc'], ['serve', '--nope'], ['frobnicate'], ['models', 'demo']]) {
    const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /usage:/);
  }
});

test('maas serve with no repository writes the demo models, logs its address, serves, and exits on SIGTERM', async () => {
  const cwd = await tempDir();
  // As root, the embedded PostgreSQL runs as `postgres`, which must reach the data dir.
  await fs.chmod(cwd, 0o755);
  const child = spawn(process.execPath, [CLI, 'serve', '--http-port', '0', '--grpc-port', '0', '--host', '127.0.0.1'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 30 s; output: ${stdout}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const m = stdout.match(/maas listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited early with ${code}: ${stdout}`));
      });
    });
    // Every log line is JSON (pino).
    for (const line of stdout.trim().split('\n')) JSON.parse(line);
    // The first start made the admin key, readable by its owner only.
    const keyFile = path.join(cwd, '.maas', 'admin.key');
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);
    assert.match(stdout, /created the admin API key/);
    const adminKey = (await fs.readFile(keyFile, 'utf8')).trim();
    const auth = { authorization: `Bearer ${adminKey}` };
    assert.equal((await fetch(`${address}/v2/models/mlp`)).status, 401);
    const meta = (await (await fetch(`${address}/v2/models/mlp`, { headers: auth })).json()) as {
      inputs: Array<{ shape: number[] }>;
    };
    assert.deepEqual(meta.inputs[0].shape, [-1, 784]);
    const infer = await fetch(`${address}/v2/models/identity/infer`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) }],
      }),
    });
    assert.equal(infer.status, 200);
    // (After the POST above: the walk-through blocks this process in spawnSync,
    // long enough for the server to close an idle pooled connection, which
    // fetch does not retry for a POST.)
    await cliClientWalkthrough(address, adminKey, cwd);
    assert.ok((await fs.stat(path.join(cwd, '.maas', 'models', 'mlp', '1', 'model.onnx'))).isFile());
    // A keep-alive connection that sends a request right after SIGTERM gets
    // an answer (503, Connection: close), not a reset.
    const port = Number(new URL(address).port);
    const keptAlive = net.connect(port, '127.0.0.1');
    let received = '';
    keptAlive.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const keptClosed = new Promise<string>((resolve) => {
      keptAlive.on('close', () => resolve('closed'));
      keptAlive.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    await new Promise<void>((resolve) => keptAlive.on('connect', () => resolve()));
    keptAlive.write('GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n');
    while (!received.includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 5));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 20));
    keptAlive.write('GET /v2 HTTP/1.1\r\nHost: test\r\n\r\n');
    assert.equal(await keptClosed, 'closed');
    const late = received.split('HTTP/1.1 ').slice(1)[1] ?? '';
    assert.match(late, /^503 /, received);
    assert.match(late, /Connection: close/i);
    assert.match(late, /"code":"SHUTTING_DOWN"/);
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await fs.rm(cwd, { recursive: true, force: true });
  }
});

// The README's walk-through with the CLI: a tenant, an owner key, an upload,
// an inference with that key.
async function cliClientWalkthrough(address: string, adminKey: string, cwd: string): Promise<void> {
  const run = (args: string[], key: string) => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--url', address, '--key', key], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  assert.equal(run(['tenants', 'create', 'cli'], adminKey).name, 'cli');
  const owner = run(['keys', 'create', 'cli', '--role', 'owner', '--name', 'me'], adminKey).key as string;
  const file = path.join(cwd, '.maas', 'models', 'identity', '1', 'model.onnx');
  const uploaded = run(['models', 'upload', file, '--name', 'ident'], owner);
  assert.deepEqual([uploaded.version, uploaded.status], [1, 'ready']);
  const body = JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(2) }],
  });
  for (let i = 0; ; i++) {
    const r = await fetch(`${address}/v2/models/ident/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner}` },
      body,
    });
    if (r.status === 200) break;
    assert.ok(i < 100, `not served: ${r.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const denied = spawnSync(process.execPath, [CLI, 'tenants', 'list', '--url', address, '--key', owner], {
    encoding: 'utf8',
  });
  assert.equal(denied.status, 1);
  assert.match(denied.stderr, /403 FORBIDDEN/);
  const badKey = spawnSync(process.execPath, [CLI, 'models', 'list', '--url', address, '--key', 'nope'], {
    encoding: 'utf8',
  });
  assert.match(badKey.stderr, /401 UNAUTHENTICATED.*admin\.key/);
}

test('client commands say clearly when the server cannot be reached', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(p));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const r = spawnSync(process.execPath, [CLI, 'tenants', 'list', '--url', url, '--key', 'k'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^maas: cannot reach ${url.replace(/\./g, '\\.')}: ECONNREFUSED`));
});

test('maas serve --auth none refuses to listen beyond loopback', () => {
  const run = spawnSync(process.execPath, [CLI, 'serve', '--auth', 'none', '--host', '0.0.0.0', '--http-port', '0'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /--auth none .* only on loopback/);
});

test('maas serve with a missing repository exits 1 with a one-line reason', () => {
  const run = spawnSync(
    process.execPath,
    [
      CLI,
      'serve',
      '--model-repository',
      '/nonexistent/maas-repo',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /^maas: model repository '\/nonexistent\/maas-repo' is not a directory\n$/);
});
