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
  for (const model of ['mlp', 'identity']) {
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
  const child = spawn(process.execPath, [CLI, 'serve', '--http-port', '0', '--host', '127.0.0.1'], {
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
    const meta = (await (await fetch(`${address}/v2/models/mlp`)).json()) as { inputs: Array<{ shape: number[] }> };
    assert.deepEqual(meta.inputs[0].shape, [-1, 784]);
    const infer = await fetch(`${address}/v2/models/identity/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) }],
      }),
    });
    assert.equal(infer.status, 200);
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

test('maas serve with a missing repository exits 1 with a one-line reason', () => {
  const run = spawnSync(
    process.execPath,
    [CLI, 'serve', '--model-repository', '/nonexistent/maas-repo', '--http-port', '0', '--host', '127.0.0.1'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /^maas: model repository '\/nonexistent\/maas-repo' is not a directory\n$/);
});
