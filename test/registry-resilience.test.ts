// Resilience through the registry (docs/resilience.md): the tenant priority
// API against a real PostgreSQL, and the response cache keeping tenants
// apart when two tenants' real keys call the same public model.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createDatabase, testServices } from './support/services';
import { writeModel } from './support/models';
import { addModelBytes, api, inferAdd, startRegistryServer, tempDir, type Harness } from './registry-support';

const services = testServices();
let h: Harness;
const keys: Record<string, string> = {};

before(async () => {
  const dir = await tempDir();
  // Beside the harness's fsmodel: a repository model (public) with the cache on.
  await writeModel(
    path.join(dir, 'repo'),
    'cachedmodel',
    { max_batch_size: 8, response_cache: { enable: true } },
    {
      '1': addModelBytes(10),
    },
  );
  h = await startRegistryServer(await createDatabase(services.databaseUrl, 'resilience'), {}, dir);
  for (const name of ['alpha', 'beta']) {
    assert.equal((await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name })).status, 201);
    const made = await api(h.url, 'POST', `/api/v1/tenants/${name}/keys`, h.adminKey, { role: 'owner' });
    keys[name] = made.body.key as string;
  }
});

after(async () => {
  await h?.server.close();
});

test('an admin sets a tenant priority; the tenant reads its own; nobody else may', async () => {
  const initial = await api(h.url, 'GET', '/api/v1/tenants/alpha/priority', keys.alpha);
  assert.deepEqual([initial.status, initial.body], [200, { tenant: 'alpha', priority: 'standard' }]);
  const set = await api(h.url, 'PUT', '/api/v1/tenants/alpha/priority', h.adminKey, { priority: 'premium' });
  assert.deepEqual([set.status, set.body], [200, { tenant: 'alpha', priority: 'premium' }]);
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants/alpha/priority', keys.alpha)).body.priority, 'premium');
  // A tenant may not promote itself, nor see another's.
  const self = await api(h.url, 'PUT', '/api/v1/tenants/beta/priority', keys.beta, { priority: 'premium' });
  assert.deepEqual([self.status, self.body.code], [403, 'FORBIDDEN']);
  const other = await api(h.url, 'GET', '/api/v1/tenants/alpha/priority', keys.beta);
  assert.deepEqual([other.status, other.body.code], [404, 'TENANT_NOT_FOUND']);
  const bad = await api(h.url, 'PUT', '/api/v1/tenants/beta/priority', h.adminKey, { priority: 'gold' });
  assert.deepEqual([bad.status, bad.body.code], [400, 'INVALID_PARAMETER']);
  const none = await api(h.url, 'PUT', '/api/v1/tenants/nobody/priority', h.adminKey, { priority: 'premium' });
  assert.deepEqual([none.status, none.body.code], [404, 'TENANT_NOT_FOUND']);
  // The change is audited; the serving side reads it.
  const audit = await api(h.url, 'GET', '/api/v1/audit', h.adminKey);
  assert.ok(
    (audit.body.items as Array<{ action: string; target: string }>).some(
      (e) => e.action === 'tenant.priority' && e.target === 'alpha',
    ),
  );
  assert.equal(h.server.registry?.tenantPriorities.priorityOf('alpha'), 'premium');
  assert.equal(h.server.registry?.tenantPriorities.priorityOf('beta'), 'standard');
});

async function cacheCounts(): Promise<{ hits: number; misses: number }> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const read = (name: string) =>
    Number(new RegExp(`^${name}\\{model="cachedmodel",version="1"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { hits: read('nv_cache_num_hits_per_model'), misses: read('nv_cache_num_misses_per_model') };
}

test('the response cache answers a tenant from its own entries only', async () => {
  const a1 = await inferAdd(h.url, 'cachedmodel', keys.alpha);
  assert.equal(a1.status, 200, JSON.stringify(a1.body));
  assert.deepEqual(a1.body.outputs[0].data, [11, 12, 13, 14]);
  assert.deepEqual(await cacheCounts(), { hits: 0, misses: 1 });
  const a2 = await inferAdd(h.url, 'cachedmodel', keys.alpha);
  assert.deepEqual(a2.body.outputs, a1.body.outputs);
  assert.deepEqual(await cacheCounts(), { hits: 1, misses: 1 });
  // Same public model, same bytes, another tenant: a miss of its own.
  const b1 = await inferAdd(h.url, 'cachedmodel', keys.beta);
  assert.deepEqual(b1.body.outputs, a1.body.outputs);
  assert.deepEqual(await cacheCounts(), { hits: 1, misses: 2 });
  await inferAdd(h.url, 'cachedmodel', keys.beta);
  assert.deepEqual(await cacheCounts(), { hits: 2, misses: 2 });
});
