// The HTTP front end as a hostile or careless client meets it, over raw
// sockets: framing, pipelining, HTTP/1.0 and other requests uWS v20 never
// hands over, header and body limits, slow readers, disconnects, outputs
// too large to send, and memory across all of it. What uWS itself refuses is
// pinned as what we guarantee (the connection ends, nothing is answered,
// other clients are served); docs/http.md explains each case.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { buildIdentityModel, writeDemoRepository } from '../models/demo';
import { encodeModel } from '../models/onnx-writer';
import { startServer } from '../gateway/server';

const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 4 * MiB;
const MAX_BUFFERED_BYTES = 10 * MiB;
const SLOW_QUEUE_DELAY_US = 2_000_000; // keeps an inference pending for 2 s

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type LogLine = Record<string, unknown> & { level: number; msg: string };
const logLines: LogLine[] = [];
let server: Awaited<ReturnType<typeof startServer>>;
let repo: string;
let port: number;

before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'maas-abuse-'));
  await writeDemoRepository(repo);
  const add = async (name: string, config: unknown, bytes: Uint8Array) => {
    await mkdir(join(repo, name, '1'), { recursive: true });
    await writeFile(join(repo, name, 'config.json'), JSON.stringify(config));
    await writeFile(join(repo, name, '1', 'model.onnx'), bytes);
  };
  await add(
    'flat',
    {},
    encodeModel({
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['n'] }],
      outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['n'] }],
    }),
  );
  await add(
    'outer',
    {},
    encodeModel({
      nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
      inputs: [
        { name: 'a', dataType: 'FLOAT', shape: ['m', 1] },
        { name: 'b', dataType: 'FLOAT', shape: [1, 'n'] },
      ],
      outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['m', 'n'] }],
    }),
  );
  await add(
    'slowq',
    { max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: SLOW_QUEUE_DELAY_US } },
    buildIdentityModel(),
  );
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logLines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  server = await startServer({
    modelRepository: repo,
    httpPort: 0,
    host: '127.0.0.1',
    logger,
    maxBodyBytes: MAX_BODY_BYTES,
    maxBufferedBodyBytes: MAX_BUFFERED_BYTES,
    intraOpThreads: 1,
  });
  port = server.httpPort;
  startUnreachable();
});

after(async () => {
  await server?.close();
  if (repo) await rm(repo, { recursive: true, force: true });
});

// ---- raw sockets ---------------------------------------------------------------------------------

interface Exchange {
  bytes: Buffer;
  text: string;
  closed: boolean; // the server closed (or reset) the connection
  closedAfterMs: number;
}

// Writes `parts` (a gap between them), then reads until the server closes
// the connection, `waitMs` passes, or `untilResponses` responses came.
function exchange(
  parts: Array<string | Buffer>,
  waitMs: number,
  gapMs = 0,
  untilResponses = Infinity,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const startedMs = Date.now();
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ bytes, text: bytes.toString('latin1'), closed, closedAfterMs: Date.now() - startedMs });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (responses(Buffer.concat(chunks).toString('latin1')).length >= untilResponses) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    const writeParts = async (): Promise<void> => {
      for (let i = 0; i < parts.length && !done; i++) {
        if (i > 0 && gapMs > 0) await sleep(gapMs);
        if (!socket.destroyed) socket.write(parts[i]);
      }
    };
    // An async listener's rejection would be unhandled (and end the test
    // process); a failed write ends the exchange like a closed socket.
    socket.on('connect', () => {
      writeParts().catch(() => finish(true));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// The responses in a byte stream, in order (Content-Length framed).
function responses(text: string): Response[] {
  const out: Response[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: rest.slice(headEnd + 4, headEnd + 4 + length),
    });
    rest = rest.slice(headEnd + 4 + length);
  }
  return out;
}

function request(method: string, path: string, headers: Record<string, string | number> = {}, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: test', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (
    body !== '' &&
    !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')
  ) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const IDENTITY_BODY = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(1) }],
});

async function assertServing(): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/identity/infer`, { method: 'POST', body: IDENTITY_BODY });
  assert.equal(res.status, 200);
  assert.deepEqual(
    ((await res.json()) as { outputs: Array<{ data: number[] }> }).outputs[0].data,
    new Array(16).fill(1),
  );
}

function logsWith(field: string, value: unknown): LogLine[] {
  return logLines.filter((line) => line[field] === value);
}

async function closedCount(reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = text.match(new RegExp(`maas_http_closed_connections_total\\{reason="${reason}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

// ---- what uWS v20 never hands to a route ------------------------------------------------------------
// Started in before() and awaited in the last test, so their ~10 s (uWS's
// idle timeout) overlap everything else.

const UNREACHABLE: Record<string, string> = {
  'HTTP/1.0': 'GET /v2/health/live HTTP/1.0\r\nHost: test\r\n\r\n',
  'HTTP/1.0 without Host': 'GET /v2/health/live HTTP/1.0\r\n\r\n',
  'HTTP/1.1 without Host': 'GET /v2/health/live HTTP/1.1\r\n\r\n',
  'a space in the path': 'GET /v2/health /live HTTP/1.1\r\nHost: test\r\n\r\n',
  'a NUL in the path': 'GET /v2/health\u0000/live HTTP/1.1\r\nHost: test\r\n\r\n',
  'an absolute-form URI': 'GET http://test/v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n',
  'OPTIONS *': 'OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n',
  'HTTP/2 preface': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'more than 50 headers': `GET /v2/health/live HTTP/1.1\r\nHost: test\r\n${Array.from({ length: 60 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`,
  'a header without a colon': 'GET /v2/health/live HTTP/1.1\r\nHost: test\r\nNoColon\r\n\r\n',
  'a lowercase method': 'get /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n',
  'an unknown method': 'BREW /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n',
  'Transfer-Encoding and Content-Length':
    'POST /v2/repository/index HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  'a 1 MiB header': `GET /v2/health/live HTTP/1.1\r\nHost: test\r\nX-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`,
};
const unreachable = new Map<string, Promise<Exchange>>();

function startUnreachable(): void {
  for (const [name, text] of Object.entries(UNREACHABLE)) unreachable.set(name, exchange([text], 16_000));
}

// ---- framing ----------------------------------------------------------------------------------------------

test('framing uWS leaves to us is refused with 400 MALFORMED_HTTP, Connection: close, and the connection ends', async () => {
  const cases: Record<string, string> = {
    'different Content-Length values':
      'POST /v2/models/identity/infer HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello',
    'a Transfer-Encoding that is not chunked':
      'POST /v2/repository/index HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    'two Host headers': 'GET /v2/health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
  };
  const before = await closedCount('conflicting_content_length');
  for (const [name, text] of Object.entries(cases)) {
    const got = await exchange([text], 5000);
    const [res, ...more] = responses(got.text);
    assert.equal(res?.status, 400, `${name}: ${got.text}`);
    assert.equal(res.headers.connection, 'close', name);
    assert.equal(JSON.parse(res.body).code, 'MALFORMED_HTTP', name);
    assert.deepEqual(more, [], name);
    assert.ok(got.closed, `${name}: the connection stays open`);
  }
  assert.equal(await closedCount('conflicting_content_length'), before + 1);
  // The same Content-Length twice is one length: served.
  const twice = await exchange(
    [
      request(
        'POST',
        '/v2/models/identity/infer',
        { 'Content-Length': Buffer.byteLength(IDENTITY_BODY), 'content-length': Buffer.byteLength(IDENTITY_BODY) },
        IDENTITY_BODY,
      ),
    ],
    2000,
    0,
    1,
  );
  assert.equal(responses(twice.text)[0]?.status, 200, twice.text);
});

// uWS frames the body by the first Content-Length; a proxy that used the
// last would have sent the next bytes as this request's body. They must
// never run as a request of their own.
test('a request smuggled behind conflicting Content-Lengths never reaches a route', async () => {
  const smuggled = request('POST', '/v2/models/identity/infer', { 'x-request-id': 'smuggled-request' }, IDENTITY_BODY);
  const text = `POST /v2/models/identity/infer HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: ${5 + smuggled.length}\r\n\r\nhello${smuggled}`;
  const got = await exchange([text], 5000);
  assert.ok(got.closed);
  assert.equal(got.bytes.length, 0, got.text);
  await sleep(20);
  assert.deepEqual(logsWith('requestId', 'smuggled-request'), []);
  assert.ok(logLines.some((l) => l.reason === 'conflicting_content_length' && /uWS closed the connection/.test(l.msg)));
  await assertServing();
});

test('an invalid Content-Length ends the connection without a 500 or a stack in the log', async () => {
  for (const length of ['-1', '1.5', '1000000000', 'abc']) {
    const errorsBefore = logLines.filter((l) => l.level >= 50).length;
    const got = await exchange(
      [`POST /v2/models/identity/infer HTTP/1.1\r\nHost: test\r\nContent-Length: ${length}\r\n\r\n{}`],
      5000,
    );
    assert.ok(got.closed, length);
    assert.equal(responses(got.text).filter((r) => r.status >= 500).length, 0, `${length}: ${got.text}`);
    await sleep(20);
    assert.equal(logLines.filter((l) => l.level >= 50).length, errorsBefore, `${length}: logged as an error`);
  }
  assert.ok((await closedCount('invalid_content_length')) >= 4);
  await assertServing();
});

// ---- pipelining -------------------------------------------------------------------------------------------

test('pipelined requests answered without waiting for the engine come back in order', async () => {
  const got = await exchange(
    [
      [
        request('GET', '/v2/health/live', { 'x-request-id': 'p1' }),
        request('GET', '/v2/models/identity', { 'x-request-id': 'p2' }),
        request('POST', '/v2/models/identity/infer', { 'x-request-id': 'p3' }, '{"inputs": ['), // 400 before the engine
        request('POST', '/v2/repository/index', { 'x-request-id': 'p4' }, '{"ready": true}'),
        request('GET', '/v2/models/nope', { 'x-request-id': 'p5' }),
        request('GET', '/v2/health/ready', { 'x-request-id': 'p6' }),
      ].join(''),
    ],
    3000,
    0,
    6,
  );
  const answered = responses(got.text);
  assert.deepEqual(
    answered.map((r) => [r.headers['x-request-id'], r.status]),
    [
      ['p1', 200],
      ['p2', 200],
      ['p3', 400],
      ['p4', 200],
      ['p5', 404],
      ['p6', 200],
    ],
  );
});

// uWS v20 closes a connection when a request arrives while the previous
// answer is still pending (asynchronous pipelining is not supported, by
// design): it must end at once (not hang), be logged and counted as such,
// and leave the server serving.
test('a request pipelined behind a pending inference: the connection ends at once, logged and counted', async () => {
  const before = await closedCount('async_pipelining');
  const got = await exchange(
    [
      request('POST', '/v2/models/slowq/infer', { 'x-request-id': 'pending-one' }, IDENTITY_BODY) +
        request('GET', '/v2/health/live'),
    ],
    SLOW_QUEUE_DELAY_US / 1000,
  );
  assert.ok(got.closed, 'closed before the inference could answer');
  assert.equal(got.bytes.length, 0);
  await sleep(50);
  assert.equal(await closedCount('async_pipelining'), before + 1);
  assert.ok(logsWith('requestId', 'pending-one').some((l) => l.reason === 'async_pipelining'));
  await assertServing();
});

// ---- bodies -------------------------------------------------------------------------------------------------

test('a body over the limit gets 413 with Connection: close while the client is still sending', async () => {
  const declared = await exchange(
    [
      `POST /v2/models/flat/infer HTTP/1.1\r\nHost: test\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
      Buffer.alloc(64 * 1024, 0x20),
    ],
    5000,
    20,
  );
  const [res] = responses(declared.text);
  assert.equal(res?.status, 413);
  assert.equal(res.headers.connection, 'close');
  assert.equal(JSON.parse(res.body).code, 'BODY_TOO_LARGE');
  assert.ok(declared.closed);
  const chunk = `${MiB.toString(16)}\r\n${' '.repeat(MiB)}\r\n`;
  const chunked = await exchange(
    [
      `POST /v2/models/flat/infer HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ...new Array(5).fill(chunk),
    ],
    5000,
    10,
  );
  assert.equal(responses(chunked.text)[0]?.status, 413, chunked.text.slice(0, 200));
  assert.ok(chunked.closed);
});

// A declared Content-Length used to reserve its whole buffer before any byte
// arrived: 40 connections announcing 4 MiB and sending one byte held 160 MiB.
test('memory is taken as body bytes arrive, not from the declared Content-Length', async () => {
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const sockets = await Promise.all(
    Array.from(
      { length: 40 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(
              `POST /v2/models/flat/infer HTTP/1.1\r\nHost: test\r\nContent-Length: ${MAX_BODY_BYTES}\r\n\r\n{`,
            );
            resolve(socket);
          });
          socket.on('error', () => {});
        }),
    ),
  );
  await sleep(200);
  const grownMiB = (process.memoryUsage().arrayBuffers - before) / MiB;
  for (const socket of sockets) socket.destroy();
  assert.ok(grownMiB < 16, `40 announced 4 MiB bodies hold ${grownMiB.toFixed(1)} MiB`);
  await sleep(50);
  await assertServing();
});

function flatBinaryRequest(floats: number, id: string): { head: string; blob: Buffer } {
  const header = JSON.stringify({
    inputs: [{ name: 'x', shape: [floats], datatype: 'FP32', parameters: { binary_data_size: floats * 4 } }],
    parameters: { binary_data_output: true },
  });
  const blob = Buffer.alloc(floats * 4);
  const head =
    `POST /v2/models/flat/infer HTTP/1.1\r\nHost: test\r\nx-request-id: ${id}\r\nInference-Header-Content-Length: ${header.length}\r\n` +
    `Content-Length: ${header.length + blob.length}\r\n\r\n${header}`;
  return { head, blob };
}

// The bodies held at once across connections have a budget (10 MiB here):
// past it a request is refused 503 SERVER_BUSY (and its connection closed);
// the bytes come back when requests end, answered or abandoned.
test('bodies held at once stay within the budget: the one past it gets 503 SERVER_BUSY; abandoned uploads give theirs back', async () => {
  const floats = 768 * 1024; // 3 MiB each: three fit in 10 MiB, a fourth does not
  const held = Array.from({ length: 4 }, (_, i) => {
    const { head, blob } = flatBinaryRequest(floats, `held-${i}`);
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return { socket, head, blob, chunks, closed };
  });
  for (const h of held) {
    h.socket.write(h.head);
    h.socket.write(h.blob.subarray(0, h.blob.length - 1)); // all but the last byte
    await sleep(100);
  }
  await sleep(200);
  const [busy] = responses(Buffer.concat(held[3].chunks).toString('latin1'));
  assert.equal(busy?.status, 503, Buffer.concat(held[3].chunks).toString('latin1').slice(0, 300));
  assert.equal(JSON.parse(busy.body).code, 'SERVER_BUSY');
  assert.equal(busy.headers.connection, 'close');
  await held[3].closed;
  // The first three finish and are answered.
  for (const h of held.slice(0, 3)) h.socket.write(h.blob.subarray(h.blob.length - 1));
  await sleep(300);
  for (const h of held.slice(0, 3)) {
    assert.equal(responses(Buffer.concat(h.chunks).toString('latin1'))[0]?.status, 200);
    h.socket.destroy();
  }
  // 50 uploads abandoned halfway: their bytes come back to the budget, so
  // three 3 MiB uploads fit again afterwards.
  await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const { head, blob } = flatBinaryRequest(floats, `abandoned-${i}`);
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(head);
            socket.write(blob.subarray(0, 200 * 1024), () =>
              setTimeout(() => {
                socket.destroy();
                resolve();
              }, 20),
            );
          });
          socket.on('error', () => resolve());
        }),
    ),
  );
  await sleep(100);
  const again = await Promise.all(
    Array.from({ length: 3 }, (_, i) => {
      const { head, blob } = flatBinaryRequest(floats, `again-${i}`);
      return exchange([head, blob], 5000, 0, 1);
    }),
  );
  for (const got of again) assert.equal(responses(got.text)[0]?.status, 200, got.text.slice(0, 300));
  assert.ok((await closedCount('server_busy')) >= 1);
});

// ---- slow readers, outputs too large ---------------------------------------------------------------------

test('a client that never reads an 8 MB answer does not stall the others', async () => {
  const header = JSON.stringify({
    inputs: [
      { name: 'a', shape: [2000, 1], datatype: 'FP32', data: new Array(2000).fill(1) },
      { name: 'b', shape: [1, 1000], datatype: 'FP32', data: new Array(1000).fill(2) },
    ],
    parameters: { binary_data_output: true },
  });
  const stuck = net.connect(port, '127.0.0.1', () =>
    stuck.write(request('POST', '/v2/models/outer/infer', {}, header)),
  );
  stuck.on('error', () => {});
  stuck.pause(); // never reads
  await sleep(300);
  for (let i = 0; i < 5; i++) await assertServing();
  stuck.destroy();
  await sleep(50);
  await assertServing();
});

test('outputs too large are 413 OUTPUT_TOO_LARGE: beyond the engine limit, and beyond a JSON string (pointing to binary)', async () => {
  // 34571 x 32769 floats = 4.5 GB from a 328 KB request (this killed the process).
  const m = 34571;
  const n = 32769;
  const header = JSON.stringify({
    inputs: [
      { name: 'a', shape: [m, 1], datatype: 'FP32', parameters: { binary_data_size: m * 4 } },
      { name: 'b', shape: [1, n], datatype: 'FP32', parameters: { binary_data_size: n * 4 } },
    ],
  });
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/outer/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(header.length) },
    body: Buffer.concat([Buffer.from(header), Buffer.alloc((m + n) * 4)]),
  });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'OUTPUT_TOO_LARGE');
  // 6000 x 5000 floats = 120 MB: fine in binary, too much text for JSON.
  const json = JSON.stringify({
    inputs: [
      { name: 'a', shape: [6000, 1], datatype: 'FP32', data: new Array(6000).fill(1 / 3) },
      { name: 'b', shape: [1, 5000], datatype: 'FP32', data: new Array(5000).fill(1) },
    ],
  });
  const tooLong = await fetch(`http://127.0.0.1:${port}/v2/models/outer/infer`, { method: 'POST', body: json });
  assert.equal(tooLong.status, 413);
  const body = (await tooLong.json()) as { code: string; error: string };
  assert.equal(body.code, 'OUTPUT_TOO_LARGE');
  assert.match(body.error, /binary_data_output/);
  await assertServing();
});

// ---- last: the unreachable cases, and memory over the whole suite ---------------------------------------

test('requests uWS v20 cannot parse or route get no answer, their connection ends, and the server serves on', async () => {
  await assertServing(); // while they hang
  for (const [name, pending] of unreachable) {
    const got = await pending;
    assert.equal(got.bytes.length, 0, `${name}: ${got.text}`);
    assert.ok(got.closed, `${name}: still open after ${got.closedAfterMs} ms`);
  }
  await assertServing();
});

test('memory stays flat: hostile traffic leaves neither heap nor RSS behind', async () => {
  const sample = () => {
    gc();
    return process.memoryUsage();
  };
  const start = sample();
  const hostile = Buffer.from(
    `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[${'[],'.repeat(MiB)}[]]}]}`,
  );
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      Array.from({ length: 20 }, () =>
        exchange([request('POST', '/v2/models/flat/infer', { 'content-length': hostile.length }), hostile], 5000, 0, 1),
      ),
    );
    await Promise.all(
      Array.from({ length: 20 }, () =>
        exchange(
          [`POST /v2/models/flat/infer HTTP/1.1\r\nHost: test\r\nContent-Length: ${MAX_BODY_BYTES}\r\n\r\n{"inp`],
          100,
        ),
      ),
    );
  }
  await sleep(100);
  const end = sample();
  const heapMiB = (end.heapUsed - start.heapUsed) / MiB;
  const rssMiB = (end.rss - start.rss) / MiB;
  assert.ok(heapMiB < 32, `heap grew by ${heapMiB.toFixed(1)} MiB`);
  assert.ok(rssMiB < 256, `RSS grew by ${rssMiB.toFixed(1)} MiB`);
  await assertServing();
});

// Last, as it closes the server: queued work goes out at once rather than
// waiting out its queue delay, every answer carries Connection: close, and
// a request arriving on an open connection during the close gets a 503.
test('shutdown: batchers flush early, answers say Connection: close, late requests get 503 not a reset', async () => {
  const keptAlive = net.connect(port, '127.0.0.1');
  const keptChunks: Buffer[] = [];
  keptAlive.on('data', (c) => keptChunks.push(c));
  keptAlive.on('error', () => {});
  await new Promise<void>((resolve) => keptAlive.on('connect', () => resolve()));
  keptAlive.write(request('GET', '/v2/health/live'));
  await sleep(50);
  const startedMs = Date.now();
  const queued = fetch(`http://127.0.0.1:${port}/v2/models/slowq/infer`, { method: 'POST', body: IDENTITY_BODY }).then(
    async (res) => ({ status: res.status, connection: res.headers.get('connection'), ms: Date.now() - startedMs }),
  );
  await sleep(50);
  const closed = server.close();
  await sleep(20);
  keptAlive.write(request('GET', '/v2', { 'x-request-id': 'late' }));
  const answer = await queued;
  assert.equal(answer.status, 200);
  assert.equal(answer.connection, 'close');
  assert.ok(answer.ms < SLOW_QUEUE_DELAY_US / 1000, `answered after ${answer.ms} ms: the queue delay was waited out`);
  await sleep(100);
  const [, late] = responses(Buffer.concat(keptChunks).toString('latin1'));
  assert.equal(late?.status, 503);
  assert.equal(late.headers.connection, 'close');
  assert.equal(JSON.parse(late.body).code, 'SHUTTING_DOWN');
  keptAlive.destroy();
  await closed;
});
