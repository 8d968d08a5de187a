// The typed JS façade of the native engine addon (build/Release/maas_addon.node).
// It validates what the addon would refuse anyway, so mistakes surface with a
// clear message and a stack from the caller, and it turns the addon's
// parallel arrays into records.
import { constants as bufferConstants } from 'node:buffer';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MaasError, toMaasError } from '../common/errors';
import { findPackageRoot } from '../common/package-root';
import {
  TENSOR_TYPES,
  type DeviceInfo,
  type DeviceMemoryStats,
  type DeviceName,
  type LoadOptions,
  type Precision,
  type PlanMemory,
  type Session,
  type SessionMemory,
  type Tensor,
  type TensorMetadata,
  type TensorType,
} from './types';

export { TENSOR_TYPES } from './types';
export type {
  DeviceInfo,
  DeviceMemoryStats,
  DeviceName,
  LoadOptions,
  Precision,
  PlanMemory,
  Session,
  SessionMemory,
  Tensor,
  TensorMetadata,
  TensorType,
  TypedArray,
} from './types';

// ---- the addon's own surface -----------------------------------------------------

interface NativeTensor {
  type: string;
  dims: number[];
  data: Tensor['data'];
}

// Plans as the addon reports them: input dims in inputMetadata order.
interface NativePlanMemory {
  inputDims: number[][];
  arenaBytes: number;
  outputBytes: number;
}

interface NativeSessionHandle {
  readonly inputMetadata: TensorMetadata[];
  readonly outputMetadata: TensorMetadata[];
  readonly device: DeviceName;
  // Resolves with {outputName: tensor}, keys in the order of outputMetadata;
  // rejects with an Error carrying the engine's `code`. Runs on the addon's
  // own threads (native/src/node/run_queue.h).
  run(names: string[], tensors: NativeTensor[]): Promise<Record<string, Tensor>>;
  memory(): { weightsBytes: number; arenaReservedBytes: number; plans: NativePlanMemory[] };
  plan(dims: number[][]): Promise<NativePlanMemory>;
  release(): void;
}

interface NativeLoadOptions {
  intraOpThreads?: number;
  maxTensorBytes?: number;
  device?: string;
  precision?: string;
}

interface NativeAddon {
  loadModel(bytes: Uint8Array, options: NativeLoadOptions): Promise<NativeSessionHandle>;
  devices(): DeviceInfo[];
  deviceMemory(): DeviceMemoryStats[];
  engineTables(): EngineTables;
}

// The addon's own tables, for the test that keeps TENSOR_TYPES and the error
// registry in step with the C++ ones.
export interface EngineTables {
  dtypes: Array<{ name: string; sizeBytes: number; array: string }>;
  statusCodes: string[];
}

// ---- loading the addon -------------------------------------------------------------

const ADDON_RELATIVE_PATH = join('build', 'Release', 'maas_addon.node');
// Another build of the addon, e.g. the sanitizer build that `npm run test:asan`
// loads (CONTRIBUTING.md); a relative path is taken from the package root.
const ADDON_PATH_VARIABLE = 'MAAS_ADDON_PATH';

let addon: NativeAddon | null = null;

function loadAddon(): NativeAddon {
  if (addon) return addon;
  const root = findPackageRoot(__dirname);
  const relative = process.env[ADDON_PATH_VARIABLE] || ADDON_RELATIVE_PATH;
  const path = isAbsolute(relative) || !root ? relative : join(root, relative);
  if (!existsSync(path)) {
    throw new MaasError(
      'ENGINE_INTERNAL',
      `the native engine is not built (missing ${path}); run \`npm install\` or \`npm run build:native\` ` +
        '(needs cmake and a C++17 compiler)',
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the addon's path is known only at run time
    addon = require(path) as NativeAddon;
  } catch (err) {
    throw new MaasError(
      'ENGINE_INTERNAL',
      `cannot load the native engine at ${path}: ${(err as Error).message}; ` +
        'rebuild it with `npm run build:native` (it must match this Node.js version)',
      { cause: err },
    );
  }
  return addon;
}

// ---- validation -------------------------------------------------------------------------

function invalid(message: string): MaasError {
  return new MaasError('ENGINE_INVALID_ARGUMENT', message);
}

function isTensorType(value: unknown): value is TensorType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TENSOR_TYPES, value);
}

// Plain loops, no closures: this runs for every feed of every run.
function checkTensor(name: string, tensor: Tensor): void {
  if (tensor === null || typeof tensor !== 'object') throw invalid(`input '${name}': expected {type, dims, data}`);
  const type = tensor.type;
  if (!isTensorType(type)) throw invalid(`input '${name}': unknown tensor type ${String(type)}`);
  const dims = tensor.dims;
  if (!Array.isArray(dims)) throw invalid(`input '${name}': dims must be non-negative integers`);
  let elementCount = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (!(Number.isSafeInteger(d) && d >= 0)) throw invalid(`input '${name}': dims must be non-negative integers`);
    elementCount *= d;
  }
  const ArrayType = TENSOR_TYPES[type].array;
  const data = tensor.data;
  // The tag, not instanceof, so typed arrays from other realms (vm, workers) pass.
  const tag = ArrayBuffer.isView(data) ? (data as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : '';
  if (tag !== ArrayType.name) {
    throw invalid(`input '${name}': type ${type} needs its data in a ${ArrayType.name}`);
  }
  if (data.length !== elementCount) {
    throw invalid(`input '${name}': data has ${data.length} elements, dims [${dims.join(',')}] need ${elementCount}`);
  }
}

const PRECISIONS: readonly unknown[] = ['fp32', 'fp16', 'bf16'] satisfies Precision[];

function checkLoadOptions(options: LoadOptions | undefined): NativeLoadOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const out: NativeLoadOptions = {};
  const threads = options.intraOpThreads;
  if (threads !== undefined) {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 1024))
      throw invalid('intraOpThreads must be an integer from 1 to 1024');
    out.intraOpThreads = threads;
  }
  const maxTensorBytes = options.maxTensorBytes;
  if (maxTensorBytes !== undefined) {
    if (!(Number.isSafeInteger(maxTensorBytes) && maxTensorBytes >= 1))
      throw invalid('maxTensorBytes must be a positive integer');
    // Nothing larger can reach JS: the addon caps it the same way.
    out.maxTensorBytes = Math.min(maxTensorBytes, bufferConstants.MAX_LENGTH);
  }
  const device = options.device;
  if (device !== undefined && (typeof device !== 'string' || !/^(cpu|cuda:(0|[1-9][0-9]{0,5}))$/.test(device))) {
    throw invalid(`device must be 'cpu' or 'cuda:N', got ${JSON.stringify(device)}`);
  }
  if (device !== undefined) out.device = device;
  const precision = options.precision;
  if (precision !== undefined && !PRECISIONS.includes(precision)) {
    throw invalid(`precision must be 'fp32', 'fp16' or 'bf16', got ${JSON.stringify(precision)}`);
  }
  if (precision !== undefined) out.precision = precision;
  return out;
}

function checkPlanDims(inputs: TensorMetadata[], inputDims: Record<string, number[]>): number[][] {
  if (inputDims === null || typeof inputDims !== 'object') throw invalid('inputDims must be an object of dims');
  for (const name of Object.keys(inputDims)) {
    if (!inputs.some((input) => input.name === name)) throw invalid(`unknown input '${name}'`);
  }
  return inputs.map((input) => {
    const dims = inputDims[input.name];
    if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw invalid(`input '${input.name}': dims must be an array of non-negative integers`);
    }
    return dims;
  });
}

// ---- the session ---------------------------------------------------------------------------

class NativeSession implements Session {
  readonly inputMetadata: TensorMetadata[];
  readonly outputMetadata: TensorMetadata[];
  readonly device: DeviceName;
  private handle: NativeSessionHandle | null;
  // The input names in the addon's order, copied once: callers may mutate inputMetadata.
  private readonly inputNames: string[];

  constructor(handle: NativeSessionHandle) {
    this.handle = handle;
    this.inputMetadata = handle.inputMetadata;
    this.outputMetadata = handle.outputMetadata;
    this.device = handle.device;
    this.inputNames = handle.inputMetadata.map((m) => m.name);
  }

  // Not async: the addon's Promise is handed back as it is (no extra
  // Promise and microtask per run); mistakes still reject, never throw.
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const handle = this.handle;
    if (!handle) return Promise.reject(new MaasError('ENGINE_RELEASED', 'the session was released'));
    if (feeds === null || typeof feeds !== 'object')
      return Promise.reject(invalid('feeds must be an object of tensors'));
    const names = Object.keys(feeds);
    const tensors = new Array<NativeTensor>(names.length);
    try {
      for (let i = 0; i < names.length; i++) {
        const tensor = feeds[names[i]];
        checkTensor(names[i], tensor);
        // Handed over as is: the addon reads {type, dims, data} again and checks them.
        tensors[i] = tensor;
      }
    } catch (err) {
      return Promise.reject(toMaasError(err));
    }
    return handle.run(names, tensors);
  }

  memory(): SessionMemory {
    const handle = this.handle;
    if (!handle) throw new MaasError('ENGINE_RELEASED', 'the session was released');
    const memory = handle.memory();
    return { ...memory, plans: memory.plans.map((plan) => this.namedPlan(plan)) };
  }

  async planMemory(inputDims: Record<string, number[]>): Promise<PlanMemory> {
    const handle = this.handle;
    if (!handle) throw new MaasError('ENGINE_RELEASED', 'the session was released');
    const dims = checkPlanDims(this.inputMetadata, inputDims);
    try {
      return this.namedPlan(await handle.plan(dims));
    } catch (err) {
      throw toMaasError(err);
    }
  }

  private namedPlan(plan: NativePlanMemory): PlanMemory {
    const inputDims: Record<string, number[]> = {};
    for (let i = 0; i < this.inputNames.length; i++) inputDims[this.inputNames[i]] = plan.inputDims[i];
    return { inputDims, arenaBytes: plan.arenaBytes, outputBytes: plan.outputBytes };
  }

  release(): void {
    // In-flight runs keep the native model alive until they finish.
    this.handle?.release();
    this.handle = null;
  }
}

// ---- the API -------------------------------------------------------------------------------

export async function loadModel(bytes: Uint8Array, options?: LoadOptions): Promise<Session> {
  if (!(bytes instanceof Uint8Array)) throw invalid('loadModel expects the model bytes as a Uint8Array');
  const nativeOptions = checkLoadOptions(options);
  const native = loadAddon();
  try {
    return new NativeSession(await native.loadModel(bytes, nativeOptions));
  } catch (err) {
    throw toMaasError(err);
  }
}

// Accelerators the engine can use; [] on a CPU-only host or a host without
// a CUDA driver. Throws (ENGINE_INTERNAL, saying how to build it) when the
// addon itself is missing or does not load: "no devices" must not hide a
// broken install.
export function devices(): DeviceInfo[] {
  return loadAddon().devices();
}

// The CUDA caching allocators' statistics, per device a session was
// created on; [] on a CPU-only build or host.
export function deviceMemory(): DeviceMemoryStats[] {
  return loadAddon().deviceMemory();
}

// The addon's dtype and status-code tables (see EngineTables).
export function engineTables(): EngineTables {
  return loadAddon().engineTables();
}
