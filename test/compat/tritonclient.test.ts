// Wire compatibility with a client we did not write: NVIDIA's `tritonclient.http`
// (Python) runs test/compat/tritonclient_http.py against the real server.
// The Python packages live in a project-local folder (.ci/install-compat.sh);
// a missing client is a test failure, not a skip, so CI cannot silently lose it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeDemoRepository } from '../../models/demo';
import { startServer } from '../../gateway/server';

// The nearest folder above this file with a package.json: the repository root,
// whether this runs compiled (dist/test/compat/) or from sources.
function packageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

const REPO_ROOT = packageRoot(__dirname);
const SCRIPT = join(REPO_ROOT, 'test', 'compat', 'tritonclient_http.py');
const PYTHON = process.env.PYTHON ?? 'python3';
const PYTHONPATH = process.env.MAAS_COMPAT_PYTHONPATH ?? join(REPO_ROOT, '.pyenv-compat', 'site');
const INSTALL_HINT =
  `the Python Triton client is not installed for the compatibility test; run .ci/install-compat.sh ` +
  `(installs tritonclient[http] and numpy into ${PYTHONPATH})`;
const SCRIPT_TIMEOUT_MS = 120_000;

interface PythonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

// Asynchronous on purpose: the server under test shares this event loop,
// so a spawnSync would deadlock it.
function runPython(args: string[], timeoutMs: number): Promise<PythonRun> {
  return new Promise((resolvePromise) => {
    const child = spawn(PYTHON, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, PYTHONPATH, PYTHONNOUSERSITE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (err) =>
      resolvePromise({ code: null, signal: null, output: `${output}\nspawn failed: ${err.message}` }),
    );
    child.on('close', (code, signal) => resolvePromise({ code, signal, output }));
  });
}

test(
  'tritonclient.http (Python) works unmodified against the gateway',
  { timeout: SCRIPT_TIMEOUT_MS + 60_000 },
  async (t) => {
    const probe = await runPython(['-c', 'import tritonclient.http, numpy'], 30_000);
    assert.equal(probe.code, 0, `${INSTALL_HINT}\n${probe.output.trim()}`);

    const repoDir = await mkdtemp(join(tmpdir(), 'maas-compat-'));
    t.after(() => rm(repoDir, { recursive: true, force: true }));
    await writeDemoRepository(repoDir);
    const server = await startServer({ modelRepository: repoDir, httpPort: 0, host: '127.0.0.1', logLevel: 'silent' });
    t.after(() => server.close());

    const run = await runPython([SCRIPT, `http://127.0.0.1:${server.httpPort}`], SCRIPT_TIMEOUT_MS);
    const verdict = run.signal ? `killed by ${run.signal} (timeout ${SCRIPT_TIMEOUT_MS} ms?)` : `exit code ${run.code}`;
    assert.equal(run.code, 0, `tritonclient_http.py failed (${verdict}):\n${run.output}`);
    assert.match(run.output, /\b\d+ passed, 0 failed\b/, `unexpected output:\n${run.output}`);
  },
);
