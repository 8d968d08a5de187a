// Shared helpers of the registry tests: a server with the registry on a
// fresh database of the shared PostgreSQL, and small HTTP helpers.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { startServer, type RunningServer, type ServerOptions } from '../gateway/server';
import type { RegistryOptions } from '../registry';
import { addModelBytes, writeModel } from './support/models';

export interface Harness {
  server: RunningServer;
  url: string;
  adminKey: string;
  dataDir: string;
}

export async function tempDir(prefix = 'maas-registry-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

// A server with a one-model repository ('fsmodel', public) and the registry.
export async function startRegistryServer(
  databaseUrl: string,
  registry: Partial<Omit<RegistryOptions, 'logger'>> = {},
  dataDir?: string,
  serverOptions: Partial<ServerOptions> = {},
): Promise<Harness> {
  const dir = dataDir ?? (await tempDir());
  const repo = path.join(dir, 'repo');
  await writeModel(repo, 'fsmodel', { max_batch_size: 8 }, { '1': addModelBytes(100) });
  const server = await startServer({
    modelRepository: repo,
    httpPort: 0,
    host: '127.0.0.1',
    logger: createLogger('silent'),
    shutdownLingerMs: 0,
    registry: { dataDir: dir, databaseUrl, ...registry },
    ...serverOptions,
  });
  let adminKey = '';
  try {
    adminKey = (await fs.readFile(path.join(dir, 'admin.key'), 'utf8')).trim();
  } catch {
    // a replica of a database that already has its admin key
  }
  return { server, url: `http://127.0.0.1:${server.httpPort}`, adminKey, dataDir: dir };
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
}

export async function api(
  url: string,
  method: string,
  route: string,
  key: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const h: Record<string, string> = { ...headers };
  if (key !== null) h.authorization = `Bearer ${key}`;
  let payload: Uint8Array | string | undefined;
  if (body instanceof Uint8Array) payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const response = await fetch(`${url}${route}`, { method, headers: h, body: payload });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed };
}

// Tenants 'alpha' and 'beta' with an owner key each: [ownerA, ownerB].
export async function twoTenantOwners(h: Harness): Promise<[string, string]> {
  for (const name of ['alpha', 'beta']) {
    const made = await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name });
    if (made.status !== 201) throw new Error(`tenant ${name}: ${made.status}`);
  }
  const key = async (tenant: string) =>
    (await api(h.url, 'POST', `/api/v1/tenants/${tenant}/keys`, h.adminKey, { role: 'owner' })).body.key as string;
  return [await key('alpha'), await key('beta')];
}

// y = x + addend on a [1, 4] input: which version answered.
export async function inferAdd(url: string, model: string, key: string | null): Promise<Answer> {
  return api(url, 'POST', `/v2/models/${encodeURIComponent(model)}/infer`, key, {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The first output's first element (x[0] + addend).
export function firstOutput(answer: Answer): number {
  return answer.body.outputs[0].data[0];
}

export { addModelBytes };
