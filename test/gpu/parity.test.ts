// The GPU parity suite (issue 13, docs/cuda.md "Proving it on a GPU"): every
// op case of the engine's onnxruntime suites (test/engine-ort-*.test.ts) and
// every demo model, run on cuda:0 and on the CPU backend and compared, the
// demo models in each precision. Without a GPU every test is reported
// SKIPPED with the reason, never passed. `npm run test:gpu` runs it alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../native';
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
