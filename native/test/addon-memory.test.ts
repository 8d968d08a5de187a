// The addon's native memory under hostile JS: the two ways found from outside
// to crash the process through the engine's API (issue 5).
//   1. an output above 4 GiB (a MatMul outer product): WrapBuffer freed the
//      output's owner twice when Node refused the external buffer;
//   2. an input's ArrayBuffer detached while the run is queued: the worker read
//      memory that JS had already freed.
// Each case runs in a child process, so a crash fails this test with the
// child's signal and stderr (the sanitizer report under `npm run test:asan`)
// instead of killing the test runner. Either outcome passes: the run resolves
// with the right answer, or it rejects with an error code that says what
// happened (not an internal error). Both crashed before the hardening fix
// (issue 5: SIGSEGV plainly, heap-use-after-free under `npm run test:asan`);
// engine_api.test.ts checks the fixed behaviour in detail, these keep the
// crashes' exact shapes, the detach made deterministic by a busy thread pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { encodeModel } from '../../models/onnx-writer';
import { loadModel, type Session } from '../index';

// 34571 × 32769 float32 = 4,531,252,796 bytes: just past 4 GiB, from 264 KiB of input.
const OUTER_ROWS = 34571;
const OUTER_COLUMNS = 32769;
const DETACHED_ELEMENTS = 1 << 20; // 4 MiB: its own mapping, unmapped when freed

interface Outcome {
  outcome: 'resolved' | 'rejected';
  code?: string;
  message?: string;
  problem?: string; // set when the run resolved with a wrong answer
}

// ---- the scenarios (run in the child) ----------------------------------------------

async function outerProduct(): Promise<Outcome> {
  const session = await loadModel(
    encodeModel({
      nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [
        { name: 'a', dataType: 'FLOAT', shape: ['m', 1] },
        { name: 'b', dataType: 'FLOAT', shape: [1, 'n'] },
      ],
      outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['m', 'n'] }],
    }),
    { intraOpThreads: 1 },
  );
  const a = new Float32Array(OUTER_ROWS).fill(2);
  const b = new Float32Array(OUTER_COLUMNS).fill(3);
  return settle(session, { a: [[OUTER_ROWS, 1], a], b: [[1, OUTER_COLUMNS], b] }, (y, dims) => {
    if (dims.join() !== `${OUTER_ROWS},${OUTER_COLUMNS}`) return `dims [${dims.join()}]`;
    if (y[0] !== 6 || y[y.length - 1] !== 6) return 'wrong values';
    return undefined;
  });
}

async function detachedInput(): Promise<Outcome> {
  const session = await loadModel(
    encodeModel({
      nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['n'] }],
      outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['n'] }],
    }),
    { intraOpThreads: 1 },
  );
  // The parent runs this child with UV_THREADPOOL_SIZE=1: while this key
  // derivation holds the only pool thread, the run below stays queued, so the
  // input is freed before the worker ever reads it.
  const busy = new Promise<void>((resolve, reject) =>
    pbkdf2('x', 'y', 400_000, 32, 'sha256', (err) => (err ? reject(err) : resolve())),
  );
  const x = Float32Array.from({ length: DETACHED_ELEMENTS }, (_, i) => (i % 5) - 2);
  const expected = x.map((v) => Math.max(0, v));
  const run = settle(session, { x: [[DETACHED_ELEMENTS], x] }, (y) => {
    for (let i = 0; i < expected.length; i++) if (y[i] !== expected[i]) return `y[${i}] = ${y[i]}`;
    return undefined;
  });
  // Move the buffer's memory to a clone nobody keeps, then collect the clone.
  structuredClone(x.buffer, { transfer: [x.buffer] });
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 20));
  collectGarbage();
  await busy;
  return run;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  gc();
}

async function settle(
  session: Session,
  feeds: Record<string, [number[], Float32Array]>,
  check: (y: Float32Array, dims: number[]) => string | undefined,
): Promise<Outcome> {
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([name, [dims, data]]) => [name, { type: 'float32' as const, dims, data }]),
  );
  try {
    const out = await session.run(tensors);
    const problem = check(out.y.data as Float32Array, out.y.dims);
    return problem ? { outcome: 'resolved', problem } : { outcome: 'resolved' };
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    return { outcome: 'rejected', code, message };
  }
}

const SCENARIOS: Record<string, () => Promise<Outcome>> = { outerProduct, detachedInput };

// ---- the tests (run in the parent) -----------------------------------------------------

function runChild(scenario: string): Outcome {
  const child = spawnSync(process.execPath, ['--expose-gc', __filename, '--scenario', scenario], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 240_000,
  });
  const stderr = child.stderr.split('\n').slice(0, 40).join('\n');
  assert.equal(
    child.signal,
    null,
    `the process was killed by ${child.signal} (a crash in the addon); stderr:\n${stderr}`,
  );
  assert.equal(child.status, 0, `the process exited with ${child.status}; stderr:\n${stderr}`);
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Outcome;
}

function assertHandled(result: Outcome): void {
  if (result.outcome === 'resolved') {
    assert.equal(result.problem, undefined, `the run resolved with a wrong answer: ${result.problem}`);
    return;
  }
  assert.equal(typeof result.code, 'string', `rejected without a code: ${result.message}`);
  assert.ok(
    !/INTERNAL/.test(result.code ?? ''),
    `rejected as an internal error, not a clear one: ${result.code} ${result.message}`,
  );
}

const scenarioIndex = process.argv.indexOf('--scenario');
if (scenarioIndex >= 0) {
  const scenario = SCENARIOS[process.argv[scenarioIndex + 1]];
  scenario().then(
    (result) => console.log(JSON.stringify(result)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
} else {
  test('an output above 4 GiB is refused or delivered, never a crash', { timeout: 300_000 }, () => {
    assertHandled(runChild('outerProduct'));
  });

  test('detaching an input during a run is harmless', { timeout: 300_000 }, () => {
    assertHandled(runChild('detachedInput'));
  });
}
