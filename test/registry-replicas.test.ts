// Two `maas serve` replicas on one PostgreSQL database, their artifacts in a
// real S3 server (SeaweedFS): an upload on one serves on both, a revocation
// on one holds on both within a second, and a rejected or deleted model
// leaves no object behind (docs/registry.md "Replicas").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createDatabase, s3ClientConfig, testServices, uniqueName } from './support/services';
import {
  addModelBytes,
  api,
  firstOutput,
  inferAdd,
  startRegistryServer,
  waitFor,
  type Harness,
} from './registry-support';

const services = testServices();
let a: Harness;
let b: Harness;
let owner = '';
let s3: S3Client;
let prefix = '';

async function objects(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: services.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key as string);
}

before(async () => {
  const url = await createDatabase(services.databaseUrl, 'replicas');
  prefix = `${uniqueName('replicas')}/`;
  const info = services.s3;
  const store = {
    s3: {
      endpoint: info.endpoint,
      region: info.region,
      bucket: info.bucket,
      prefix,
      forcePathStyle: true,
      accessKeyId: info.accessKeyId,
      secretAccessKey: info.secretAccessKey,
    },
  };
  [a, b] = await Promise.all([startRegistryServer(url, store), startRegistryServer(url, store)]);
  s3 = new S3Client(s3ClientConfig(info));
  const admin = a.adminKey || b.adminKey;
  assert.ok(admin, 'one replica made the admin key');
  assert.ok(!(a.adminKey && b.adminKey), 'only one admin key is made');
  assert.equal((await api(a.url, 'POST', '/api/v1/tenants', admin, { name: 'rep' })).status, 201);
  owner = (await api(b.url, 'POST', '/api/v1/tenants/rep/keys', admin, { role: 'owner' })).body.key;
});

after(async () => {
  await Promise.all([a?.server.close(), b?.server.close()]);
  s3?.destroy();
});

test('an upload on one replica serves on both within 2 s, from S3', async () => {
  assert.equal((await api(a.url, 'POST', '/api/v1/models', owner, { name: 'm' })).status, 201);
  assert.equal((await api(a.url, 'PUT', '/api/v1/models/m/versions/1', owner, addModelBytes(30))).status, 201);
  const started = Date.now();
  const onB = await waitFor(
    'served on b',
    async () => {
      const r = await inferAdd(b.url, 'm', owner);
      return r.status === 200 ? r : undefined;
    },
    2000,
  );
  assert.equal(firstOutput(onB), 31);
  assert.ok(Date.now() - started <= 2000);
  assert.equal(firstOutput(await inferAdd(a.url, 'm', owner)), 31);
  assert.equal((await objects()).filter((k) => k.startsWith(`${prefix}rep/m/1/`)).length, 1);
  // An alias moved on b moves on a.
  assert.equal((await api(b.url, 'PUT', '/api/v1/models/m/versions/2', owner, addModelBytes(40))).status, 201);
  assert.equal((await api(b.url, 'PUT', '/api/v1/models/m/aliases/production', owner, { version: 1 })).status, 200);
  await waitFor('alias on a', async () => {
    const r = await inferAdd(a.url, 'm', owner);
    return r.status === 200 && firstOutput(r) === 31 ? true : undefined;
  });
});

test('a revocation on one replica holds on the other within a second', async () => {
  const made = await api(a.url, 'POST', '/api/v1/tenants/rep/keys', owner, { role: 'viewer' });
  // Both replicas have it cached.
  assert.equal((await api(a.url, 'GET', '/v2/models/fsmodel', made.body.key)).status, 200);
  assert.equal((await api(b.url, 'GET', '/v2/models/fsmodel', made.body.key)).status, 200);
  assert.equal((await api(a.url, 'DELETE', `/api/v1/keys/${made.body.id}`, owner)).status, 204);
  await waitFor(
    'revoked on b',
    async () => ((await api(b.url, 'GET', '/v2/models/fsmodel', made.body.key)).status === 401 ? true : undefined),
    1000,
  );
});

test('a rejected upload and a deleted model leave no object in S3', async () => {
  assert.equal((await api(a.url, 'POST', '/api/v1/models', owner, { name: 'bad' })).status, 201);
  const r = await api(a.url, 'PUT', '/api/v1/models/bad/versions/1', owner, new Uint8Array(500).fill(7));
  assert.equal(r.status, 422);
  assert.deepEqual(
    (await objects()).filter((k) => k.startsWith(`${prefix}rep/bad/`)),
    [],
  );
  assert.equal((await api(b.url, 'DELETE', '/api/v1/models/m', owner)).status, 204);
  assert.deepEqual(
    (await objects()).filter((k) => k.startsWith(`${prefix}rep/m/`)),
    [],
  );
  await waitFor('unloaded on a', async () => ((await inferAdd(a.url, 'm', owner)).status === 404 ? true : undefined));
});
