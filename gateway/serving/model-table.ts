// The routing table: model name → its versions → the runtime that serves a
// request. Lookups are synchronous and allocate nothing; a reload replaces a
// model's whole version map in one assignment (install), so a request is
// routed either entirely before or entirely after a swap.
import { MaasError } from '../../common/errors';
import type { ModelState, RepositoryIndexEntry } from '../inference/model-types';
import { VersionRuntime } from './version-runtime';

// A version that does not serve, kept for the index with its reason.
export interface FailedVersion {
  readonly version: string;
  readonly state: 'UNAVAILABLE';
  readonly reason: string;
}

export type VersionEntry = VersionRuntime | FailedVersion;

export function isRuntime(entry: VersionEntry): entry is VersionRuntime {
  return entry instanceof VersionRuntime;
}

export class ModelSlot {
  versions: ReadonlyMap<string, VersionEntry> = new Map();
  // Why the model as a whole does not serve (broken config, no versions,
  // unloaded); '' when it serves.
  reason = '';
  // The model-level state when no version is listed.
  state: ModelState = 'UNAVAILABLE';
  // Unloaded on request: the index still lists it, readiness ignores it.
  unloaded = false;
  private defaultRuntime: VersionRuntime | null = null;

  constructor(readonly name: string) {}

  // Swaps in a new version map at once; `defaultVersion` (a catalog alias)
  // wins over the newest ready version when it is ready.
  install(versions: ReadonlyMap<string, VersionEntry>, reason: string, defaultVersion?: string): void {
    this.versions = versions;
    this.reason = reason;
    this.unloaded = false;
    this.state = 'UNAVAILABLE';
    let best: VersionRuntime | null = null;
    for (const entry of versions.values()) {
      if (!isRuntime(entry) || entry.state !== 'READY') continue;
      if (!best || Number(entry.version) > Number(best.version)) best = entry;
    }
    const alias = defaultVersion === undefined ? undefined : versions.get(defaultVersion);
    this.defaultRuntime = alias && isRuntime(alias) && alias.state === 'READY' ? alias : best;
  }

  // Stops routing to every version (unload in progress).
  closeRouting(state: ModelState, reason: string): void {
    this.defaultRuntime = null;
    this.state = state;
    this.reason = reason;
  }

  runtimes(): VersionRuntime[] {
    const out: VersionRuntime[] = [];
    for (const entry of this.versions.values()) if (isRuntime(entry)) out.push(entry);
    return out;
  }

  // The runtime for a request; throws the protocol's errors.
  route(version: string | undefined): VersionRuntime {
    if (version === undefined || version === '') {
      const rt = this.defaultRuntime;
      if (rt && rt.state === 'READY') return rt;
      throw new MaasError(
        'MODEL_NOT_READY',
        `model '${this.name}' has no ready version${this.reason ? `: ${this.reason}` : ''}`,
      );
    }
    const entry = this.versions.get(canonicalVersion(version));
    if (!entry)
      throw new MaasError(
        'MODEL_VERSION_NOT_FOUND',
        `Request for unknown model: '${this.name}' version ${version} is not found`,
      );
    if (!isRuntime(entry) || entry.state !== 'READY' || this.defaultRuntime === null) {
      const why = isRuntime(entry) && entry.state === 'READY' ? this.reason : entry.reason;
      throw new MaasError(
        'MODEL_NOT_READY',
        `model '${this.name}' version ${version} is not ready${why ? `: ${why}` : ''}`,
      );
    }
    return entry;
  }

  readyVersions(): string[] {
    if (this.defaultRuntime === null) return [];
    const out: string[] = [];
    for (const entry of this.versions.values())
      if (isRuntime(entry) && entry.state === 'READY') out.push(entry.version);
    return out;
  }

  isReady(): boolean {
    if (this.unloaded) return true; // not the server's to serve any more
    if (this.versions.size === 0 || this.defaultRuntime === null) return false;
    for (const entry of this.versions.values()) if (!isRuntime(entry) || entry.state !== 'READY') return false;
    return true;
  }

  indexEntries(readyOnly: boolean): RepositoryIndexEntry[] {
    if (this.versions.size === 0) return readyOnly ? [] : [{ name: this.name, state: this.state, reason: this.reason }];
    const out: RepositoryIndexEntry[] = [];
    for (const entry of this.versions.values()) {
      if (readyOnly && entry.state !== 'READY') continue;
      const open = isRuntime(entry) && entry.state === 'READY' && entry.circuitOpen;
      out.push({
        name: this.name,
        version: entry.version,
        state: entry.state,
        reason: open ? 'circuit breaker open: not ready until a probe succeeds' : entry.reason,
      });
    }
    return out;
  }
}

// '007' and '7' name one version.
export function canonicalVersion(version: string): string {
  return version.length > 1 && version.charCodeAt(0) === 0x30 ? String(Number(version)) : version;
}

export class ModelTable {
  private readonly slots = new Map<string, ModelSlot>();

  get(name: string): ModelSlot | undefined {
    return this.slots.get(name);
  }

  // The slot of a model, made empty (LOADING) on first use.
  ensure(name: string): ModelSlot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = new ModelSlot(name);
      slot.state = 'LOADING';
      this.slots.set(name, slot);
    }
    return slot;
  }

  delete(name: string): void {
    this.slots.delete(name);
  }

  // Throws MODEL_NOT_FOUND for a name the table does not hold.
  slot(name: string): ModelSlot {
    const slot = this.slots.get(name);
    if (!slot) throw new MaasError('MODEL_NOT_FOUND', `Request for unknown model: '${name}' is not found`);
    return slot;
  }

  all(): ModelSlot[] {
    return [...this.slots.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
