import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, inflateSync } from 'node:zlib';
import { compress, pickEncoding } from './compress';

test('pickEncoding prefers gzip, honours q=0', () => {
  assert.equal(pickEncoding(''), null);
  assert.equal(pickEncoding('identity'), null);
  assert.equal(pickEncoding('gzip, deflate, br'), 'gzip');
  assert.equal(pickEncoding('deflate'), 'deflate');
  assert.equal(pickEncoding('GZIP;q=0.5'), 'gzip');
  assert.equal(pickEncoding('gzip;q=0, deflate'), 'deflate');
  assert.equal(pickEncoding('br;q=1.0, gzip;q=0'), null);
});

test('compress round-trips', async () => {
  const body = Buffer.from('x'.repeat(5000));
  assert.deepEqual(gunzipSync(await compress(body, 'gzip')), body);
  assert.deepEqual(inflateSync(await compress(body, 'deflate')), body);
});
