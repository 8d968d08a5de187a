// The in-process adapter of the key cache port (port.ts): a bounded map with
// a time to live, read without an await on the hot path.
//
// `generation` grows with every forget, so a caller that read a slower tier
// can tell whether a revocation arrived meanwhile and then must not cache
// what it read (it may predate the revocation).
import type { KeyLookup } from '../store';
import type { KeyCache } from './port';

interface Entry {
  lookup: KeyLookup;
  storedMs: number;
}

export class MemoryKeyCache implements KeyCache {
  private readonly entries = new Map<string, Entry>();
  private forgets = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly limit: number,
  ) {}

  get generation(): number {
    return this.forgets;
  }

  get(prefix: string): KeyLookup | undefined {
    const entry = this.entries.get(prefix);
    if (!entry) return undefined;
    if (performance.now() - entry.storedMs < this.ttlMs) return entry.lookup;
    this.entries.delete(prefix);
    return undefined;
  }

  put(prefix: string, lookup: KeyLookup): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(prefix, { lookup, storedMs: performance.now() });
  }

  forget(prefix: string): void {
    this.forgets++;
    this.entries.delete(prefix);
  }

  forgetAll(): void {
    this.forgets++;
    this.entries.clear();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
