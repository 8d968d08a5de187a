// The registry's adapter of the catalog port (gateway/catalog/port.ts): the
// ready versions of every tenant's models, keyed `<tenant>/<model>`. Callers
// never name that key: resolve() maps the name a caller used to it, in the
// caller's tenant first, then among public models (a key holds a '/', which
// no data-plane route accepts in a name, so a caller cannot reach another
// tenant's private model by spelling its key). docs/registry.md "Serving".
//
// Change events come from the registry listener (notify.ts): a version
// becoming ready, an alias moving → `changed`; a model deleted → `removed`.
// The name index is in memory so that resolution is synchronous (the hot
// path awaits nothing); it is rebuilt on every model notice.
import type { Logger } from '../common/logger';
import type { CatalogListener, CatalogModel, CatalogVersion, ModelCatalog } from '../gateway/catalog/port';
import type { ArtifactStore } from './artifacts/port';
import type { RegistryNotice } from './notify';
import type { RegistryStore } from './store';

export const DEFAULT_ALIAS = 'production';

export function modelKey(tenant: string, name: string): string {
  return `${tenant}/${name}`;
}

export class RegistryCatalog implements ModelCatalog {
  readonly kind = 'registry';
  private readonly listeners = new Set<CatalogListener>();
  private byTenant = new Map<string, Set<string>>();
  private publicKeys = new Map<string, string>(); // bare name → key
  private known = new Set<string>(); // keys that had ready versions when last read

  constructor(
    private readonly store: RegistryStore,
    private readonly artifacts: ArtifactStore,
    private readonly logger: Logger,
  ) {}

  async refreshIndex(): Promise<void> {
    const byTenant = new Map<string, Set<string>>();
    const publicKeys = new Map<string, string>();
    for (const m of await this.store.allModels()) {
      let names = byTenant.get(m.tenant);
      if (!names) byTenant.set(m.tenant, (names = new Set()));
      names.add(m.name);
      if (m.visibility === 'public') publicKeys.set(m.name, modelKey(m.tenant, m.name));
    }
    this.byTenant = byTenant;
    this.publicKeys = publicKeys;
  }

  // The serving key for `name` as `tenant` sees it; undefined when neither
  // the tenant nor the public models hold it (the caller then gets whatever
  // the other catalogs hold under that name, or a 404).
  resolve(tenant: string | null, name: string): string | undefined {
    if (tenant !== null && this.byTenant.get(tenant)?.has(name)) return modelKey(tenant, name);
    return this.publicKeys.get(name);
  }

  private indexedKeys(): string[] {
    const keys: string[] = [];
    for (const [tenant, names] of this.byTenant) for (const name of names) keys.push(modelKey(tenant, name));
    return keys;
  }

  // The models with something to serve (at least one ready version).
  async listModels(): Promise<string[]> {
    const keys: string[] = [];
    for (const key of this.indexedKeys()) if (await this.readModel(key)) keys.push(key);
    return keys.sort();
  }

  // null for a key that is not a model with at least one ready version.
  async readModel(key: string): Promise<CatalogModel | null> {
    const slash = key.indexOf('/');
    if (slash <= 0) return null;
    const model = await this.store.model(key.slice(0, slash), key.slice(slash + 1));
    if (!model) {
      this.known.delete(key);
      return null;
    }

    const ready = (await this.store.versions(model.id)).filter((v) => v.status === 'ready' && v.objectKey);
    if (ready.length === 0) {
      this.known.delete(key);
      return null;
    }
    this.known.add(key);
    const aliases = await this.store.aliases(model.id);
    const { artifacts } = this;
    const versions: CatalogVersion[] = ready.map((v) => ({
      version: String(v.version),
      fingerprint: v.sha256 as string,
      sizeBytes: v.sizeBytes ?? 0,
      read: () => artifacts.get(v.objectKey as string),
    }));
    let config = model.config;
    if (config && typeof config === 'object' && !Array.isArray(config)) {
      // The stored config names the model by its bare name; served, it is the key.
      config = { ...(config as Record<string, unknown>) };
      delete (config as Record<string, unknown>).name;
    }
    const out: CatalogModel = { name: key, config, versions };
    const alias = aliases[DEFAULT_ALIAS];
    return alias === undefined ? out : { ...out, defaultVersion: String(alias) };
  }

  subscribe(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // From the listener (every replica) and from this replica's own API after
  // a change (so that its own index is current before it answers).
  async onNotice(notice: RegistryNotice | { kind: 'resync' }): Promise<void> {
    if (notice.kind === 'key') return;
    try {
      await this.refreshIndex();
      const keys =
        notice.kind === 'resync'
          ? new Set([...this.known, ...this.indexedKeys()])
          : new Set([modelKey(notice.tenant, notice.name)]);
      for (const key of keys) await this.announce(key);
    } catch (err) {
      this.logger.warn({ err }, 'could not follow a registry change');
    }
  }

  // `changed` while the model has ready versions; `removed` once, when a
  // model this replica served has none any more (deleted).
  private async announce(key: string): Promise<void> {
    const wasServed = this.known.has(key);
    const model = await this.readModel(key);
    if (model) this.emit({ kind: 'changed', name: key });
    else if (wasServed) this.emit({ kind: 'removed', name: key });
  }

  private emit(event: Parameters<CatalogListener>[0]): void {
    for (const listener of this.listeners) listener(event);
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
