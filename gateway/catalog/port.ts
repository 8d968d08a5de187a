// Where models come from: the catalog port. The serving layer asks a
// catalog which models exist, reads one model's config and version bytes
// from it, and follows its change notifications; it never knows whether the
// source is a directory (filesystem.ts, Triton's repository layout) or the
// registry (PostgreSQL and an object store, docs/architecture.md).
//
// Contract for adapters:
// - Names are the catalog's own; an adapter returns null for a name it does
//   not hold (including names it refuses, such as path traversal), never throws
//   for that.
// - readModel() is a snapshot: the config as stored (unchecked; the serving
//   layer checks it with catalog/model-config.ts) and every version the
//   catalog holds, ascending by number. Which versions are served is the
//   serving layer's call (the config's version_policy, or defaultVersion).
// - A version's fingerprint changes whenever its bytes may have changed; an
//   unchanged fingerprint (and config) lets a reload keep the running
//   runtime instead of loading the same bytes again.
// - subscribe() reports changes after they happen (a poll, a database
//   notification); the serving layer then reads the model again. Events may
//   repeat or coalesce; a listener must be idempotent.

export interface CatalogVersion {
  readonly version: string; // digits, no leading zeros
  readonly fingerprint: string;
  readonly sizeBytes: number;
  // The model file's bytes (ONNX). May reject (the file vanished, a read
  // failed); the serving layer reports that version as UNAVAILABLE.
  read(): Promise<Uint8Array>;
}

export interface CatalogModel {
  readonly name: string;
  // The stored configuration as parsed JSON; undefined when the model has none.
  readonly config: unknown;
  // Set when the stored configuration cannot be read at all (e.g. not JSON).
  readonly configError?: string;
  // Set when the model as a whole cannot be served as stored (e.g. two
  // version directories naming one version).
  readonly problem?: string;
  readonly versions: readonly CatalogVersion[];
  // The version served when a request names none, when the catalog decides
  // it (a registry alias such as `production`); otherwise the newest ready one.
  readonly defaultVersion?: string;
}

export type CatalogEvent = { kind: 'changed'; name: string } | { kind: 'removed'; name: string };

export type CatalogListener = (event: CatalogEvent) => void;

export interface ModelCatalog {
  readonly kind: string; // 'filesystem', 'registry'; for logs and the index
  listModels(): Promise<string[]>;
  readModel(name: string): Promise<CatalogModel | null>;
  // Starts following changes (if the adapter can); returns the unsubscribe.
  subscribe(listener: CatalogListener): () => void;
  close(): Promise<void>;
}
