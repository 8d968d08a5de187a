// The GPU parity suite (issue 13, docs/cuda.md "Proving it on a GPU"): every
// op case of the engine's onnxruntime suites (test/engine-ort-*.test.ts) and
// every demo model, run on cuda:0 and on the CPU backend and compared, the
// demo models in each precision. Without a GPU every test is reported
// SKIPPED with the reason, never passed. `npm run test:gpu` runs it alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceMemory, loadModel } from '../../native';
import { encodeModel } from '../../models/onnx-writer';
import type { LoadOptions, Precision } from '../../native/types';
import { DEMO_BUILDERS, DEMO_MODELS, type DemoModelName } from '../../models/demo';
import { collectCaseTablesOnly, engineModel, feedsFor, type ModelCase } from '../support/ort-cases';
import { assertTensorClose, type Feeds, type Outputs } from '../support/ort-compare';
import { seededFeeds } from '../../models/seeded-feeds';
import { gpuState, PARITY_TOLERANCE, PRECISIONS } from './gpu-support';

collectCaseTablesOnly();
// Required after collectCaseTablesOnly(), so the files register no tests of their own here.
const CASE_FILES = ['math', 'indexing', 'reduce', 'conv'].map(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must run after collectCaseTablesOnly()
  (name) => require(`../engine-ort-${name}.test`) as { GROUPS: Array<[string, () => ModelCase[]]> },
);

const { gpu, reason } = gpuState();

async function runOn(bytes: Uint8Array, feeds: Feeds, options: LoadOptions): Promise<Outputs> {
  const session = await loadModel(bytes, options);
  try {
    return await session.run(feeds);
  } finally {
    session.release();
  }
}

async function compareOnGpu(bytes: Uint8Array, feeds: Feeds, precision: Precision, exact: boolean): Promise<void> {
  const cpu = await runOn(bytes, feeds, { device: 'cpu' });
  const cuda = await runOn(bytes, feeds, { device: 'cuda:0', precision });
  assert.deepEqual(Object.keys(cuda).sort(), Object.keys(cpu).sort(), 'output names');
  for (const [name, expected] of Object.entries(cpu))
    assertTensorClose(
      cuda[name],
      expected,
      `cuda:0 ${precision} output ${name}`,
      exact ? 0 : PARITY_TOLERANCE[precision],
    );
}

for (const { GROUPS } of CASE_FILES) {
  for (const [group, make] of GROUPS) {
    describe(`cuda:0 vs cpu: ${group}`, () => {
      for (const c of make()) {
        test(c.name, async (t) => {
          if (!gpu) return t.skip(reason);
          await compareOnGpu(engineModel(c), feedsFor(c), 'fp32', c.exact === true);
        });
      }
    });
  }
}

describe('cuda:0 vs cpu: demo models, per precision', () => {
  for (const name of Object.keys(DEMO_BUILDERS) as DemoModelName[]) {
    for (const precision of PRECISIONS) {
      test(`${name} at ${precision}, batch 4`, async (t) => {
        if (!gpu) return t.skip(reason);
        const bytes = DEMO_BUILDERS[name]();
        const probe = await loadModel(bytes);
        const feeds = seededFeeds(probe.inputMetadata, DEMO_MODELS[name].maxBatchSize > 0 ? 4 : 1, 2026);
        probe.release();
        await compareOnGpu(bytes, feeds, precision, false);
      });
    }
  }
});

describe('cuda:0 runtime: staging, streams and the caching allocator', () => {
  const identity = (n: number) =>
    encodeModel({
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dataType: 'FLOAT', shape: [-1, n] }],
      outputs: [{ name: 'y', dataType: 'FLOAT', shape: [-1, n] }],
    });

  test('bytes cross H2D and D2H through pinned staging unchanged, runs reuse cached device memory', async (t) => {
    if (!gpu) return t.skip(reason);
    const session = await loadModel(identity(1000), { device: 'cuda:0' });
    try {
      const data = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i) * 1e3);
      const feeds: Feeds = { x: { type: 'float32', dims: [8, 1000], data } };
      assert.deepEqual((await session.run(feeds)).y.data, data);
      const warm = deviceMemory().find((s) => s.device === 0);
      assert.ok(warm && warm.reservedBytes > 0 && warm.pinnedHostBytes > 0, JSON.stringify(warm));
      for (let i = 0; i < 5; i++) assert.deepEqual((await session.run(feeds)).y.data, data);
      const after = deviceMemory().find((s) => s.device === 0);
      assert.equal(after?.driverAllocations, warm.driverAllocations, 'steady runs allocate from the cache');
      assert.ok((after?.allocations ?? 0) > warm.allocations);
    } finally {
      session.release();
    }
  });

  test('concurrent runs of one session each get their own stream and their own results', async (t) => {
    if (!gpu) return t.skip(reason);
    const session = await loadModel(identity(256), { device: 'cuda:0' });
    try {
      const inputs = Array.from({ length: 16 }, (_, k) =>
        Float32Array.from({ length: 4 * 256 }, (_, i) => k * 1e4 + i),
      );
      const results = await Promise.all(
        inputs.map((data) => session.run({ x: { type: 'float32', dims: [4, 256], data } })),
      );
      results.forEach((r, k) => assert.deepEqual(r.y.data, inputs[k], `run ${k}`));
    } finally {
      session.release();
    }
  });

  test('a device the machine lacks is refused at load, naming it', async (t) => {
    if (!gpu) return t.skip(reason);
    await assert.rejects(loadModel(identity(4), { device: 'cuda:4096' }), {
      code: 'ENGINE_UNSUPPORTED',
      message: /cuda:4096/,
    });
  });
});
