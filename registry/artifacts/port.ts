// Where model files live once validated: the artifact store port. Keys are
// made by the registry (`<tenant>/<model>/<version>/<sha256>.onnx`, every part
// checked by registry/names.ts), never by a caller.
export interface ArtifactStore {
  readonly kind: string; // 'filesystem', 's3'
  // Stores the file at `sourcePath` under `key` (the file is left in place).
  put(key: string, sourcePath: string, sizeBytes: number): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  // Removing a key that is not there is not an error.
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

// Model files, and asynchronous jobs' inputs and result chunks
// (`_jobs/<uuid>/input.jsonl`, `_jobs/<uuid>/results-<6 digits>.jsonl`,
// docs/jobs.md): no tenant name starts with '_', so the two never meet.
export const SAFE_KEY =
  /^(?:[a-z0-9][a-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*\/[0-9]+\/[0-9a-f]{64}\.onnx|_jobs\/[0-9a-f-]{36}\/(?:input|results-[0-9]{6})\.jsonl)$/;
