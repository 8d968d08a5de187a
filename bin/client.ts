// The `maas` client commands: talk to a running server's management API
// (/api/v1) with --url and --key (or MAAS_URL / MAAS_KEY). docs/registry.md "CLI".
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

export const CLIENT_USAGE = `  maas tenants create NAME | list
  maas keys create TENANT --role owner|developer|viewer [--name N] [--expires-at ISO] | list TENANT | revoke ID
  maas models upload FILE --name N [--version V] [--tenant T] | list | versions NAME | alias NAME ALIAS VERSION
  (client commands take --url URL (MAAS_URL, default http://127.0.0.1:8000) and --key KEY (MAAS_KEY))`;

type Fail = (message: string) => never;

interface Conn {
  url: string;
  key: string | undefined;
}

async function call(conn: Conn, method: string, path: string, body?: unknown, raw?: RequestInit): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (conn.key) headers.authorization = `Bearer ${conn.key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${conn.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { ...headers, ...(raw?.headers as Record<string, string> | undefined) },
      body: body === undefined ? raw?.body : JSON.stringify(body),
      ...(raw?.body ? { duplex: 'half' } : {}),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${conn.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: shown as is
  }
  if (!response.ok) {
    const e = parsed as { error?: string; code?: string } | null;
    const hint =
      response.status === 401
        ? ' (give a valid key with --key or MAAS_KEY; the first admin key is in <data-dir>/admin.key)'
        : '';
    throw new Error(`${response.status} ${e?.code ?? ''}: ${e?.error ?? text}${hint}`);
  }
  return parsed;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function runClient(argv: string[], fail: Fail): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        role: { type: 'string' },
        name: { type: 'string' },
        'expires-at': { type: 'string' },
        version: { type: 'string' },
        tenant: { type: 'string' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  const conn: Conn = {
    url: values.url ?? process.env.MAAS_URL ?? 'http://127.0.0.1:8000',
    key: values.key ?? process.env.MAAS_KEY,
  };
  const [area, verb, ...args] = positionals;
  const arg = (i: number, what: string): string => args[i] ?? fail(`${area} ${verb}: missing ${what}`);
  const enc = encodeURIComponent;
  switch (`${area} ${verb}`) {
    case 'tenants create':
      return print(await call(conn, 'POST', '/api/v1/tenants', { name: arg(0, 'NAME') }));
    case 'tenants list':
      return print(await call(conn, 'GET', '/api/v1/tenants'));
    case 'keys create':
      return print(
        await call(conn, 'POST', `/api/v1/tenants/${enc(arg(0, 'TENANT'))}/keys`, {
          role: values.role ?? fail('keys create: --role is required'),
          name: values.name,
          expiresAt: values['expires-at'],
        }),
      );
    case 'keys list':
      return print(await call(conn, 'GET', `/api/v1/tenants/${enc(arg(0, 'TENANT'))}/keys`));
    case 'keys revoke':
      await call(conn, 'DELETE', `/api/v1/keys/${enc(arg(0, 'ID'))}`);
      return print({ revoked: args[0] });
    case 'models list':
      return print(await call(conn, 'GET', '/api/v1/models'));
    case 'models versions':
      return print(await call(conn, 'GET', `/api/v1/models/${enc(arg(0, 'NAME'))}/versions`));
    case 'models alias':
      return print(
        await call(conn, 'PUT', `/api/v1/models/${enc(arg(0, 'NAME'))}/aliases/${enc(arg(1, 'ALIAS'))}`, {
          version: Number(arg(2, 'VERSION')),
        }),
      );
    case 'models upload':
      return upload(conn, arg(0, 'FILE'), values, fail);
    default:
      fail(`unknown command '${positionals.join(' ')}'`);
  }
}

async function upload(
  conn: Conn,
  file: string,
  values: { name?: string; version?: string; tenant?: string },
  fail: Fail,
): Promise<void> {
  const name = values.name ?? fail('models upload: --name is required');
  const sizeBytes = (await fs.stat(file)).size;
  const tenantQuery = values.tenant ? `?tenant=${encodeURIComponent(values.tenant)}` : '';
  // Create the model if it is not there yet (409: it is).
  try {
    await call(conn, 'POST', '/api/v1/models', { name, ...(values.tenant ? { tenant: values.tenant } : {}) });
  } catch (err) {
    if (!/^409 /.test((err as Error).message)) throw err;
  }
  let version = values.version;
  if (!version) {
    const listed = (await call(conn, 'GET', `/api/v1/models/${encodeURIComponent(name)}/versions${tenantQuery}`)) as {
      items: Array<{ version: number }>;
    };
    version = String(listed.items.reduce((max, v) => Math.max(max, v.version), 0) + 1);
  }
  const stream = createReadStream(file);
  if (process.stderr.isTTY) {
    let sent = 0;
    stream.on('data', (chunk) => {
      sent += chunk.length;
      const pct = Math.floor((sent / Math.max(1, sizeBytes)) * 100);
      const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
      process.stderr.write(`\r[${bar}] ${pct}% of ${sizeBytes} bytes`);
    });
    stream.on('end', () => process.stderr.write('\n'));
  }
  const body = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  const result = await call(
    conn,
    'PUT',
    `/api/v1/models/${encodeURIComponent(name)}/versions/${version}${tenantQuery}`,
    undefined,
    { body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(sizeBytes) } },
  );
  print(result);
}
