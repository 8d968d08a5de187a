// Optional response compression (docs/protocol.md "Binary tensor data"): gzip or deflate when the
// client's Accept-Encoding allows it. Small bodies go out as they are: the
// gzip framing would cost more than it saves.
import * as zlib from 'node:zlib';

export type ResponseEncoding = 'gzip' | 'deflate' | null;

export const MIN_COMPRESS_BYTES = 1024;

// Picks gzip, else deflate, from an Accept-Encoding header ('' = none);
// a coding with q=0 is refused.
export function pickEncoding(acceptEncoding: string): ResponseEncoding {
  if (acceptEncoding === '') return null;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [coding, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    accepted.add(coding.trim());
  }
  if (accepted.has('gzip')) return 'gzip';
  if (accepted.has('deflate')) return 'deflate';
  return null;
}

// Compresses off the JS thread (zlib's thread pool). Fastest level: the
// point is to save bandwidth without adding much latency.
export function compress(body: Uint8Array, encoding: 'gzip' | 'deflate'): Promise<Buffer> {
  const options = { level: zlib.constants.Z_BEST_SPEED };
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === 'gzip') zlib.gzip(body, options, done);
    else zlib.deflate(body, options, done);
  });
}
