// Reads a request body into one Buffer under a byte limit, then undoes a
// gzip/deflate Content-Encoding under the same limit (PROTOCOL.md 1.8:
// 64 MiB by default, also after decompression).
import * as zlib from 'node:zlib';
import { MaasError } from '../../common/errors';
import type { Responder } from './responder';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface BodyOptions {
  maxBodyBytes: number;
  contentLength: string; // the raw header, '' when absent
  contentEncoding: string; // the raw header, '' when absent
}

function tooLarge(maxBodyBytes: number): MaasError {
  return new MaasError('BODY_TOO_LARGE', `request body exceeds the limit of ${maxBodyBytes} bytes`);
}

// Must be called in the synchronous part of the route handler (uWS drops
// body chunks that arrive before onData is attached). Rejects with
// BODY_TOO_LARGE as soon as the declared or running size passes the limit;
// later chunks are then ignored.
export function readBody(responder: Responder, options: BodyOptions): Promise<Buffer> {
  const { maxBodyBytes } = options;
  const declaredBytes = options.contentLength === '' ? null : Number(options.contentLength);
  if (declaredBytes !== null && declaredBytes > maxBodyBytes) return Promise.reject(tooLarge(maxBodyBytes));
  return new Promise<Buffer>((resolve, reject) => {
    // Known length: copy each chunk into one preallocated buffer. Unknown
    // (chunked): keep copies and concatenate once at the end.
    const whole = declaredBytes !== null && Number.isSafeInteger(declaredBytes) ? Buffer.allocUnsafe(declaredBytes) : null;
    const parts: Buffer[] = [];
    let receivedBytes = 0;
    let settled = false;
    responder.signal.addEventListener('abort', () => {
      if (settled) return;
      settled = true;
      reject(new MaasError('CANCELLED', 'client closed the connection while sending the body'));
    }, { once: true });
    responder.onData((chunk, isLast) => {
      if (settled) return;
      const nextBytes = receivedBytes + chunk.byteLength;
      if (nextBytes > maxBodyBytes || (whole && nextBytes > whole.length)) {
        settled = true;
        reject(nextBytes > maxBodyBytes ? tooLarge(maxBodyBytes) : new MaasError('INVALID_REQUEST', 'body longer than Content-Length'));
        return;
      }
      // uWS neuters the chunk after this callback: copy now.
      const view = new Uint8Array(chunk);
      if (whole) whole.set(view, receivedBytes);
      else if (view.byteLength > 0) parts.push(Buffer.from(view));
      receivedBytes = nextBytes;
      if (!isLast) return;
      settled = true;
      const body = whole ? whole.subarray(0, receivedBytes) : Buffer.concat(parts, receivedBytes);
      decode(body, options.contentEncoding, maxBodyBytes).then(resolve, reject);
    });
  });
}

// Undoes Content-Encoding; the decompressed size is capped too.
export async function decode(body: Buffer, contentEncoding: string, maxBodyBytes: number): Promise<Buffer> {
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new MaasError('INVALID_REQUEST', `unsupported Content-Encoding '${contentEncoding}' (use gzip or deflate)`);
  }
  const options: zlib.ZlibOptions = { maxOutputLength: maxBodyBytes };
  try {
    if (encoding === 'deflate') {
      // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate.
      try {
        return await inflate(body, options);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
        return await inflateRaw(body, options);
      }
    }
    return await gunzip(body, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBodyBytes);
    throw new MaasError('INVALID_REQUEST', `cannot decompress the ${encoding} body: ${(err as Error).message}`);
  }
}

function gunzip(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.gunzip(body, options, (err, out) => (err ? reject(err) : resolve(out))));
}
function inflate(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.inflate(body, options, (err, out) => (err ? reject(err) : resolve(out))));
}
function inflateRaw(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.inflateRaw(body, options, (err, out) => (err ? reject(err) : resolve(out))));
}
