import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SAFE_KEY } from '../../registry/artifacts/port';
import { chunkKey, inputKey, splitLines } from './keys';

test('splitLines: one request per non-blank line; CRLF, blank lines and no trailing newline allowed', () => {
  const text = '{"a":1}\r\n\n  \n{"b":2}\n{"c":3}';
  assert.deepEqual(
    splitLines(Buffer.from(text)).map((l) => l.toString().trim()),
    ['{"a":1}', '{"b":2}', '{"c":3}'],
  );
  assert.deepEqual(splitLines(Buffer.from('\n\n')), []);
});

test('job keys are artifact keys the stores accept, and no model key looks like one', () => {
  const id = '0b0e6f3c-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  assert.ok(SAFE_KEY.test(inputKey(id)));
  assert.ok(SAFE_KEY.test(chunkKey(id, 12)));
  assert.equal(chunkKey(id, 12), `_jobs/${id}/results-000012.jsonl`);
  assert.ok(!SAFE_KEY.test(`_jobs/${id}/../x.jsonl`));
  assert.ok(!SAFE_KEY.test(`_jobs/${id}/other.jsonl`));
  assert.ok(SAFE_KEY.test(`acme/m/1/${'a'.repeat(64)}.onnx`));
});
