// @aws-sdk/client-s3 against the real S3 server (SeaweedFS) the test runner
// starts (docs/testing.md): what the artifact store will rely on (issue 7) —
// path-style addressing, signed requests, buckets, a streamed multipart
// upload, reads, listings and deletes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3ClientConfig, testServices, uniqueName } from '../support/services';

let s3: S3Client;
let bucket: string;

before(async () => {
  s3 = new S3Client(s3ClientConfig(testServices().s3));
  bucket = uniqueName('s3-smoke');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
});

// size bytes of a seeded pattern, streamed in 1 MiB chunks.
function patternStream(size: number): Readable {
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(chunk.subarray(0, n));
    },
  });
}

async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of stream) hash.update(part);
  return hash.digest('hex');
}

test('the runner-made bucket exists, and a new one lists', async () => {
  const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
  assert.ok(names.includes(testServices().s3.bucket));
  assert.ok(names.includes(bucket));
});

test('a streamed multipart upload reads back byte for byte, lists, and deletes', async () => {
  const size = 11 * 1024 * 1024 + 5; // three parts of at least 5 MiB but the last
  const key = 'models/mlp/1/model.onnx';
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: patternStream(size) },
    partSize: 5 * 1024 * 1024,
    queueSize: 2,
  });
  let parts = 0;
  upload.on('httpUploadProgress', () => parts++);
  await upload.done();
  assert.ok(parts >= 3, `uploaded in ${parts} parts`);

  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  assert.equal(head.ContentLength, size);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.equal(await sha256Of(got.Body as Readable), await sha256Of(patternStream(size)));

  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'models/mlp/config.json', Body: '{"max_batch_size":8}' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/x', Body: 'x' }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'models/mlp/' }));
  assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).sort(), [
    'models/mlp/1/model.onnx',
    'models/mlp/config.json',
  ]);

  for (const k of [key, 'models/mlp/config.json', 'other/x'])
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }));
  assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0, 0);
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    (err: Error) => err.name === 'NoSuchKey',
  );
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
});

test('a request signed with a wrong secret is refused (the server checks signatures)', async () => {
  const info = testServices().s3;
  const wrong = new S3Client({
    ...s3ClientConfig(info),
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: 'wrong-secret' },
    maxAttempts: 1,
  });
  try {
    await assert.rejects(wrong.send(new ListBucketsCommand({})), (err: Error) => err.name === 'SignatureDoesNotMatch');
  } finally {
    wrong.destroy();
  }
});
