// What the front ends may ask of the serving layer. Data plane
// (ModelService): lookup, metadata, config, readiness, statistics and
// inference. Control plane (ModelRepository): Triton's repository
// extension, index, load and unload. Front ends depend only on these two
// interfaces (docs/architecture.md).
import type { ModelConfig } from '../catalog/config-types';
import type { ModelMetadata, ModelStatistics, RepositoryIndexEntry } from '../inference/model-types';
import type { InferRequest, InferResult } from '../inference/types';

export type { ModelConfig } from '../catalog/config-types';
export type {
  ModelMetadata,
  ModelStatistics,
  RepositoryIndexEntry,
  ModelState,
  TensorMetadata,
} from '../inference/model-types';

export interface ModelService {
  // true when every model the server knows is ready (strict readiness).
  isReady(): boolean;
  // Throws MaasError MODEL_NOT_FOUND / MODEL_VERSION_NOT_FOUND / MODEL_NOT_READY.
  metadata(name: string, version?: string): ModelMetadata;
  config(name: string, version?: string): ModelConfig;
  // false (never throws) for an unknown or unready model/version.
  isModelReady(name: string, version?: string): boolean;
  // name undefined = all models; throws MODEL_NOT_FOUND for an unknown name.
  statistics(name?: string, version?: string): ModelStatistics[];
  // Validates inputs against the model (names, datatypes, shapes, batch size)
  // and runs them through the model's batcher. Rejects with MaasError.
  infer(request: InferRequest): Promise<InferResult>;
}

// Triton's --model-control-mode (docs/protocol.md "Model repository").
export type ControlMode = 'none' | 'explicit' | 'poll';

export interface LoadRequest {
  // A model configuration (JSON text) that replaces the catalog's for this
  // load (Triton's `config` parameter); checked like config.json.
  configJson?: string;
}

export interface ModelRepository {
  readonly controlMode: ControlMode;
  // Every model the catalog holds, each version with its state and reason.
  index(readyOnly: boolean): Promise<RepositoryIndexEntry[]>;
  // Loads or reloads a model; resolves once the new versions serve (a
  // reload swaps atomically). MODEL_CONTROL_DISABLED outside explicit mode,
  // MODEL_NOT_FOUND when the catalog has no such model, MODEL_LOAD_FAILED
  // with the reason when it cannot be served (what served before stays).
  load(name: string, request?: LoadRequest): Promise<void>;
  // Stops routing to the model, lets in-flight work finish (bounded by the
  // drain deadline), then frees its sessions. MODEL_CONTROL_DISABLED
  // outside explicit mode, MODEL_NOT_FOUND for a model that is not loaded.
  unload(name: string): Promise<void>;
}
