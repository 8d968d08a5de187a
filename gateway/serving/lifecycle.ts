// Loading, reloading and unloading models while traffic flows
// (docs/architecture.md "Model lifecycle"). Reads models from the catalog,
// builds runtimes for the versions to serve, swaps them into the routing
// table in one step, and retires what they replaced:
// - a reload keeps runtimes whose bytes and config did not change, loads the
//   others beside the serving ones, and swaps only once all loaded; if any
//   failed while the model was serving, nothing changes (what served stays)
//   and the load fails with the reasons;
// - a replaced runtime finishes what it already queued (its batcher sends
//   it at once), then frees its sessions, within the drain deadline;
// - an unload stops routing at once, drains, then frees the sessions.
// Operations on one model run one after another (a per-model chain); on
// different models they may overlap.
import { MaasError, toMaasError } from '../../common/errors';
import { withDeadline } from '../../common/timers';
import type { Logger } from '../../common/logger';
import type { ModelConfig, VersionPolicyConfig } from '../catalog/config-types';
import { parseModelConfig } from '../catalog/model-config';
import type { CatalogEvent, CatalogModel, CatalogVersion, ModelCatalog } from '../catalog/port';
import type { ModelTable, ModelSlot, VersionEntry } from './model-table';
import { isRuntime } from './model-table';
import { loadRuntime, type LoaderDeps } from './runtime-loader';
import type { ControlMode } from './types';
import type { VersionRuntime } from './version-runtime';
import { tenantModel, type LifecycleSink } from '../../events/port';

export interface LifecycleOptions {
  catalog: ModelCatalog;
  table: ModelTable;
  loader: LoaderDeps;
  logger: Logger;
  controlMode: ControlMode;
  // explicit mode: what to load at start ('*' = everything the catalog holds).
  startupModels?: readonly string[];
  drainDeadlineMs: number; // how long a retired runtime may take to finish its work
  events?: LifecycleSink;
}

export interface ReconcileOptions {
  configOverride?: unknown; // a load request's `config`, parsed JSON
}

export class ModelLifecycle {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly retiring = new Set<Promise<void>>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: LifecycleOptions) {}

  // Loads what the control mode says, then follows the catalog's events (not in explicit mode).
  async start(): Promise<void> {
    const { catalog, controlMode, startupModels = [] } = this.options;
    let names: readonly string[];
    if (controlMode === 'explicit') {
      names = startupModels.includes('*') ? await catalog.listModels() : startupModels;
    } else {
      names = await catalog.listModels();
    }
    for (const name of names) {
      await this.serialize(name, () => this.reconcile(name, {}).catch((err) => this.logFailure(name, err)));
    }
    // Poll mode follows the repository's scans; in `none` mode only catalogs
    // that report changes by themselves (the registry) send any.
    if (controlMode !== 'explicit') this.unsubscribe = catalog.subscribe((event) => this.onCatalogEvent(event));
  }

  load(name: string, options: ReconcileOptions): Promise<void> {
    return this.serialize(name, () => this.reconcile(name, options));
  }

  unload(name: string): Promise<void> {
    return this.serialize(name, () => this.unloadNow(name));
  }

  // Every batcher sends what it holds without waiting for more (shutdown).
  flush(): void {
    for (const slot of this.options.table.all()) for (const rt of slot.runtimes()) rt.flush();
  }

  // Stops following the catalog, drains every runtime within deadlineMs and
  // frees all sessions.
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    // Loads in progress notice `closed` and release what they loaded.
    await withDeadline(Promise.all([...this.chains.values()]), deadlineMs);
    const all: Promise<void>[] = [...this.retiring];
    for (const slot of this.options.table.all()) {
      for (const rt of slot.runtimes()) all.push(this.retire(rt, deadlineMs, 'server shut down'));
    }
    await Promise.all(all);
  }

  private onCatalogEvent(event: CatalogEvent): void {
    if (this.closed) return;
    const { name } = event;
    void this.serialize(name, async () => {
      try {
        if (event.kind === 'removed') await this.unloadNow(name, 'removed from the repository');
        else await this.reconcile(name, {});
      } catch (err) {
        this.logFailure(name, err);
      }
    });
  }

  private serialize(name: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.chains.set(name, tail);
    void tail.then(() => {
      if (this.chains.get(name) === tail) this.chains.delete(name);
    });
    return next;
  }

  // Brings the table in line with the catalog for one model.
  private async reconcile(name: string, options: ReconcileOptions): Promise<void> {
    if (this.closed) throw new MaasError('SHUTTING_DOWN', 'the server is shutting down');
    const { table, catalog, logger } = this.options;
    const model = await catalog.readModel(name);
    if (!model) {
      if (table.get(name) && !table.get(name)!.unloaded) await this.unloadNow(name, 'removed from the repository');
      throw new MaasError('MODEL_NOT_FOUND', `no model '${name}' in the ${catalog.kind} catalog`);
    }
    const slot = table.ensure(name);
    const serving = slot.runtimes().some((rt) => rt.state === 'READY');
    let config: ModelConfig;
    let selected: CatalogVersion[];
    try {
      ({ config, selected } = this.plan(model, options));
    } catch (err) {
      const reason = toMaasError(err).message;
      if (!serving) slot.install(new Map(), reason);
      throw new MaasError('MODEL_LOAD_FAILED', `model '${name}': ${reason}`, { cause: err });
    }
    const configText = JSON.stringify(config);
    const next = new Map<string, VersionEntry>();
    const fresh: VersionRuntime[] = [];
    const failures: string[] = [];
    for (const source of selected) {
      const current = slot.versions.get(source.version);
      if (
        current &&
        isRuntime(current) &&
        current.state === 'READY' &&
        current.fingerprint === `${source.fingerprint}|${configText}`
      ) {
        next.set(source.version, current);
        continue;
      }
      try {
        const rt = await loadRuntime(this.options.loader, config, source, configText);
        fresh.push(rt);
        next.set(source.version, rt);
      } catch (err) {
        const reason = toMaasError(err).message;
        failures.push(`version ${source.version}: ${reason}`);
        next.set(source.version, { version: source.version, state: 'UNAVAILABLE', reason });
      }
    }
    if (this.closed) {
      // The server began shutting down while this loaded: nothing new serves.
      await Promise.all(fresh.map((rt) => this.retire(rt, 0, 'server shut down')));
      throw new MaasError('SHUTTING_DOWN', 'the server is shutting down');
    }
    if (failures.length > 0 && serving) {
      // Atomic: what served keeps serving; nothing half-swapped.
      await Promise.all(fresh.map((rt) => this.retire(rt, 0, 'load failed')));
      throw new MaasError(
        'MODEL_LOAD_FAILED',
        `model '${name}' not reloaded (the loaded versions keep serving): ${failures.join('; ')}`,
      );
    }
    const replaced = slot.runtimes().filter((rt) => next.get(rt.version) !== rt);
    slot.install(next, '', model.defaultVersion);
    for (const rt of fresh) {
      logger.info({ model: name, version: rt.version }, serving ? 'model version swapped in' : 'model version ready');
      this.options.events?.emit({ type: 'model.loaded', ...tenantModel(name), version: rt.version });
    }
    for (const rt of replaced) void this.retire(rt, this.options.drainDeadlineMs, 'replaced by a reload');
    if (failures.length > 0) throw new MaasError('MODEL_LOAD_FAILED', `model '${name}': ${failures.join('; ')}`);
  }

  // The checked config and the versions to serve; throws what makes the
  // model as a whole unservable.
  private plan(model: CatalogModel, options: ReconcileOptions): { config: ModelConfig; selected: CatalogVersion[] } {
    if (options.configOverride === undefined && model.configError)
      throw new MaasError('INVALID_REQUEST', model.configError);
    const config = parseModelConfig(model.name, options.configOverride ?? model.config);
    if (model.problem) throw new MaasError('INVALID_REQUEST', model.problem);
    const selected = selectVersions(model.versions, config.version_policy, model.defaultVersion);
    if (selected.length === 0) throw new MaasError('INVALID_REQUEST', 'no version directory with model.onnx found');
    return { config, selected };
  }

  private async unloadNow(name: string, why = 'unloaded'): Promise<void> {
    const slot = this.options.table.get(name);
    if (!slot) throw new MaasError('MODEL_NOT_FOUND', `model '${name}' is not loaded`);
    slot.closeRouting('UNLOADING', why);
    await Promise.all(slot.runtimes().map((rt) => this.retire(rt, this.options.drainDeadlineMs, why)));
    this.markUnloaded(slot, why);
    this.options.logger.info({ model: name, reason: why }, 'model unloaded');
    this.options.events?.emit({ type: 'model.unloaded', ...tenantModel(name), reason: why });
  }

  private markUnloaded(slot: ModelSlot, why: string): void {
    slot.install(new Map(), why);
    slot.unloaded = true;
  }

  private retire(rt: VersionRuntime, deadlineMs: number, why: string): Promise<void> {
    const done = rt.retire(deadlineMs, why, (released) => this.options.loader.threads.give(released.engineThreads));
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
    return done;
  }

  private logFailure(name: string, err: unknown): void {
    this.options.logger.error({ model: name, reason: toMaasError(err).message }, 'model failed to load');
  }
}

// Which versions to serve, per the config's version_policy (Triton's
// default is the latest one); a catalog's default version is always served.
export function selectVersions(
  versions: readonly CatalogVersion[],
  policy: VersionPolicyConfig | undefined,
  defaultVersion?: string,
): CatalogVersion[] {
  let picked: CatalogVersion[];
  if (policy?.all) {
    picked = [...versions];
  } else if (policy?.specific) {
    const wanted = new Set(policy.specific.versions.map(String));
    picked = versions.filter((v) => wanted.has(v.version));
  } else {
    picked = versions.slice(-Math.max(1, policy?.latest?.num_versions ?? 1));
  }
  const alias = defaultVersion === undefined ? undefined : versions.find((v) => v.version === defaultVersion);
  if (alias && !picked.includes(alias)) picked.push(alias);
  return picked;
}
