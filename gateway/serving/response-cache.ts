// The response cache (docs/resilience.md "Response cache"): a model whose
// config says `response_cache: {enable: true, ttl_seconds}` answers a
// request it has answered before from the cache, without running.
//
// - Key: SHA-256 over the tenant, model, version, every input's name,
//   datatype, shape and bytes, the requested outputs with the parameters that
//   change results, and the request's own parameters. The tenant is in the
//   key, so tenants never share an entry (anonymous callers share theirs).
// - Value: the outputs as MessagePack (name, datatype, shape, raw bytes).
// - Store: Redis when `--redis-url` is set (redis-cache.ts), else an
//   in-process LRU bounded by bytes. A store that fails is a miss (lookup)
//   or a no-op (insert): the cache never fails a request.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { pack, unpack } from 'msgpackr';
import type { Logger } from '../../common/logger';
import { isKServeDatatype } from '../inference/datatypes';
import { blobBytes, viewBlob } from '../inference/tensor-bytes';
import type { InferOutput, InferRequest } from '../inference/types';

export interface ResponseCacheStore {
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MEMORY_CACHE_BYTES = 64 * 1024 * 1024;

// The all-in-one store: least recently used entries go first past maxBytes.
export class MemoryResponseCache implements ResponseCacheStore {
  private readonly lru: LRUCache<string, Buffer>;

  constructor(maxBytes = DEFAULT_MEMORY_CACHE_BYTES) {
    this.lru = new LRUCache<string, Buffer>({ maxSize: maxBytes, sizeCalculation: (v) => Math.max(1, v.byteLength) });
  }

  get(key: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.lru.get(key));
  }

  set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlSeconds * 1000 });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.lru.clear();
    return Promise.resolve();
  }
}

// Output parameters that only choose an encoding; any other may change results.
const ENCODING_ONLY = new Set(['binary_data']);

export function responseCacheKey(tenant: string | null, version: string, request: InferRequest): string {
  const h = createHash('sha256');
  const field = (s: string) => {
    h.update(String(s.length));
    h.update(':');
    h.update(s);
  };
  field(tenant === null ? '' : `t/${tenant}`);
  field(request.modelName);
  field(version);
  const inputs = [...request.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const input of inputs) {
    field(input.name);
    field(input.datatype);
    field(input.shape.join(','));
    field(stableJson(input.parameters ?? {}));
    const bytes = blobBytes(input.data);
    h.update(String(bytes.byteLength));
    h.update(bytes);
  }
  const outputs = request.outputs?.map((o) => {
    const params = Object.entries(o.parameters ?? {}).filter(([k]) => !ENCODING_ONLY.has(k));
    return `${o.name}${stableJson(Object.fromEntries(params))}`;
  });
  field(outputs ? outputs.join('\u0000') : '*');
  field(stableJson(request.parameters));
  return h.digest('base64url');
}

function stableJson(o: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

interface PackedOutput {
  n: string;
  d: string;
  s: number[];
  b: Uint8Array;
}

export function encodeOutputs(outputs: readonly InferOutput[]): Buffer {
  return pack(outputs.map((o): PackedOutput => ({ n: o.name, d: o.datatype, s: o.shape, b: blobBytes(o.data) })));
}

// undefined when the bytes are not what encodeOutputs wrote.
export function decodeOutputs(value: Buffer): InferOutput[] | undefined {
  try {
    const packed = unpack(value) as PackedOutput[];
    if (!Array.isArray(packed)) return undefined;
    return packed.map((p) => {
      if (!isKServeDatatype(p.d) || !(p.b instanceof Uint8Array)) throw new Error('not a cached output');
      return { name: p.n, datatype: p.d, shape: p.s, data: viewBlob(p.b, 0, p.b.byteLength, p.d, p.n) };
    });
  } catch {
    return undefined;
  }
}

// Look-ups and inserts that never throw.
export class ResponseCache {
  private failing = false;

  constructor(
    private readonly store: ResponseCacheStore,
    private readonly logger: Logger,
  ) {}

  async lookup(key: string): Promise<InferOutput[] | undefined> {
    try {
      const value = await this.store.get(key);
      this.recovered();
      return value === undefined ? undefined : decodeOutputs(value);
    } catch (err) {
      this.failed(err);
      return undefined;
    }
  }

  insert(key: string, outputs: readonly InferOutput[], ttlSeconds: number): void {
    let value: Buffer;
    try {
      value = encodeOutputs(outputs);
    } catch (err) {
      this.failed(err);
      return;
    }
    this.store.set(key, value, ttlSeconds).then(
      () => this.recovered(),
      (err: unknown) => this.failed(err),
    );
  }

  close(): Promise<void> {
    return this.store.close();
  }

  // Logged once per outage, not per request.
  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn({ err }, 'the response cache is unavailable; requests run uncached');
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info('the response cache is available again');
  }
}
