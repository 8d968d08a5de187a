// The registry against a real PostgreSQL (the shared test server, a fresh
// database per test): tenant isolation, roles, keys, uploads, aliases,
// names, audit, restart persistence (docs/registry.md, docs/security.md).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { migrate, migrationsDir } from '../registry/database';
import { STALE_CLAIM_HOURS } from '../registry/store';
import { createDatabase, testServices } from './support/services';
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
let h: Harness;
let ownerA = '';
let ownerB = '';
let viewerA = '';

async function key(tenant: string, role: string, extra: Record<string, unknown> = {}): Promise<string> {
  const made = await api(h.url, 'POST', `/api/v1/tenants/${tenant}/keys`, h.adminKey, { role, ...extra });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.key as string;
}

before(async () => {
  h = await startRegistryServer(await createDatabase(services.databaseUrl, 'registry'), { maxModelBytes: 64 * 1024 });
  assert.match(h.adminKey, /^maas_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
  assert.equal((await fs.stat(path.join(h.dataDir, 'admin.key'))).mode & 0o777, 0o600);
  for (const name of ['alpha', 'beta']) {
    const made = await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name });
    assert.equal(made.status, 201);
    assert.equal(made.body.name, name);
  }
  ownerA = await key('alpha', 'owner');
  ownerB = await key('beta', 'owner');
  viewerA = await key('alpha', 'viewer');
});

after(async () => {
  await h?.server.close();
});

test('health is open; everything else needs valid credentials (401)', async () => {
  assert.equal((await fetch(`${h.url}/v2/health/ready`)).status, 200);
  assert.equal((await api(h.url, 'GET', '/v2/models/fsmodel', null)).status, 401);
  const bad = await api(h.url, 'GET', '/v2/models/fsmodel', `maas_AAAAAAAA_${'A'.repeat(43)}`);
  assert.deepEqual([bad.status, bad.body.code], [401, 'UNAUTHENTICATED']);
  // A real prefix with a wrong secret.
  const wrong = `${ownerA.slice(0, 14)}${'B'.repeat(43)}`;
  assert.equal((await api(h.url, 'GET', '/v2/models/fsmodel', wrong)).status, 401);
  assert.equal((await api(h.url, 'GET', '/api/v1/models', 'not-a-key')).status, 401);
  // x-api-key works like the bearer header; the repository's models are public.
  const viaHeader = await api(h.url, 'GET', '/v2/models/fsmodel', null, undefined, { 'x-api-key': viewerA });
  assert.equal(viaHeader.status, 200);
  assert.equal(firstOutput(await inferAdd(h.url, 'fsmodel', ownerB)), 101);
});

test('tenants and the repository API are for admins (403)', async () => {
  const denied = await api(h.url, 'POST', '/api/v1/tenants', ownerA, { name: 'gamma' });
  assert.deepEqual([denied.status, denied.body.code], [403, 'FORBIDDEN']);
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants', ownerA)).status, 403);
  assert.equal((await api(h.url, 'POST', '/v2/repository/index', ownerA)).status, 403);
  assert.equal((await api(h.url, 'POST', '/v2/repository/index', h.adminKey)).status, 200);
  const dup = await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name: 'alpha' });
  assert.deepEqual([dup.status, dup.body.code], [409, 'ALREADY_EXISTS']);
  const list = await api(h.url, 'GET', '/api/v1/tenants?limit=1', h.adminKey);
  assert.equal(list.body.items.length, 1);
  assert.equal(list.body.nextOffset, 1);
});

test('an uploaded version serves in its tenant only; others get 404 everywhere', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'secret' })).status, 201);
  const up = await api(h.url, 'PUT', '/api/v1/models/secret/versions/1', ownerA, addModelBytes(1));
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.body.status, 'ready');
  assert.match(up.body.sha256, /^[0-9a-f]{64}$/);
  const served = await waitFor('secret served', async () => {
    const r = await inferAdd(h.url, 'secret', ownerA);
    return r.status === 200 ? r : undefined;
  });
  assert.equal(firstOutput(served), 2);
  // Beta: read, infer, metadata, versions, overwrite, delete, alias: all 404.
  for (const [method, route, body] of [
    ['GET', '/v2/models/secret', undefined],
    ['GET', '/api/v1/models/secret', undefined],
    ['GET', '/api/v1/models/secret/versions', undefined],
    ['PUT', '/api/v1/models/secret/versions/2', addModelBytes(9)],
    ['PUT', '/api/v1/models/secret/aliases/production', { version: 1 }],
    ['DELETE', '/api/v1/models/secret', undefined],
  ] as const) {
    const r = await api(h.url, method, route, ownerB, body);
    assert.equal(r.status, 404, `${method} ${route}: ${JSON.stringify(r.body)}`);
  }
  assert.equal((await inferAdd(h.url, 'secret', ownerB)).status, 404);
  // Readiness answers as for a name that does not exist at all.
  assert.deepEqual(
    await api(h.url, 'GET', '/v2/models/secret/ready', ownerB),
    await api(h.url, 'GET', '/v2/models/no-such-model/ready', ownerB),
  );
  const listed = await api(h.url, 'GET', '/api/v1/models', ownerB);
  assert.ok(!listed.body.items.some((m: { name: string }) => m.name === 'secret'));
  // Beta may have its own 'secret', unrelated to alpha's.
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerB, { name: 'secret' })).status, 201);
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/secret/versions/1', ownerB, addModelBytes(50))).status, 201);
  const betaServed = await waitFor('beta secret', async () => {
    const r = await inferAdd(h.url, 'secret', ownerB);
    return r.status === 200 ? r : undefined;
  });
  assert.equal(firstOutput(betaServed), 51);
  assert.equal(firstOutput(await inferAdd(h.url, 'secret', ownerA)), 2);
  // Repository statistics of all models would name other tenants' models.
  assert.equal((await api(h.url, 'GET', '/v2/models/stats', ownerA)).status, 403);
});

test('a viewer reads and infers but cannot upload or create (403)', async () => {
  const up = await api(h.url, 'PUT', '/api/v1/models/secret/versions/7', viewerA, addModelBytes(3));
  assert.deepEqual([up.status, up.body.code], [403, 'FORBIDDEN']);
  assert.equal((await api(h.url, 'POST', '/api/v1/models', viewerA, { name: 'nope' })).status, 403);
  assert.equal((await api(h.url, 'POST', '/api/v1/tenants/alpha/keys', viewerA, { role: 'viewer' })).status, 403);
  assert.equal((await inferAdd(h.url, 'secret', viewerA)).status, 200);
  // Nothing was claimed by the refused upload.
  const versions = await api(h.url, 'GET', '/api/v1/models/secret/versions', ownerA);
  assert.deepEqual(
    versions.body.items.map((v: { version: number }) => v.version),
    [1],
  );
});

test('aliases: production is the default version, and moves live', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'aliased' })).status, 201);
  for (const [v, addend] of [
    [1, 10],
    [2, 20],
  ])
    assert.equal(
      (await api(h.url, 'PUT', `/api/v1/models/aliased/versions/${v}`, ownerA, addModelBytes(addend))).status,
      201,
    );
  // Newest ready without an alias.
  await waitFor('v2 default', async () => {
    const r = await inferAdd(h.url, 'aliased', ownerA);
    return r.status === 200 && firstOutput(r) === 21 ? r : undefined;
  });
  const moved = await api(h.url, 'PUT', '/api/v1/models/aliased/aliases/production', ownerA, { version: 1 });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  await waitFor('alias to v1', async () => {
    const r = await inferAdd(h.url, 'aliased', ownerA);
    assert.equal(r.status, 200); // no failed request while the alias moves
    return firstOutput(r) === 11 ? r : undefined;
  });
  const missing = await api(h.url, 'PUT', '/api/v1/models/aliased/aliases/production', ownerA, { version: 9 });
  assert.equal(missing.status, 404);
  const detail = await api(h.url, 'GET', '/api/v1/models/aliased', ownerA);
  assert.deepEqual(detail.body.aliases, { production: 1 });
});

test('a model the engine rejects: 422 with the reason, version failed, nothing stored or served', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'hostile' })).status, 201);
  const garbage = new Uint8Array(2000).map((_, i) => (i * 7919) % 251);
  const r = await api(h.url, 'PUT', '/api/v1/models/hostile/versions/1', ownerA, garbage);
  assert.deepEqual([r.status, r.body.code], [422, 'MODEL_REJECTED']);
  assert.match(r.body.error, /ENGINE_/);
  const versions = await api(h.url, 'GET', '/api/v1/models/hostile/versions', ownerA);
  assert.equal(versions.body.items[0].status, 'failed');
  assert.match(versions.body.items[0].reason, /ENGINE_/);
  assert.equal((await inferAdd(h.url, 'hostile', ownerA)).status, 404);
  const stored = await fs.readdir(path.join(h.dataDir, 'artifacts', 'alpha')).catch(() => [] as string[]);
  assert.ok(!stored.includes('hostile'), `artifacts left: ${stored.join(',')}`);
  assert.deepEqual(await fs.readdir(path.join(h.dataDir, 'uploads')), []);
  // A failed version may be uploaded again.
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/hostile/versions/1', ownerA, addModelBytes(5))).status, 201);
});

test('oversized uploads are 413 and leave no row', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'big' })).status, 201);
  const r = await api(h.url, 'PUT', '/api/v1/models/big/versions/1', ownerA, new Uint8Array(65 * 1024));
  assert.deepEqual([r.status, r.body.code], [413, 'BODY_TOO_LARGE']);
  const versions = await api(h.url, 'GET', '/api/v1/models/big/versions', ownerA);
  assert.deepEqual(versions.body.items, []);
});

test('an aborted or truncated upload leaves no row, no object and no spool file', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'aborted' })).status, 201);
  const port = Number(new URL(h.url).port);
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write(
    `PUT /api/v1/models/aborted/versions/1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${ownerA}\r\nContent-Length: 5000\r\n\r\n`,
  );
  socket.write(Buffer.alloc(1000, 1));
  // The version is claimed (uploading) while the bytes come.
  await waitFor('uploading row', async () => {
    const v = await api(h.url, 'GET', '/api/v1/models/aborted/versions', ownerA);
    return v.body.items.length === 1 && v.body.items[0].status === 'uploading' ? true : undefined;
  });
  socket.destroy();
  await waitFor('row gone', async () => {
    const v = await api(h.url, 'GET', '/api/v1/models/aborted/versions', ownerA);
    return v.body.items.length === 0 ? true : undefined;
  });
  await waitFor('spool empty', async () =>
    (await fs.readdir(path.join(h.dataDir, 'uploads'))).length === 0 ? true : undefined,
  );
});

test('concurrent uploads of one version: one wins, the other gets 409', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'race' })).status, 201);
  const results = await Promise.all(
    [1, 2, 3].map((addend) => api(h.url, 'PUT', '/api/v1/models/race/versions/1', ownerA, addModelBytes(addend))),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409]);
  const versions = await api(h.url, 'GET', '/api/v1/models/race/versions', ownerA);
  assert.equal(versions.body.items.length, 1);
  assert.equal(versions.body.items[0].status, 'ready');
});

test('SQL metacharacters and path traversal in names are refused, never interpreted', async () => {
  for (const name of ["x'; DROP TABLE models; --", '../etc', '..', '.hidden', 'a/b', 'a b', '', 'x'.repeat(200)]) {
    const r = await api(h.url, 'POST', '/api/v1/models', ownerA, { name });
    assert.deepEqual([r.status, r.body.code], [400, 'INVALID_NAME'], name);
  }
  const t = await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name: "z'; DELETE FROM tenants; --" });
  assert.deepEqual([t.status, t.body.code], [400, 'INVALID_NAME']);
  for (const route of [
    '/api/v1/models/..%2F..%2Fetc/versions/1',
    "/api/v1/models/x'%3B%20DROP%20TABLE%20models/versions/1",
    '/api/v1/models/secret/versions/..%2F1',
  ]) {
    const r = await api(h.url, 'PUT', route, ownerA, addModelBytes(1));
    assert.ok([400, 404].includes(r.status), `${route}: ${r.status}`);
  }
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants/..%2Falpha/keys', ownerA)).status, 404);
  assert.equal((await api(h.url, 'GET', '/v2/models/alpha%2Fsecret', ownerB)).status, 404);
  // The tables are all still there.
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants', h.adminKey)).body.items.length >= 2, true);
});

test('keys: listed without secrets, expired and revoked keys are refused (401)', async () => {
  const listed = await api(h.url, 'GET', '/api/v1/tenants/alpha/keys', ownerA);
  assert.equal(listed.status, 200);
  assert.ok(listed.body.items.length >= 2);
  for (const k of listed.body.items) {
    assert.equal(k.key, undefined);
    assert.match(k.prefix, /^maas_/);
  }
  // Beta's owner cannot see alpha's keys.
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants/alpha/keys', ownerB)).status, 404);
  const expired = await key('alpha', 'viewer', { expiresAt: new Date(Date.now() - 1000).toISOString() });
  assert.equal((await api(h.url, 'GET', '/v2/models/fsmodel', expired)).status, 401);
  const made = await api(h.url, 'POST', '/api/v1/tenants/alpha/keys', ownerA, { role: 'developer', name: 'ci' });
  assert.equal(made.status, 201);
  assert.equal((await api(h.url, 'GET', '/v2/models/fsmodel', made.body.key)).status, 200); // cached now
  // Beta cannot revoke alpha's key; alpha's owner can.
  assert.equal((await api(h.url, 'DELETE', `/api/v1/keys/${made.body.id}`, ownerB)).status, 404);
  assert.equal((await api(h.url, 'DELETE', `/api/v1/keys/${made.body.id}`, ownerA)).status, 204);
  await waitFor(
    'revocation',
    async () => ((await api(h.url, 'GET', '/v2/models/fsmodel', made.body.key)).status === 401 ? true : undefined),
    1000,
  );
  // An owner cannot mint admins.
  assert.equal((await api(h.url, 'POST', '/api/v1/tenants/alpha/keys', ownerA, { role: 'admin' })).status, 400);
});

test('the audit log records who changed what, scoped to the tenant', async () => {
  const a = await api(h.url, 'GET', '/api/v1/audit?limit=1000', ownerA);
  assert.equal(a.status, 200);
  const actions = new Set(a.body.items.map((e: { action: string }) => e.action));
  for (const action of ['model.create', 'version.ready', 'version.failed', 'alias.set', 'key.create', 'key.revoke'])
    assert.ok(actions.has(action), `missing ${action}`);
  assert.ok(a.body.items.every((e: { tenant: string }) => e.tenant === 'alpha'));
  assert.ok(a.body.items.every((e: { source: string }) => e.source.includes('127.0.0.1')));
  const all = await api(h.url, 'GET', '/api/v1/audit?limit=1000', h.adminKey);
  assert.ok(all.body.items.some((e: { action: string }) => e.action === 'tenant.create'));
  assert.equal((await api(h.url, 'GET', '/api/v1/audit', viewerA)).status, 403);
});

test('public models are served to every tenant by their bare name, read-only', async () => {
  assert.equal(
    (await api(h.url, 'POST', '/api/v1/models', ownerB, { name: 'shared', visibility: 'public' })).status,
    201,
  );
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/shared/versions/1', ownerB, addModelBytes(7))).status, 201);
  const r = await waitFor('public model', async () => {
    const x = await inferAdd(h.url, 'shared', viewerA);
    return x.status === 200 ? x : undefined;
  });
  assert.equal(firstOutput(r), 8);
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/shared/versions/2', ownerA, addModelBytes(9))).status, 404);
  assert.equal((await api(h.url, 'DELETE', '/api/v1/models/shared', ownerA)).status, 404);
});

test('a deleted model drains and unloads', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'doomed' })).status, 201);
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/doomed/versions/1', ownerA, addModelBytes(1))).status, 201);
  await waitFor('doomed served', async () =>
    (await inferAdd(h.url, 'doomed', ownerA)).status === 200 ? true : undefined,
  );
  assert.equal((await api(h.url, 'DELETE', '/api/v1/models/doomed', ownerA)).status, 204);
  await waitFor('doomed gone', async () =>
    (await inferAdd(h.url, 'doomed', ownerA)).status === 404 ? true : undefined,
  );
  const stored = await fs.readdir(path.join(h.dataDir, 'artifacts', 'alpha'));
  assert.ok(
    !stored.includes('doomed') ||
      (await fs.readdir(path.join(h.dataDir, 'artifacts', 'alpha', 'doomed', '1'))).length === 0,
  );
});

test('the OpenAPI document describes the routes', async () => {
  const doc = await api(h.url, 'GET', '/api/v1/openapi.json', viewerA);
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  for (const p of [
    '/api/v1/tenants',
    '/api/v1/tenants/{tenant}/keys',
    '/api/v1/keys/{id}',
    '/api/v1/models',
    '/api/v1/models/{model}/versions/{version}',
    '/api/v1/models/{model}/aliases/{alias}',
    '/api/v1/audit',
  ])
    assert.ok(doc.body.paths[p], p);
  assert.equal((await api(h.url, 'PATCH', '/api/v1/models', ownerA)).status, 405);
  assert.equal((await api(h.url, 'GET', '/api/v1/nothing', ownerA)).status, 404);
});

test('migrations: from an empty database, re-run idempotently, concurrent starts migrate once', async () => {
  const url = await createDatabase(services.databaseUrl, 'migrate');
  const [a, b] = await Promise.all([migrate(url), migrate(url)]);
  // Each migration file runs once, whichever start ran it.
  const files = (await fs.readdir(migrationsDir())).filter((f) => f.endsWith('.sql'));
  assert.ok(files.length >= 1);
  assert.equal(a.length + b.length, files.length);
  assert.deepEqual(await migrate(url), []);
});

test('data survives a restart: models, keys, no second admin key', async () => {
  const url = await createDatabase(services.databaseUrl, 'restart');
  const first = await startRegistryServer(url);
  let second: Harness | undefined;
  try {
    await api(first.url, 'POST', '/api/v1/tenants', first.adminKey, { name: 'keep' });
    const k = (await api(first.url, 'POST', '/api/v1/tenants/keep/keys', first.adminKey, { role: 'owner' })).body.key;
    await api(first.url, 'POST', '/api/v1/models', k, { name: 'kept' });
    assert.equal((await api(first.url, 'PUT', '/api/v1/models/kept/versions/1', k, addModelBytes(4))).status, 201);
    await first.server.close();
    await fs.rm(path.join(first.dataDir, 'admin.key'));
    second = await startRegistryServer(url, {}, first.dataDir);
    assert.equal(second.adminKey, ''); // not made again
    const r = await inferAdd(second.url, 'kept', k); // loaded at start
    assert.equal(firstOutput(r), 5);
  } finally {
    await first.server.close();
    await second?.server.close();
  }
});

test('a claim left by a process that died mid-upload is taken over once stale', async () => {
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'orphan' })).status, 201);
  const { store } = h.server.registry!;
  const model = (await store.model('alpha', 'orphan'))!;
  await store.claimVersion(model, 1); // as if a replica died right after claiming
  const fresh = await api(h.url, 'PUT', '/api/v1/models/orphan/versions/1', ownerA, addModelBytes(1));
  assert.equal(fresh.status, 409);
  await store.pool.query(
    `UPDATE model_versions SET created_at = now() - make_interval(hours => $2 + 1) WHERE model_id = $1`,
    [model.id, STALE_CLAIM_HOURS],
  );
  assert.equal((await api(h.url, 'PUT', '/api/v1/models/orphan/versions/1', ownerA, addModelBytes(1))).status, 201);
});
