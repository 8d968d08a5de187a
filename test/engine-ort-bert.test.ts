// bert-mini (models/bert-mini.ts) through the engine and onnxruntime-node at
// batch 1 and 8, plus behaviour that holds whatever the weights: padding
// tokens do not change what unpadded tokens see, and one session serves
// both batch sizes. The agreement (max abs error) is printed as a diagnostic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BERT_MINI, buildBertMiniModel } from '../models/bert-mini';
import { DEMO_MODELS } from '../models/demo';
import type { Session, Tensor } from '../native/types';
import { assertTensorClose, type Feeds, loadEngineSession, rngFor, runOrt } from './support/ort-compare';

const SEQ = BERT_MINI.sequenceLength;

// Seeded token ids; row r attends to its first SEQ - 9·r tokens (the rest is padding).
function bertFeeds(batch: number, salt = 'a', padToken?: number): Feeds {
  const rng = rngFor(`bert-mini ${batch} ${salt}`);
  const ids = new BigInt64Array(batch * SEQ);
  const mask = new BigInt64Array(batch * SEQ);
  for (let r = 0; r < batch; r++) {
    const length = SEQ - 9 * r;
    for (let t = 0; t < SEQ; t++) {
      const padded = t >= length;
      const token = padded && padToken !== undefined ? padToken : Math.floor(rng() * BERT_MINI.vocabSize);
      ids[r * SEQ + t] = BigInt(token);
      mask[r * SEQ + t] = padded ? 0n : 1n;
    }
  }
  return {
    input_ids: { type: 'int64', dims: [batch, SEQ], data: ids },
    attention_mask: { type: 'int64', dims: [batch, SEQ], data: mask },
  };
}

async function runOrtBert(model: Uint8Array, feeds: Feeds): Promise<Tensor> {
  return (await runOrt(model, feeds)).last_hidden_state;
}

function maxAbsDifference(a: Tensor, b: Tensor): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return max;
}

describe('bert-mini', () => {
  const model = buildBertMiniModel();
  let session: Session;

  test('loads with the demo metadata', async () => {
    session = await loadEngineSession(model);
    const { inputs, output } = DEMO_MODELS['bert-mini'];
    assert.deepEqual(
      session.inputMetadata,
      inputs.map((i) => ({ name: i.name, type: i.type, dims: [...i.dims] })),
    );
    assert.deepEqual(session.outputMetadata, [{ name: output.name, type: output.type, dims: [...output.dims] }]);
  });

  for (const batch of [1, 8]) {
    test(`batch ${batch} agrees with onnxruntime`, async (t) => {
      const feeds = bertFeeds(batch);
      const [ours, reference] = await Promise.all([session.run(feeds), runOrtBert(model, feeds)]);
      const output = ours.last_hidden_state;
      assert.deepEqual(output.dims, [batch, SEQ, BERT_MINI.hidden]);
      assertTensorClose(output, reference, `batch ${batch}`);
      t.diagnostic(
        `bert-mini batch ${batch}: max abs error vs onnxruntime ${maxAbsDifference(output, reference).toExponential(2)}`,
      );
    });
  }

  test("padding tokens do not change the unpadded tokens' outputs", async () => {
    const a = (await session.run(bertFeeds(8, 'pad', 3))).last_hidden_state.data as Float32Array;
    const b = (await session.run(bertFeeds(8, 'pad', 1000))).last_hidden_state.data as Float32Array;
    let differingPadded = 0;
    for (let r = 0; r < 8; r++) {
      for (let tok = 0; tok < SEQ; tok++) {
        const base = (r * SEQ + tok) * BERT_MINI.hidden;
        const rowA = a.subarray(base, base + BERT_MINI.hidden);
        const rowB = b.subarray(base, base + BERT_MINI.hidden);
        if (tok < SEQ - 9 * r) {
          for (let i = 0; i < rowA.length; i++) assert.ok(Math.abs(rowA[i] - rowB[i]) < 1e-5, `row ${r} token ${tok}`);
        } else if (rowA.some((v, i) => v !== rowB[i])) {
          differingPadded++;
        }
      }
    }
    // The padding tokens themselves differ (their own embeddings changed).
    assert.ok(differingPadded > 0);
  });

  test('one session serves batch 1 after batch 8 (one plan per batch size)', async () => {
    const feeds = bertFeeds(1);
    const [ours, reference] = await Promise.all([session.run(feeds), runOrtBert(model, feeds)]);
    assertTensorClose(ours.last_hidden_state, reference, 'batch 1 again');
    assert.deepEqual(
      session
        .memory()
        .plans.map((p) => p.inputDims.input_ids[0])
        .sort(),
      [1, 8],
    );
    session.release();
  });
});
