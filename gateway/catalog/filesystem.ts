// The filesystem catalog: Triton's repository layout (docs/protocol.md
// "Model repository"): <repo>/<model>/config.json and
// <repo>/<model>/<version>/model.onnx. With a poll interval it rescans the
// directory and reports what changed (Triton's --model-control-mode=poll).
//
// Timers: the poll timer belongs to this object; it runs only while
// someone is subscribed, never overlaps a scan with the next, is unref'd (a
// catalog alone does not keep the process alive) and stops on close().
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { timerMs } from '../../common/timers';
import type { CatalogEvent, CatalogListener, CatalogModel, CatalogVersion, ModelCatalog } from './port';

const VERSION_DIR = /^[0-9]+$/;
export const MODEL_FILE_NAME = 'model.onnx';
const CONFIG_FILE_NAME = 'config.json';

export interface FilesystemCatalogOptions {
  pollIntervalMs?: number; // 0 (default): no polling; subscribe() reports nothing
}

export class FilesystemCatalog implements ModelCatalog {
  readonly kind = 'filesystem';
  private readonly listeners = new Set<CatalogListener>();
  private timer: NodeJS.Timeout | null = null;
  private scanning = false;
  private closed = false;
  // Per model: what the last scan saw (config and versions), to tell changes.
  private signatures = new Map<string, string>();

  constructor(
    readonly directory: string,
    private readonly options: FilesystemCatalogOptions = {},
  ) {}

  async listModels(): Promise<string[]> {
    let entries;
    try {
      entries = await fs.readdir(this.directory, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new Error(`model repository '${this.directory}' is not a directory`, { cause: err });
      throw err;
    }
    return entries
      .filter((e) => e.isDirectory() && isModelName(e.name))
      .map((e) => e.name)
      .sort();
  }

  async readModel(name: string): Promise<CatalogModel | null> {
    if (!isModelName(name)) return null;
    const dir = path.join(this.directory, name);
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    const { config, configError } = await readConfig(path.join(dir, CONFIG_FILE_NAME));
    const { versions, problem } = await readVersions(
      dir,
      entries.filter((e) => e.isDirectory() && VERSION_DIR.test(e.name)).map((e) => e.name),
    );
    const model: { -readonly [K in keyof CatalogModel]: CatalogModel[K] } = { name, config, versions };
    if (configError !== undefined) model.configError = configError;
    if (problem !== undefined) model.problem = problem;
    return model;
  }

  subscribe(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && (this.options.pollIntervalMs ?? 0) > 0) void this.startPolling();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopPolling();
    return Promise.resolve();
  }

  // The first scan only records what is there; later ones report changes.
  private async startPolling(): Promise<void> {
    await this.scan(false);
    this.armTimer();
  }

  private armTimer(): void {
    if (this.closed || this.listeners.size === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.scan(true).finally(() => this.armTimer());
      },
      timerMs(this.options.pollIntervalMs ?? 0),
    );
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async scan(report: boolean): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      const seen = new Map<string, string>();
      let names: string[] = [];
      try {
        names = await this.listModels();
      } catch {
        // The directory vanished: every model is gone until it is back.
      }
      for (const name of names) {
        const model = await this.readModel(name);
        if (model) seen.set(name, signature(model));
      }
      const events: CatalogEvent[] = [];
      for (const [name, sig] of seen) if (this.signatures.get(name) !== sig) events.push({ kind: 'changed', name });
      for (const name of this.signatures.keys()) if (!seen.has(name)) events.push({ kind: 'removed', name });
      this.signatures = seen;
      if (report && !this.closed) for (const event of events) for (const listener of this.listeners) listener(event);
    } finally {
      this.scanning = false;
    }
  }
}

// A model directory name: no separators, nothing hidden ('.', '..', '.git').
export function isModelName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.') && !/[/\\\0]/.test(name);
}

async function readConfig(file: string): Promise<{ config: unknown; configError?: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: undefined };
    return { config: undefined, configError: `config.json cannot be read: ${(err as Error).message}` };
  }
  try {
    return { config: JSON.parse(text) };
  } catch (err) {
    return { config: undefined, configError: `config.json is not valid JSON: ${(err as Error).message}` };
  }
}

async function readVersions(
  dir: string,
  versionDirs: string[],
): Promise<{ versions: CatalogVersion[]; problem?: string }> {
  versionDirs.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  const versions: CatalogVersion[] = [];
  const dirOfVersion = new Map<string, string>();
  let problem: string | undefined;
  for (const v of versionDirs) {
    const modelPath = path.join(dir, v, MODEL_FILE_NAME);
    let stat;
    try {
      stat = await fs.stat(modelPath);
    } catch {
      continue; // a version directory without a model file is not a version
    }
    const version = String(Number(v));
    const other = dirOfVersion.get(version);
    if (other !== undefined) {
      // Which one is meant is the operator's call, so the model does not load.
      problem ??= `version directories '${other}' and '${v}' both name version ${version}; rename or remove one`;
      continue;
    }
    dirOfVersion.set(version, v);
    versions.push({
      version,
      fingerprint: `${stat.size}:${stat.mtimeMs}:${stat.ino}`,
      sizeBytes: stat.size,
      read: () => fs.readFile(modelPath),
    });
  }
  return problem === undefined ? { versions } : { versions, problem };
}

function signature(model: CatalogModel): string {
  return JSON.stringify([
    model.config ?? null,
    model.configError ?? '',
    model.problem ?? '',
    model.versions.map((v) => [v.version, v.fingerprint]),
  ]);
}
