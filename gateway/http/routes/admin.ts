// The registry's management API on the gateway's port: every route under
// /api/v1 (docs/registry.md "Management API"). This module only moves bytes:
// it opens the pipeline call (auth; operation 'admin'), reads a small JSON
// body, or for an upload (PUT /api/v1/models/{m}/versions/{v}) streams the
// body into the API's spool as it arrives, under the upload size limit, and
// answers what the API returns. The API (registry/api.ts) decides everything else.
import { MaasError } from '../../../common/errors';
import type { Principal } from '../../inference/call';
import type { CancelListener } from '../../inference/cancel';
import { readBody } from '../body';
import type { Exchange, HttpFrontEnd } from '../exchange';
import type { RequestHead } from '../request-head';

const MAX_JSON_BODY_BYTES = 1024 * 1024;
const UPLOAD_PATH = /^\/api\/v1\/models\/([^/]+)\/versions\/([^/]+)$/;

export interface AdminRequest {
  method: string; // upper case
  path: string; // '/api/v1/...', not decoded
  query: URLSearchParams;
  principal: Principal;
  source: string; // the caller's address
  body: Buffer; // empty for an upload (the bytes are in the spool)
}

export interface AdminResponse {
  status: number;
  body?: unknown; // JSON; none for 204
  // A body of unknown length (an export), written chunk by chunk as the
  // client reads; an error after the first chunk cuts the connection.
  stream?: { contentType: string; chunks: AsyncIterable<string> };
}

export interface SpooledFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

// Where an upload's bytes go while they arrive (a temporary file, hashed as
// it is written). Exactly one of end() or abort() is called.
export interface UploadSpool {
  write(chunk: Uint8Array): void;
  end(): Promise<SpooledFile>;
  abort(): Promise<void>;
}

export interface AdminApi {
  readonly maxUploadBytes: number;
  handle(request: AdminRequest): Promise<AdminResponse>;
  openSpool(): UploadSpool;
  // `body` settles when the last byte is spooled (or rejects: too large,
  // aborted); the API claims the version first, so a conflict is answered
  // without waiting for the bytes.
  upload(request: AdminRequest, model: string, version: string, body: Promise<SpooledFile>): Promise<AdminResponse>;
}

export function isAdminPath(path: string): boolean {
  return path === '/api/v1' || path.startsWith('/api/v1/');
}

export function startAdminRoute(
  fe: HttpFrontEnd,
  ex: Exchange,
  head: RequestHead,
  method: string,
  path: string,
  query: string,
): void {
  const api = fe.deps.admin;
  const admitted = fe.begin(ex, head, 'admin');
  const source = ex.remoteAddress();
  const upper = method.toUpperCase();
  const upload = upper === 'PUT' ? UPLOAD_PATH.exec(path) : null;
  let body: Promise<Buffer>;
  let spooled: Promise<SpooledFile> | null = null;
  if (!api) {
    body = Promise.reject(new MaasError('NOT_FOUND', 'the management API needs the registry'));
  } else if (upload) {
    spooled = spoolBody(ex, head, api);
    body = Promise.resolve(Buffer.alloc(0));
  } else {
    body = readBody(ex.responder, fe.bodyOptions(head, Math.min(fe.maxBodyBytes, MAX_JSON_BODY_BYTES)));
  }
  body.catch(() => undefined); // awaited below; an early refusal must not leave it unhandled
  void answer(
    fe,
    ex,
    admitted,
    async (principal) => {
      if (!api) throw new MaasError('NOT_FOUND', 'the management API needs the registry (start with `maas serve`)');
      const request: AdminRequest = {
        method: upper,
        path,
        query: new URLSearchParams(query),
        principal,
        source,
        body: await body,
      };
      if (upload && spooled) return api.upload(request, upload[1], upload[2], spooled);
      return api.handle(request);
    },
    upload !== null,
  );
}

async function answer(
  fe: HttpFrontEnd,
  ex: Exchange,
  admitted: void | Promise<void>,
  work: (principal: Principal) => Promise<AdminResponse>,
  uploading: boolean,
): Promise<void> {
  // An answer before the whole upload arrived: do not read the rest.
  const stopReading = () => {
    if (uploading && !received.has(ex)) ex.responder.closeConnection = true;
  };
  try {
    if (admitted) await admitted;
    const call = ex.call;
    if (!call) throw new MaasError('INTERNAL', 'the call ended early');
    const response = await work(call.principal);
    stopReading();
    if (response.stream) {
      const headers = [['Content-Type', response.stream.contentType] as const, ...fe.baseHeaders(ex)];
      await ex.responder.sendChunked(response.status, headers, response.stream.chunks);
      fe.succeed(ex);
    } else if (response.body === undefined) {
      ex.responder.send(response.status, fe.baseHeaders(ex));
      fe.succeed(ex);
    } else {
      fe.sendJson(ex, response.status, response.body);
    }
  } catch (err) {
    stopReading();
    fe.sendError(ex, err);
  }
}

// Exchanges whose whole body has arrived (a refusal may then keep the connection).
const received = new WeakSet<Exchange>();

// Streams the body into a spool as it arrives. Rejects with BODY_TOO_LARGE
// (declared or counted), CANCELLED when the client goes away; the spool is
// then aborted (its file removed).
function spoolBody(ex: Exchange, head: RequestHead, api: AdminApi): Promise<SpooledFile> {
  const { responder } = ex;
  const maxBytes = api.maxUploadBytes;
  const tooLarge = () =>
    new MaasError('BODY_TOO_LARGE', `the model file exceeds the upload limit of ${maxBytes} bytes`);
  if (head.contentLength !== '' && Number(head.contentLength) > maxBytes) {
    responder.markReceived();
    return Promise.reject(tooLarge());
  }
  const spool = api.openSpool();
  return new Promise<SpooledFile>((resolve, reject) => {
    let bytes = 0;
    let settled = false;
    const fail = (err: MaasError) => {
      if (settled) return;
      settled = true;
      responder.signal.unsubscribe(listener);
      void spool.abort().finally(() => reject(err));
    };
    const listener: CancelListener = {
      onCancel: () => fail(new MaasError('CANCELLED', 'the client closed the connection during the upload')),
    };
    responder.signal.subscribe(listener);
    responder.onData((chunk, isLast) => {
      if (settled) return;
      bytes += chunk.byteLength;
      if (bytes > maxBytes) return fail(tooLarge());
      // uWS neuters the chunk after this callback: hand the spool a copy.
      spool.write(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        settled = true;
        responder.signal.unsubscribe(listener);
        responder.markReceived();
        received.add(ex);
        spool.end().then(resolve, reject);
      }
    });
  });
}
